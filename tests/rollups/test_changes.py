"""Every write that changes a figure records its change: after each way in (the residents' forms,
one-click links, the API, volume imports and the admin's edits, version forks, deletions, sent
invitations) the figures the pass leaves equal a recount from the sources."""

from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from surveys.api.models import ApiKey
from surveys.common.time import AMSTERDAM, month_of
from surveys.invitations.contacts import ContactInput, register_contacts
from surveys.invitations.delivery import send_delivery
from surveys.invitations.services import create_invitation, expire_invitations
from surveys.organisations.models import Channel, Role
from surveys.questionnaires.models import SurveyVersion
from surveys.responses.models import Response, Source
from surveys.responses.services import delete_responses, submit_response
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import ALL_CHANNELS, ContactVolume, PeriodKind, RollupChange
from surveys.rollups.recount import rollup_full
from surveys.rollups.volumes import VolumeRow, save_volumes
from tests.api.client import ApiClient
from tests.factories import InvitationFactory, ResponseFactory
from tests.rollups.helpers import figures, mailed_contact, respond, rollup_rows
from tests.staff import balie_version, change_url, logged_in, staff_user, version_post_data

pytestmark = pytest.mark.django_db

MARCH = date(2018, 3, 1)


@pytest.fixture
def old_moments_allowed(settings):
    """The API refuses moments more than 31 days back; these tests post March 2018's."""
    settings.KTO_BACKDATE_DAYS = 365 * 20


def the_pass_equals_a_recount() -> None:
    """Some change is pending; the pass takes it in; a recount from the sources changes nothing."""
    assert RollupChange.objects.exists()
    rollup_incremental()
    assert not RollupChange.objects.exists()
    after_the_pass = rollup_rows()
    rollup_full()
    assert rollup_rows() == after_the_pass


def this_month(organisation, channel=Channel.BALIE, **kwargs):
    return figures(organisation, channel=channel, **kwargs)[month_of(timezone.now())]


# --- the residents' pages ------------------------------------------------------------------------


def test_the_invitation_form(client, invitation):
    page = client.post(f"/s/{invitation.token}/", {"score": "9", "q_vraag_beantwoord": "1", "q_vriendelijkheid": "4"})
    assert page.status_code == 302
    the_pass_equals_a_recount()
    organisation = invitation.organisation
    assert (this_month(organisation).mean, this_month(organisation).invited_responses) == (9, 1)
    assert this_month(organisation, question_key="vriendelijkheid").mean == 4


def test_the_open_form(client, organisation):
    assert client.post(f"/o/{organisation.slug}/balie/", {"score": "6", "q_vraag_beantwoord": "0"}).status_code == 302
    the_pass_equals_a_recount()
    assert this_month(organisation, question_key="vraag_beantwoord").distribution == {0: 1}


def test_a_one_click_score_completed_by_the_form(client, invitation):
    assert client.get(f"/s/{invitation.token}/3/").status_code == 200
    rollup_incremental()
    assert this_month(invitation.organisation).mean == 3
    client.post(f"/s/{invitation.token}/", {"score": "8", "q_vriendelijkheid": "5"})
    the_pass_equals_a_recount()
    figure = this_month(invitation.organisation)
    assert (figure.n, figure.mean) == (1, 8)


def test_a_link_scanner_whose_score_is_taken_out_again(client, invitation):
    client.get(f"/s/{invitation.token}/1/")
    client.get(f"/s/{invitation.token}/10/")  # another score within seconds: a scanner
    assert not Response.objects.exists()
    the_pass_equals_a_recount()
    assert this_month(invitation.organisation).n == 0  # (the invitation itself counts: it was sent)


# --- the API ---------------------------------------------------------------------------------------


@pytest.fixture
def api(organisation):
    _, key = ApiKey.objects.create_key(organisation=organisation)
    return ApiClient(key)


def test_a_contact_registered_through_the_api(api, organisation, old_moments_allowed):
    moment = datetime(2018, 3, 10, 10, tzinfo=AMSTERDAM).isoformat()
    answer = api.post("/api/v1/contacts/", {"channel": "telefoon", "contact_moment": moment, "method": "none"})
    assert answer.status_code == 201
    the_pass_equals_a_recount()
    march = figures(organisation, channel=Channel.TELEFOON)[MARCH]
    assert (march.contacts_registered, march.invitations_sent) == (1, 1)


def test_contacts_registered_in_bulk(api, organisation, old_moments_allowed):
    moment = datetime(2018, 3, 10, 10, tzinfo=AMSTERDAM).isoformat()
    contacts = [{"channel": channel, "contact_moment": moment} for channel in ("telefoon", "balie", "balie")]
    assert api.post("/api/v1/contacts/bulk/", {"contacts": contacts}).status_code == 200
    the_pass_equals_a_recount()
    assert figures(organisation, channel=ALL_CHANNELS)[MARCH].contacts_registered == 3


def test_ivr_scores_through_the_api_with_and_without_an_invitation(api, organisation, old_moments_allowed):
    invitation = InvitationFactory(organisation=organisation, channel=Channel.TELEFOON)
    moment = datetime(2018, 3, 10, 10, tzinfo=AMSTERDAM).isoformat()
    assert (
        api.post("/api/v1/responses/", {"channel": "telefoon", "score": 4, "contact_moment": moment}).status_code == 201
    )
    answer = api.post(
        "/api/v1/responses/",
        {"channel": "telefoon", "score": 10, "invitation_token": invitation.token, "answers": {"vriendelijkheid": 5}},
    )
    assert answer.status_code == 201
    the_pass_equals_a_recount()
    assert figures(organisation, channel=Channel.TELEFOON)[MARCH].mean == 4
    assert this_month(organisation, Channel.TELEFOON).invited_responses == 1


# --- contact volumes: the import, and the admin's edits ---------------------------------------------


def test_a_volume_file_imported_twice(client, organisation, superuser):
    client = logged_in(client, superuser)
    for count in ("900", "850"):
        upload = SimpleUploadedFile("v.csv", f"channel,month,count\ntelefoon,2018-03,{count}\n".encode())
        client.post("/admin/surveys/contactvolume/import/", {"organisation": organisation.pk, "file": upload})
    the_pass_equals_a_recount()
    assert figures(organisation, channel=Channel.TELEFOON)[MARCH].contacts == 850


def volume_post_data(volume: ContactVolume, **changes) -> dict:
    data = {"organisation": volume.organisation_id, "channel": volume.channel, "month": volume.month, "source": ""}
    return {**data, "count": volume.count, **changes}


def test_a_volume_edited_in_the_admin_changes_the_figures(client, organisation):
    save_volumes([VolumeRow(1, organisation, Channel.TELEFOON, MARCH, 100)])
    rollup_incremental()
    assert figures(organisation, channel=Channel.TELEFOON)[MARCH].contacts == 100
    volume = ContactVolume.objects.get()
    client = logged_in(client, staff_user("beheerder", organisation, Role.BEHEERDER))
    assert client.post(change_url(volume), volume_post_data(volume, count=250)).status_code == 302
    the_pass_equals_a_recount()
    assert figures(organisation, channel=Channel.TELEFOON)[MARCH].contacts == 250


def test_a_volume_moved_to_another_month_or_added_in_the_admin(client, organisation, superuser):
    save_volumes([VolumeRow(1, organisation, Channel.TELEFOON, MARCH, 100)])
    client = logged_in(client, superuser)
    volume = ContactVolume.objects.get()
    client.post(change_url(volume), volume_post_data(volume, month=date(2018, 4, 1), channel=Channel.BALIE))
    added = {**volume_post_data(volume, count=40), "month": date(2018, 5, 1)}
    assert client.post("/admin/surveys/contactvolume/add/", added).status_code == 302
    the_pass_equals_a_recount()
    assert figures(organisation, channel=Channel.BALIE)[date(2018, 4, 1)].contacts == 100
    assert figures(organisation, channel=Channel.TELEFOON)[date(2018, 5, 1)].contacts == 40
    assert MARCH not in figures(organisation, channel=ALL_CHANNELS)


def test_volumes_deleted_in_the_admin_one_and_several_at_once(client, organisation, superuser):
    save_volumes([VolumeRow(1, organisation, Channel.TELEFOON, date(2018, month, 1), 100) for month in (3, 4, 5)])
    rollup_incremental()
    client = logged_in(client, superuser)
    first, *others = ContactVolume.objects.order_by("month")
    client.post(f"/admin/surveys/contactvolume/{first.pk}/delete/", {"post": "yes"})
    action = {"action": "delete_selected", "_selected_action": [v.pk for v in others], "post": "yes"}
    assert client.post("/admin/surveys/contactvolume/", action).status_code == 302
    assert not ContactVolume.objects.exists()
    the_pass_equals_a_recount()
    assert not figures(organisation, channel=ALL_CHANNELS)


# --- survey versions, deletions, invitations ---------------------------------------------------------


def test_a_survey_version_forked_in_the_admin_and_answered(client, organisation):
    version = balie_version(organisation)
    ResponseFactory(organisation=organisation, answers={"vriendelijkheid": 2})
    client = logged_in(client, staff_user("beheerder", organisation, Role.BEHEERDER))
    client.post(change_url(version), version_post_data(version, score_label_nl="Hoe was het?"))
    fork = SurveyVersion.objects.get(survey=version.survey, number=2)
    ResponseFactory(organisation=organisation, survey_version=fork, answers={"vriendelijkheid": 4})
    the_pass_equals_a_recount()
    assert this_month(organisation, question_key="vriendelijkheid").mean == 3


def test_responses_deleted_by_a_superuser_in_the_admin(client, organisation, superuser):
    kept, gone = (respond(organisation, score, datetime(2018, 3, 10, tzinfo=AMSTERDAM)) for score in (8, 2))
    rollup_incremental()
    page = logged_in(client, superuser).post(f"/admin/surveys/response/{gone.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    the_pass_equals_a_recount()
    assert (figures(organisation)[MARCH].n, figures(organisation)[MARCH].mean) == (1, kept.score)


def test_invitations_made_sent_and_answered(organisation, mailoutbox):
    moment = datetime(2018, 3, 31, 23, 30, tzinfo=AMSTERDAM)
    delivered = mailed_contact(organisation, moment)
    register_contacts(
        organisation=organisation,
        contacts=[ContactInput(channel=Channel.TELEFOON, contact_moment=moment) for _ in range(3)],
    )
    create_invitation(organisation=organisation, channel=Channel.BALIE, contact_moment=moment)
    rollup_incremental()
    send_delivery(delivered.delivery.pk)
    assert len(mailoutbox) == 1
    gone = respond(organisation, 4, moment, Channel.TELEFOON)
    submit_response(
        organisation=organisation,
        channel=Channel.EMAIL,
        score=9,
        source=Source.INVITATION,
        invitation=delivered.invitation,
    )
    delete_responses([gone.pk])
    the_pass_equals_a_recount()
    march = figures(organisation, channel=ALL_CHANNELS)[MARCH]
    assert (march.contacts_registered, march.invitations_sent) == (4, 5)
    assert (march.n, march.responses, march.response_rate) == (1, 1, 0.2)
    assert figures(organisation, PeriodKind.YEAR, ALL_CHANNELS)[date(2018, 1, 1)].invitations_sent == 5


def test_expiry_changes_no_figure(organisation):
    InvitationFactory(organisation=organisation)
    rollup_incremental()
    before = rollup_rows()
    assert expire_invitations(now=timezone.now() + timedelta(days=30)) == 1
    assert not RollupChange.objects.exists()
    rollup_full()
    assert rollup_rows() == before
