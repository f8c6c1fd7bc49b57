"""Issue 16's targets on the corpora (corpus.jsonl, written for the tests, and heldout.jsonl,
written afterwards by someone who had not seen the masking code): no BSN, phone number, e-mail
address, IBAN, postcode with house number or date of birth survives; names and street addresses
at least 95% masked; at most 2% of the figures that must survive are lost. docs/masking.md has
the full report (bench/masking_corpus.py)."""

import pytest

from surveys.responses.masking import mask_personal_data
from tests.responses.masking.corpus import CORPORA, evaluate

ALWAYS = ("BSN", "TELEFOON", "E-MAIL", "IBAN", "POSTCODE", "GEBOORTEDATUM")


@pytest.fixture(scope="module", params=sorted(CORPORA))
def report(request):
    return evaluate(mask_personal_data, CORPORA[request.param])


def test_the_corpus_is_big_enough(report):
    assert report.comments >= 200
    assert report.total["NAAM"] >= 100 and report.total["ADRES"] >= 30


@pytest.mark.parametrize("category", ALWAYS)
def test_no_identifier_survives(report, category):
    assert report.total[category] > 0
    assert [miss for miss in report.misses if miss[0] == category] == []


@pytest.mark.parametrize("category", ["NAAM", "ADRES"])
def test_names_and_addresses_are_at_least_95_percent_masked(report, category):
    assert report.recall(category) >= 0.95, [miss for miss in report.misses if miss[0] == category]


def test_at_most_2_percent_of_what_must_survive_is_lost(report):
    assert report.keep_lost_share <= 0.02, report.keep_lost
