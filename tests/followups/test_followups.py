"""Follow-up of low scores: the queue fills from residents' low scores with a comment or a contact
request, staff work it in the admin, the contact details stay apart and are erased when done."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from surveys.followups.models import FollowUp, FollowUpContact, FollowUpStatus
from surveys.followups.services import erase_expired_contacts
from surveys.responses.models import Response
from tests.factories import InvitationFactory
from tests.staff import change_url, logged_in

pytestmark = pytest.mark.django_db


def answer(client, invitation, **data):
    return client.post(f"/s/{invitation.token}/", {"score": "4", **data})


def test_a_low_score_with_a_comment_enters_the_queue(client, org_a):
    answer(client, InvitationFactory(organisation=org_a), comment="Niemand belde terug")
    item = FollowUp.objects.get()
    assert (item.status, item.response.score, item.organisation) == (FollowUpStatus.NEW, 4, org_a)
    assert item.due_at - item.created_at == timedelta(days=5)


@pytest.mark.parametrize(("score", "comment"), [("6", "Het kon beter"), ("9", "Top"), ("3", "")])
def test_other_responses_do_not(client, org_a, score, comment):
    answer(client, InvitationFactory(organisation=org_a), score=score, comment=comment)
    assert Response.objects.count() == 1 and not FollowUp.objects.exists()


def test_the_threshold_is_the_organisations(client, org_a):
    org_a.follow_up_below = 8
    org_a.save()
    answer(client, InvitationFactory(organisation=org_a), score="7", comment="Redelijk")
    assert FollowUp.objects.count() == 1


def test_a_contact_request_is_kept_apart_from_the_response(client, org_a):
    page = answer(client, InvitationFactory(organisation=org_a), may_contact="1", contact="06 12345678")
    assert page.status_code == 302
    contact = FollowUpContact.objects.get()
    assert contact.address == "+31612345678"
    assert contact.erase_at - contact.follow_up.created_at == timedelta(days=30)
    response = Response.objects.get()
    assert "12345678" not in response.comment and response.comment == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"may_contact": "1"}, "Vul uw telefoonnummer of e-mailadres in, of kies nee."),
        ({"contact": "06 12345678"}, "Kies ja als de gemeente contact met u mag opnemen."),
        ({"may_contact": "1", "contact": "bel me"}, "Dit is geen geldig telefoonnummer of e-mailadres."),
    ],
)
def test_a_wrong_contact_request_is_answered_on_the_form(client, org_a, data, message):
    page = answer(client, InvitationFactory(organisation=org_a), **data)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not Response.objects.exists()


def test_a_high_score_keeps_no_contact_details(client, org_a):
    answer(client, InvitationFactory(organisation=org_a), score="9", may_contact="1", contact="jan@example.nl")
    assert not FollowUp.objects.exists() and not FollowUpContact.objects.exists()


def test_staff_work_the_queue_and_closing_erases_the_contact(client, org_a, kcc_a):
    answer(client, InvitationFactory(organisation=org_a), comment="Slecht", may_contact="1", contact="jan@example.nl")
    item = FollowUp.objects.get()
    client = logged_in(client, kcc_a)
    queue = client.get("/admin/surveys/followup/").content.decode()
    assert "Slecht" in queue
    page = client.get(change_url(item)).content.decode()
    assert "jan@example.nl" in page  # shown in the queue, nowhere else
    saved = client.post(
        change_url(item),
        {"status": "done", "assigned_to": kcc_a.pk, "note": "Gebeld met 06-12345678, opgelost."},
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    item.refresh_from_db()
    assert item.status == FollowUpStatus.DONE and item.closed_at is not None and item.assigned_to == kcc_a
    assert item.note == "Gebeld met [TELEFOON], opgelost."
    assert not FollowUpContact.objects.exists()


def test_staff_see_only_their_own_organisations_queue(client, org_a, org_b, kcc_a):
    answer(client, InvitationFactory(organisation=org_b), comment="Utrecht's klacht")
    client = logged_in(client, kcc_a)
    assert "Utrecht's klacht" not in client.get("/admin/surveys/followup/").content.decode()
    assert client.get(change_url(FollowUp.objects.get())).status_code == 302  # "does not exist"


def test_contact_details_are_erased_after_their_days(client, org_a):
    answer(client, InvitationFactory(organisation=org_a), may_contact="1", contact="jan@example.nl")
    assert erase_expired_contacts() == 0
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert erase_expired_contacts() == 1
    assert FollowUp.objects.count() == 1 and not FollowUpContact.objects.exists()


def test_the_dashboard_counts_open_and_overdue_items(client, org_a, kcc_a):
    for _i in range(2):
        answer(client, InvitationFactory(organisation=org_a), comment="Slecht")
    FollowUp.objects.filter(pk=FollowUp.objects.first().pk).update(due_at=timezone.now() - timedelta(days=1))
    text = logged_in(client, kcc_a).get("/admin/").content.decode()
    assert "2 open terugbelverzoeken" in text and "1 te laat" in text


def test_the_queue_filters_overdue_and_on_time_items(client, org_a, kcc_a):
    for text in ("Te laat item", "Op tijd item", "Klaar item"):
        answer(client, InvitationFactory(organisation=org_a), comment=text)
    late, on_time, done = (
        FollowUp.objects.get(response__comment=t) for t in ("Te laat item", "Op tijd item", "Klaar item")
    )
    FollowUp.objects.filter(pk__in=[late.pk, done.pk]).update(due_at=timezone.now() - timedelta(days=1))
    FollowUp.objects.filter(pk=done.pk).update(status=FollowUpStatus.DONE, closed_at=timezone.now())
    client = logged_in(client, kcc_a)
    overdue = client.get("/admin/surveys/followup/?overdue=yes").content.decode()
    assert "Te laat item" in overdue and "Op tijd item" not in overdue and "Klaar item" not in overdue
    in_time = client.get("/admin/surveys/followup/?overdue=no").content.decode()
    assert "Te laat item" not in in_time and "Op tijd item" in in_time and "Klaar item" in in_time
