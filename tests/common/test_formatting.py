"""Numbers for people: Dutch in Dutch, English in English."""

from django.utils import translation

from surveys.common.formatting import format_count, format_difference, format_percent, format_score


def test_numbers_are_formatted_the_dutch_way_in_dutch_and_the_english_way_in_english():
    with translation.override("nl"):
        assert format_score(8.3) == "8,3"
        assert format_score(8.25) == "8,3"
        assert format_score(8.249) == "8,2"
        assert format_percent(0.13) == "13%"
        assert format_percent(0.125, 1) == "12,5%"
        assert format_count(538000) == "538.000"
        assert format_difference(0.2) == "+0,2"
        assert format_difference(-0.31) == "\u22120,3"
        assert format_score(None) == ""
    with translation.override("en"):
        assert format_score(8.3) == "8.3"
        assert format_percent(0.13) == "13%"
        assert format_count(538000) == "538,000"
        assert format_difference(0.25) == "+0.3"
