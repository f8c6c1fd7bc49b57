"""Masking of personal data in residents' comments, before storage."""


def mask_personal_data(text: str) -> str:
    return text
