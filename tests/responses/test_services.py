"""The write services and the database constraints behind them, on the real PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys.common.time import month_of
from surveys.common.tokens import hash_token
from surveys.invitations.models import Invitation, InvitationStatus
from surveys.invitations.services import InvitationUnavailable, create_invitation, invitation_for_token
from surveys.organisations.models import Channel
from surveys.organisations.services import create_organisation
from surveys.responses.models import Response, Source
from surveys.responses.services import AlreadyAnswered, record_one_click, submit_response
from surveys.rollups.models import RollupChange
from tests.factories import InvitationFactory, OrganisationFactory, ResponseFactory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


# --- one response per invitation, also under concurrency -------------------------------------


WORKERS = 20


def concurrently(work, arguments: list) -> list:
    """Run ``work`` for each argument in its own thread, all starting at the same moment; each
    thread has its own database connection, as concurrent requests would."""
    barrier = threading.Barrier(len(arguments))

    def run(argument):
        try:
            barrier.wait(timeout=30)
            return work(argument)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(run, arguments))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("one_click_first", [False, True], ids=["fresh", "after-one-click"])
def test_twenty_concurrent_submits_store_one_response_the_others_see_already_answered(one_click_first):
    invitation = InvitationFactory()
    if one_click_first:
        record_one_click(invitation=invitation, score=9)

    def submit(score: int):
        page = Client().post(f"/s/{invitation.token}/", {"score": str(score), "comment": f"cijfer {score}"})
        return page.status_code, page.content.decode(), page.get("Location", "")

    pages = concurrently(submit, [1 + n % 10 for n in range(WORKERS)])

    statuses = sorted(status for status, _, _ in pages)
    assert statuses == [302] + [409] * (WORKERS - 1)
    thanked = next(page for page in pages if page[0] == 302)
    assert thanked[2] == reverse("surveys:thanks", kwargs={"slug": invitation.organisation.slug})
    assert all("U heeft deze vragenlijst al ingevuld" in body for status, body, _ in pages if status == 409)
    stored = Response.objects.get()
    assert (stored.invitation_id, stored.is_complete) == (invitation.pk, True)
    assert stored.comment == f"cijfer {stored.score}"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_service_calls_store_one_response():
    """The same race below the view (which checks for an answer first): the row lock decides."""
    invitation = InvitationFactory()

    def submit(score: int):
        try:
            submit_response(
                organisation=invitation.organisation,
                channel=invitation.channel,
                score=score,
                source=Source.INVITATION,
                invitation=invitation,
            )
        except AlreadyAnswered:
            return "already answered"
        return "stored"

    outcomes = concurrently(submit, [1 + n % 10 for n in range(WORKERS)])
    assert sorted(outcomes) == ["already answered"] * (WORKERS - 1) + ["stored"]
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_one_clicks_keep_one_incomplete_response():
    invitation = InvitationFactory()
    concurrently(lambda score: record_one_click(invitation=invitation, score=score), [7] * 20)
    stored = Response.objects.get()
    assert (stored.score, stored.is_complete) == (7, False)

    # All ten links at once, twice (a mail link scanner): no error, and no score stays stored.
    scanned = InvitationFactory()
    outcomes = concurrently(lambda score: record_one_click(invitation=scanned, score=score), list(range(1, 11)) * 2)
    assert None in outcomes  # once the scanner shows, nothing more is stored...
    assert not Response.objects.filter(invitation=scanned).exists()  # ...and what was, is taken out
    scanned.refresh_from_db()
    assert scanned.link_scanner_at is not None


@pytest.mark.django_db
def test_second_response_for_the_same_invitation_is_refused_by_the_database(invitation):
    first = submit_response(
        organisation=invitation.organisation,
        channel=invitation.channel,
        score=8,
        source=Source.INVITATION,
        invitation=invitation,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(
            organisation=first.organisation,
            channel=first.channel,
            survey_version=first.survey_version,
            invitation=invitation,
            contact_moment=first.contact_moment,
            contact_month=first.contact_month,
            score=3,
            source=Source.INVITATION,
        )
    assert list(Response.objects.values_list("score", flat=True)) == [8]


@pytest.mark.django_db
def test_second_submit_through_the_service_raises_already_answered(invitation):
    submit = {"organisation": invitation.organisation, "channel": invitation.channel, "source": Source.INVITATION}
    submit_response(**submit, score=8, invitation=invitation)
    with pytest.raises(AlreadyAnswered):
        submit_response(**submit, score=2, invitation=invitation)
    assert list(Response.objects.values_list("score", flat=True)) == [8]


# --- the rapportcijfer stays within 1..10, whatever writes it --------------------------------


@pytest.fixture
def stored(organisation):
    return ResponseFactory(organisation=organisation, score=7)


def assert_score_refused(write, stored: Response) -> None:
    with pytest.raises(IntegrityError, match="response_score_1_10"), transaction.atomic():
        write()
    stored.refresh_from_db()
    assert stored.score == 7
    assert Response.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 11, -1, 100])
def test_database_refuses_score_outside_1_10_through_the_orm(stored, score):
    assert_score_refused(lambda: Response.objects.filter(pk=stored.pk).update(score=score), stored)


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 11])
def test_database_refuses_score_outside_1_10_on_save(stored, score):
    def save():
        stored.score = score
        stored.save(update_fields=["score"])

    assert_score_refused(save, stored)
    assert stored.score == 7


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 11])
def test_database_refuses_score_outside_1_10_in_raw_sql_update(stored, score):
    def update():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Response._meta.db_table} SET score = %s WHERE id = %s", [score, stored.pk])  # noqa: S608

    assert_score_refused(update, stored)


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 11])
def test_database_refuses_score_outside_1_10_in_raw_sql_insert(stored, score):
    columns = (
        "organisation_id, channel, survey_version_id, contact_moment, contact_month, submitted_at, "
        "comment, language, source, is_complete"
    )

    def insert():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Response._meta.db_table} ({columns}, score) "  # noqa: S608
                f"SELECT {columns}, %s FROM {Response._meta.db_table} WHERE id = %s",
                [score, stored.pk],
            )

    assert_score_refused(insert, stored)


@pytest.mark.django_db
def test_database_accepts_the_whole_scale(stored):
    for score in range(1, 11):
        Response.objects.filter(pk=stored.pk).update(score=score)
        stored.refresh_from_db()
        assert stored.score == score


# --- one-click and completion -------------------------------------------------------------


@pytest.mark.django_db
def test_one_click_then_completion_keeps_one_response(invitation):
    clicked = record_one_click(invitation=invitation, score=9)
    assert (clicked.score, clicked.is_complete, clicked.source) == (9, False, Source.ONE_CLICK)

    completed = submit_response(
        organisation=invitation.organisation,
        channel=invitation.channel,
        score=9,
        answers={"vraag_beantwoord": 1},
        comment="Fijn geholpen, bel 06-12345678",
        source=Source.INVITATION,
        invitation=invitation,
    )
    assert completed.pk == clicked.pk
    stored = Response.objects.get()
    assert (stored.score, stored.is_complete) == (9, True)
    assert stored.comment == "Fijn geholpen, bel [TELEFOON]"
    assert list(stored.answers.values_list("question__key", "value")) == [("vraag_beantwoord", 1)]
    with pytest.raises(AlreadyAnswered):
        record_one_click(invitation=invitation, score=2)


@pytest.mark.django_db
def test_score_can_change_while_the_response_is_incomplete(invitation, settings):
    record_one_click(invitation=invitation, score=3)
    # A while later (not a link scanner's burst) the resident clicks another score.
    Response.objects.update(submitted_at=timezone.now() - timedelta(seconds=settings.KTO_ONE_CLICK_SCANNER_SECONDS))
    record_one_click(invitation=invitation, score=8)
    stored = Response.objects.get()
    assert (stored.score, stored.is_complete) == (8, False)

    submit_response(
        organisation=invitation.organisation,
        channel=invitation.channel,
        score=6,
        source=Source.INVITATION,
        invitation=invitation,
    )
    stored.refresh_from_db()
    assert (stored.score, stored.is_complete) == (6, True)
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_expired_invitation_is_unavailable_and_stores_nothing(organisation):
    expired = InvitationFactory(organisation=organisation, expired=True)
    with pytest.raises(InvitationUnavailable):
        submit_response(
            organisation=organisation, channel=expired.channel, score=8, source=Source.INVITATION, invitation=expired
        )
    with pytest.raises(InvitationUnavailable):
        record_one_click(invitation=expired, score=8)
    with pytest.raises(InvitationUnavailable):
        invitation_for_token(expired.token)
    assert not Response.objects.exists()
    assert Invitation.objects.get(pk=expired.pk).status != InvitationStatus.ANSWERED


@pytest.mark.django_db
def test_invitation_for_token_finds_only_the_right_invitation(invitation):
    assert invitation_for_token(invitation.token) == invitation
    for token in ["", "x" * 65, invitation.token + "x", hash_token(invitation.token)]:
        with pytest.raises(InvitationUnavailable):
            invitation_for_token(token)


# --- the month a response belongs to, in Dutch local time -----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("contact_moment", "month"),
    [
        (datetime(2018, 12, 31, 23, 30, tzinfo=AMSTERDAM), date(2018, 12, 1)),
        (datetime(2019, 1, 1, 0, 30, tzinfo=AMSTERDAM), date(2019, 1, 1)),
        # 23:30 UTC on New Year's Eve is already 00:30 on New Year's Day in Amsterdam.
        (datetime(2018, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")), date(2019, 1, 1)),
        # Summer time: 22:30 UTC on 31 March is 00:30 on 1 April in Amsterdam.
        (datetime(2018, 3, 31, 22, 30, tzinfo=ZoneInfo("UTC")), date(2018, 4, 1)),
    ],
)
def test_submission_records_a_change_in_its_local_month(organisation, contact_moment, month):
    invitation = InvitationFactory(organisation=organisation, contact_moment=contact_moment)
    response = submit_response(
        organisation=organisation,
        channel=invitation.channel,
        score=7,
        source=Source.INVITATION,
        invitation=invitation,
    )
    assert response.contact_month == month
    changes = RollupChange.objects.filter(question_key="rapportcijfer")
    assert list(changes.values_list("organisation_id", "month", "n", "total")) == [(organisation.pk, month, 1, 7)]


@pytest.mark.django_db
def test_open_response_without_invitation_records_the_month_of_its_contact(organisation):
    submit_response(
        organisation=organisation,
        channel=Channel.TELEFOON,
        score=5,
        source=Source.OPEN,
        contact_moment=datetime(2017, 6, 30, 23, 59, tzinfo=AMSTERDAM),
    )
    submit_response(organisation=organisation, channel=Channel.BALIE, score=9, source=Source.OPEN)
    this_month = month_of(timezone.now())
    assert set(RollupChange.objects.values_list("month", flat=True)) == {date(2017, 6, 1), this_month}


@pytest.mark.django_db
def test_response_is_stored_under_the_invitations_organisation_and_channel(organisation):
    other = OrganisationFactory()
    invitation = InvitationFactory(organisation=organisation, channel=Channel.EMAIL)
    response = submit_response(
        organisation=other, channel=Channel.BALIE, score=7, source=Source.INVITATION, invitation=invitation
    )
    assert (response.organisation, response.channel) == (organisation, Channel.EMAIL)
    assert response.survey_version.survey.organisation == organisation


def test_new_organisations_take_their_invitation_periods_from_the_settings(db, settings):
    settings.KTO_INVITATION_VALID_DAYS = 7
    settings.KTO_INVITATION_COOLDOWN_DAYS = 30
    organisation = create_organisation(name="Gemeente Test", slug="gemeente-test", channels=["balie"])
    assert (organisation.invitation_valid_days, organisation.invitation_cooldown_days) == (7, 30)
    invitation, _token = create_invitation(organisation=organisation, channel="balie", contact_moment=timezone.now())
    assert (invitation.expires_at - invitation.created_at).days == 7
