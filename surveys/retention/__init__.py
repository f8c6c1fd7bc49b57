"""Retention (the AVG's storage limitation): comments erased and raw data deleted after each
organisation's terms, daily; the month and year figures stay, as the rollups hold them."""
