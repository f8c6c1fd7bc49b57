"""Each API answer speaks one language: Dutch by default (KTO's own messages and Django REST
framework's, with the Dutch its catalogue lacks added in surveys/locale/nl), English with
Accept-Language: en."""

import json

BAD = {"channel": "fax", "contact_moment": "gisteren", "reference": ["een", "lijst"], "language": "nl"}


def messages(answer) -> str:
    return json.dumps(answer.json(), ensure_ascii=False)


def test_errors_are_all_dutch_by_default(api):
    answer = api.post("/api/v1/contacts/", BAD)
    assert answer.status_code == 400
    text = messages(answer)
    assert "Geen geldige tekst." in text  # Django REST framework's, in Dutch
    assert "ISO 8601" in text and "Geef een datum en tijd" in text  # KTO's own
    assert "is een ongeldige keuze." in text
    assert "Not a valid string" not in text and "is not a valid choice" not in text
    assert answer["Content-Language"] == "nl"


def test_errors_are_all_english_with_accept_language_en(api):
    answer = api.post("/api/v1/contacts/", BAD, headers={"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"})
    assert answer.status_code == 400
    text = messages(answer)
    assert "Not a valid string." in text and "is not a valid choice." in text
    assert "Give a date and time in ISO 8601 with a time zone" in text
    assert "Geen geldige" not in text and "Geef een" not in text
    assert answer["Content-Language"] == "en"


def test_another_language_gets_dutch(api):
    answer = api.post("/api/v1/contacts/", BAD, headers={"HTTP_ACCEPT_LANGUAGE": "de"})
    assert "Geen geldige tekst." in messages(answer)
