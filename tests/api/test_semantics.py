"""The API's answers to requests that would quietly change what is stored: a reference re-posted
with other data (409 naming the fields), a token that already has the resident's one-click score
(409, the score stays), a contact or response dated further back than the window (400)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.invitations.contacts import register_contact
from surveys.invitations.models import Contact
from surveys.organisations.models import Channel
from surveys.responses import services
from surveys.responses.models import Response, Source


def contact(**overrides) -> dict:
    return {
        "channel": "balie",
        "contact_moment": "2026-12-01T10:00:00+01:00",
        "reference": "zaak-1",
        "language": "nl",
        **overrides,
    }


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to("2026-12-02T09:00:00+01:00")


def test_a_reference_re_posted_with_other_data_is_a_409_naming_the_fields(api, organisation):
    assert api.post("/api/v1/contacts/", contact()).status_code == 201
    assert api.post("/api/v1/contacts/", contact()).status_code == 200  # the same again: safe to retry
    answer = api.post("/api/v1/contacts/", contact(channel="email", contact_moment="2026-12-01T11:00:00+01:00"))
    assert answer.status_code == 409
    body = answer.json()
    assert body["fields"] == ["channel", "contact_moment"]
    assert body["detail"] == "Dit kenmerk (reference) is al geregistreerd met andere gegevens: channel, contact_moment."
    assert Contact.objects.get().channel == "balie"  # nothing changed


def test_in_bulk_a_conflicting_reference_is_a_409_by_index_and_nothing_is_stored(api, organisation):
    api.post("/api/v1/contacts/", contact())
    batch = {"contacts": [contact(reference="zaak-2"), contact(language="en")]}
    answer = api.post("/api/v1/contacts/bulk/", batch)
    assert answer.status_code == 409
    assert answer.json()["conflicts"] == [{"index": 1, "reference": "zaak-1", "fields": ["language"]}]
    assert Contact.objects.count() == 1


def test_a_token_with_the_residents_one_click_score_cannot_be_re_scored(api, organisation):
    result = register_contact(
        organisation=organisation, channel=Channel.BALIE, contact_moment=timezone.now() - timedelta(hours=1)
    )
    services.record_one_click(invitation=result.invitation, score=9)
    answer = api.post(
        "/api/v1/responses/",
        {"channel": "balie", "score": 7, "invitation_token": result.token},
    )
    assert answer.status_code == 409
    assert "al een rapportcijfer van de inwoner" in answer.json()["detail"]
    response = Response.objects.get()
    assert (response.score, response.source) == (9, Source.ONE_CLICK)


@pytest.mark.parametrize("path", ["/api/v1/contacts/", "/api/v1/responses/"])
def test_a_moment_more_than_31_days_back_is_refused(api, organisation, path):
    old = contact(contact_moment="2026-10-31T09:00:00+01:00", score=8)
    answer = api.post(path, old)
    assert answer.status_code == 400
    assert "meer dan 31 dagen terug" in answer.json()["contact_moment"][0]
    assert not Contact.objects.exists() and not Response.objects.exists()
    assert api.post(path, {**old, "contact_moment": "2026-11-02T10:00:00+01:00"}).status_code in (200, 201)
