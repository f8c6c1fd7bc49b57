"""Numbers for people, in the active language: "8,3", "13%", "538.000" in Dutch; "8.3", "13%",
"538,000" in English. Rounding is half-up (8,25 is shown as 8,3), as readers of reports expect."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

MINUS = "\u2212"


def _rounded(value: float | int | Decimal, decimals: int) -> Decimal:
    # Through str() so that 8.25 stays 8.25 instead of 8.2499999...
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_number(value: float | int | Decimal | None, decimals: int = 0) -> str:
    """A number with the language's decimal separator and thousands grouping; "" for None."""
    if value is None:
        return ""
    return number_format(_rounded(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def format_score(value: float | None, decimals: int = 1) -> str:
    """A rapportcijfer or another mean: one decimal ("8,3")."""
    return format_number(value, decimals)


def format_count(value: int | None) -> str:
    """A count with thousands grouping ("538.000")."""
    return format_number(value, 0)


def format_percent(share: float | None, decimals: int = 0) -> str:
    """A share (0..1) as a percentage ("13%")."""
    if share is None:
        return ""
    return f"{format_number(share * 100, decimals)}%"


def format_difference(value: float | None, decimals: int = 1) -> str:
    """A signed difference ("+0,2", "−0,3", "0,0")."""
    if value is None:
        return ""
    rounded = _rounded(value, decimals)
    text = format_number(abs(rounded), decimals)
    if rounded > 0:
        return f"+{text}"
    if rounded < 0:
        return f"{MINUS}{text}"
    return text


__all__ = ["format_count", "format_difference", "format_number", "format_percent", "format_score"]
