from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.invitations.models import Contact, Invitation

URL = "/api/v1/contacts/bulk/"


NOW = timezone.now()


def item(n: int, **fields):
    moment = (NOW - timedelta(hours=2, minutes=n)).isoformat()  # the same for a retried item
    return {"channel": "telefoon", "contact_moment": moment, "reference": f"call-{n}", **fields}


@pytest.mark.django_db
def test_bulk_registers_every_contact_and_answers_in_order(api):
    contacts = [item(n) for n in range(5)]
    answer = api.post(URL, {"contacts": contacts})

    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["reference"] for r in results] == [f"call-{n}" for n in range(5)]
    assert all(r["created"] and r["invited"] for r in results)
    assert all(len(r["invitation"]["one_click_urls"]) == 10 for r in results)
    assert Contact.objects.count() == 5


@pytest.mark.django_db
def test_a_bad_item_is_reported_by_index_and_nothing_is_stored(api):
    contacts = [item(n) for n in range(6)]
    contacts[3]["recipient"] = "geen-adres"
    contacts[3]["method"] = "email"
    contacts[5] = ["not", "an", "object"]

    answer = api.post(URL, {"contacts": contacts})

    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [e["index"] for e in errors] == [3, 5]
    assert "e-mailadres" in errors[0]["errors"]["recipient"][0]
    assert errors[1]["errors"]["non_field_errors"]
    assert Contact.objects.count() == 0
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_more_than_1000_contacts_are_refused(api):
    answer = api.post(URL, {"contacts": [item(0)] * 1001})
    assert answer.status_code == 400
    assert "1000" in answer.json()["contacts"][0]
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_1000_contacts_are_accepted(api):
    answer = api.post(URL, {"contacts": [item(n) for n in range(1000)]})
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == 1000
    assert Contact.objects.count() == 1000


@pytest.mark.django_db
def test_references_already_known_return_the_first_result(api):
    api.post(URL, {"contacts": [item(1)]})
    answer = api.post(URL, {"contacts": [item(1), item(2), item(2)]})

    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["created"] for r in results] == [False, True, False]
    assert results[1]["id"] == results[2]["id"]
    assert results[2]["invitation"]["url"] is None
    assert Contact.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "contacts"),
        ({"contacts": []}, "contacts"),
        ({"contacts": {"0": {}}}, "contacts"),
        ({"contacts": "alles"}, "contacts"),
        ([], "non_field_errors"),
    ],
)
def test_a_bad_envelope_gets_a_message(api, body, field):
    answer = api.post(URL, body)
    assert answer.status_code == 400
    assert answer.json()[field]


@pytest.mark.django_db
def test_bulk_needs_a_key(organisation, client):
    answer = client.post(URL, {"contacts": [item(0)]}, content_type="application/json")
    assert answer.status_code == 401
