"""The few helpers every domain uses: time (the Amsterdam calendar), tokens, number formatting,
fast inserts with COPY and the residents' language."""
