"""Numbers in the staff pages and the reports, in the active language (surveys/common/formatting.py)."""

from django import template

from surveys.common import formatting

register = template.Library()


def _blank_for_missing(format_value):
    """A missing value in a template ("", from a figure that is not there) shows as ""."""
    return lambda value: "" if value is None or value == "" else format_value(value)


register.filter("score", _blank_for_missing(formatting.format_score))
register.filter("count", _blank_for_missing(formatting.format_count))
register.filter("percent", _blank_for_missing(formatting.format_percent))
register.filter("difference", _blank_for_missing(formatting.format_difference))


@register.filter
def change(share: float | None) -> str:
    """A change as a signed percentage ("−6%", "+12%")."""
    if share is None or share == "":
        return ""
    text = formatting.format_difference(share * 100, 0)
    return f"{text}%"


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)


@register.filter
def score_or_whole(value) -> str:
    """A percentage kerncijfer: "90", or "90,5" when it has decimals."""
    return formatting.format_number(value, 0 if float(value) == int(value) else 1)
