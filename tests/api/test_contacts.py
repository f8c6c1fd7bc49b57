from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.invitations.models import Contact, Invitation
from surveys.organisations.models import OrganisationChannel

URL = "/api/v1/contacts/"


def moment(**delta) -> str:
    return (timezone.now() - timedelta(hours=1) + timedelta(**delta)).isoformat()


def contact(**fields):
    return {"channel": "telefoon", "contact_moment": moment(), "reference": "call-1", **fields}


@pytest.mark.django_db
def test_a_new_contact_is_invited_with_working_links(api, client):
    answer = api.post(URL, contact(language="en"))

    assert answer.status_code == 201
    body = answer.json()
    assert body["created"] is True
    assert body["invited"] is True
    assert body["reason"] is None
    assert body["reference"] == "call-1"
    invitation = body["invitation"]
    assert invitation["url"].endswith("?lang=en")
    assert [link["score"] for link in invitation["one_click_urls"]] == list(range(1, 11))
    assert invitation["expires_at"]
    assert invitation["delivery"] is None
    # The link opens the form for this organisation.
    page = client.get(invitation["url"].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200


@pytest.mark.django_db
def test_the_same_reference_twice_creates_one_contact_and_returns_the_first(api):
    payload = contact()
    first = api.post(URL, payload).json()
    again = api.post(URL, payload)  # a retry: the same request once more

    assert again.status_code == 200
    body = again.json()
    assert body["id"] == first["id"]
    assert body["created"] is False
    assert body["channel"] == "telefoon"
    assert body["invitation"]["expires_at"] == first["invitation"]["expires_at"]
    assert body["invitation"]["status"] == "created"
    assert body["invitation"]["url"] is None
    assert body["invitation"]["one_click_urls"] is None
    assert Contact.objects.count() == 1
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
def test_contacts_without_reference_are_each_registered(api):
    api.post(URL, contact(reference=""))
    api.post(URL, contact(reference=""))
    assert Contact.objects.count() == 2


@pytest.mark.django_db
def test_a_disabled_channel_is_an_outcome_not_an_error(api, organisation):
    OrganisationChannel.objects.filter(organisation=organisation, channel="chat").update(enabled=False)
    answer = api.post(URL, contact(channel="chat"))
    assert answer.status_code == 201
    assert answer.json()["invited"] is False
    assert answer.json()["reason"] == "channel_disabled"
    assert answer.json()["invitation"] is None


@pytest.mark.django_db
def test_an_email_invitation_is_sent_by_kto(api):
    answer = api.post(URL, contact(recipient="inwoner@example.nl", method="email"))
    assert answer.status_code == 201
    delivery = answer.json()["invitation"]["delivery"]
    assert delivery["method"] == "email"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"channel": "fax"}, "channel", "ongeldige keuze"),
        ({"contact_moment": "2026-03-02T14:30:00"}, "contact_moment", "tijdzone"),
        ({"contact_moment": "gisteren"}, "contact_moment", "ISO 8601"),
        ({"contact_moment": 1700000000}, "contact_moment", "ISO 8601"),
        ({"contact_moment": "9999-12-31T23:59:59-14:00"}, "contact_moment", "tussen"),
        ({"contact_moment": "0001-01-01T00:00:00+14:00"}, "contact_moment", "tussen"),
        ({"contact_moment": moment(days=3)}, "contact_moment", "tussen"),
        ({"language": "de"}, "language", "ongeldige keuze"),
        ({"reference": "x" * 101}, "reference", "100"),
        ({"reference": "a\ud800b"}, "reference", ""),
        ({"reference": ["a"]}, "reference", ""),
        ({"method": "email"}, "recipient", "ontvanger"),
        ({"recipient": "inwoner@example.nl"}, "method", "verzendmethode"),
        ({"recipient": "geen-adres", "method": "email"}, "recipient", "e-mailadres"),
        ({"recipient": "0612", "method": "sms"}, "recipient", "telefoonnummer"),
        ({"recipient": "inwoner@example.nl", "method": "whatsapp"}, "recipient", "telefoonnummer"),
        ({"method": "fax", "recipient": "0612345678"}, "method", "ongeldige keuze"),
    ],
)
def test_bad_fields_get_a_message_on_that_field(api, fields, field, fragment):
    answer = api.post(URL, contact(**fields))
    assert answer.status_code == 400
    messages = answer.json()[field]
    assert fragment in " ".join(messages)
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_a_dutch_mobile_number_is_accepted_in_any_common_notation(api):
    answer = api.post(URL, contact(recipient="06-12 34 56 78", method="sms"))
    assert answer.status_code == 201
    assert answer.json()["invitation"]["delivery"]["method"] == "sms"


@pytest.mark.django_db
def test_method_none_with_a_recipient_applies_the_cooldown_without_sending(api):
    first = api.post(URL, contact(reference="a", recipient="0612345678", method="none"))
    second = api.post(URL, contact(reference="b", recipient="+31 6 12345678", method="none"))

    assert first.json()["invited"] is True
    assert first.json()["invitation"]["delivery"] is None
    assert second.status_code == 201
    assert second.json()["invited"] is False
    assert second.json()["reason"] == "cooldown"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    ["{", "[]", '"text"', "null", "12", '{"channel": NaN}', '{"score": 1' + "0" * 5000 + "}", "\xff\xfe"],
)
def test_malformed_bodies_get_400_never_500(api, raw):
    answer = api.post(URL, raw=raw)
    assert answer.status_code == 400
    assert answer.json()


@pytest.mark.django_db
def test_missing_fields_are_named(api):
    answer = api.post(URL, {})
    assert answer.status_code == 400
    assert set(answer.json()) == {"channel", "contact_moment"}


@pytest.mark.django_db
def test_a_body_over_the_limit_gets_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    answer = api.post(URL, contact(reference="x" * 20_000))
    assert answer.status_code == 413
    assert "10000 bytes" in answer.json()["detail"]


@pytest.mark.django_db
def test_a_huge_body_gets_413_at_the_default_limit(api):
    answer = api.post(URL, raw='{"reference": "' + "x" * (3 * 1024 * 1024) + '"}')
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_contact_can_be_looked_up_by_its_own_organisation_only(api, other_api):
    created = api.post(URL, contact()).json()

    mine = api.get(f"{URL}{created['id']}/")
    assert mine.status_code == 200
    assert mine.json()["invitation"]["status"] == "created"
    assert mine.json()["invitation"]["url"] is None

    theirs = other_api.get(f"{URL}{created['id']}/")
    assert theirs.status_code == 404
    assert api.get(f"{URL}999999999999999999999/").status_code == 404


@pytest.mark.django_db
def test_the_same_reference_in_another_organisation_is_another_contact(api, other_api):
    mine = api.post(URL, contact()).json()
    theirs = other_api.post(URL, contact())
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine["id"]


@pytest.mark.django_db
def test_an_invitation_past_its_expiry_is_reported_expired(api):
    created = api.post(URL, contact()).json()
    Invitation.objects.update(
        expires_at=timezone.now() - timedelta(seconds=1), created_at=timezone.now() - timedelta(days=15)
    )
    assert api.get(f"{URL}{created['id']}/").json()["invitation"]["status"] == "expired"
