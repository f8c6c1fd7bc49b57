"""Masking of personal data in what residents and staff write, before it is stored.

A comment is free text; residents write their BSN, phone number, e-mail address, name or
address in it "so the municipality can reach them", and name the staff who helped them
("mevrouw Jansen was vriendelijk"). None of that may be stored. Each finding becomes a
placeholder that says what was there ("[NAAM]", "[ADRES]", "[TELEFOON]"), so the comment keeps
its meaning; scores, amounts, times, appointment dates, years, "14 030" and place names survive.

Identifiers with a shape go first (``identifiers``: check digits and patterns), then names and
street addresses (``names``: deduce's Dutch lookups), which would otherwise see the digits of a
phone number as a house number. docs/masking.md reports what the test corpus shows.
"""

from .identifiers import mask_identifiers
from .names import load, mask_names_and_addresses

__all__ = ["load", "mask_personal_data"]


def mask_personal_data(text: str) -> str:
    """``text`` with every piece of personal data replaced by a placeholder."""
    if not text:
        return text
    return mask_names_and_addresses(mask_identifiers(text))
