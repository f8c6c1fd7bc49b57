"""The demo municipalities of the seed reports: their published figures (figures.py), synthetic
responses that reproduce them (generate.py, comments.py) and the seed itself (seed.py)."""
