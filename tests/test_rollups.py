"""Rollups: the published figures come out of the demo data, periods follow the Amsterdam
calendar, incremental and full passes agree, and statistics are derived correctly from sums."""

import math
import statistics
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from surveys import demo, rollups, selectors, services, volumes
from surveys.formatting import format_count, format_difference, format_percent, format_score
from surveys.models import (
    ALL_CHANNELS,
    SCORE_KEY,
    Channel,
    ContactRollup,
    ContactVolume,
    PeriodKind,
    Response,
    RollupChange,
    ScoreRollup,
    Source,
)
from surveys.models.rollups import DISTRIBUTION_FIELDS
from tests.factories import OrganisationFactory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def respond(organisation, score, moment, channel=Channel.BALIE, **kwargs):
    return services.submit_response(
        organisation=organisation, channel=channel, score=score, source=Source.OPEN, contact_moment=moment, **kwargs
    )


def figures(organisation, period=PeriodKind.MONTH, channel=Channel.BALIE, **kwargs):
    return {
        f.period_start: f
        for f in selectors.rollup_figures(organisation=organisation, period=period, channel=channel, **kwargs)
    }


def rollup_rows():
    scores = ScoreRollup.objects.values_list(
        "organisation_id",
        "channel",
        "question_key",
        "period",
        "period_start",
        "n",
        "total",
        "total_sq",
        *DISTRIBUTION_FIELDS,
    )
    contacts = ContactRollup.objects.values_list(
        "organisation_id",
        "channel",
        "period",
        "period_start",
        "contacts_registered",
        "contacts_imported",
        "invitations_sent",
    )
    return sorted(scores, key=str), sorted(contacts, key=str)


# --- the published figures -------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_and_full_rollup_reproduce_the_published_rapportcijfers():
    call_command("seed_demo", scale=0.2, no_progress=True, allow_without_debug=True, stdout=open("/dev/null", "w"))
    rollups.rollup_full()
    for slug in ("stichtse-vecht", "utrecht"):
        organisation = demo.Organisation.objects.get(slug=slug)
        with translation.override("nl"):
            by_channel = {
                f.channel: f
                for f in selectors.rollup_figures(
                    organisation=organisation, period=PeriodKind.YEAR, date_from=date(2018, 1, 1)
                )
                if f.period_start == date(2018, 1, 1)
            }
            for (org_slug, channel, year), published in demo.PUBLISHED_SCORES.items():
                if org_slug != slug:
                    continue
                figure = by_channel[channel] if year == 2018 else by_channel[channel].previous
                assert figure is not None, (slug, channel, year)
                assert figure.period_start == date(year, 1, 1)
                assert format_score(figure.mean) == f"{published}".replace(".", ","), (slug, channel, year)
    stichtse_vecht = demo.Organisation.objects.get(slug="stichtse-vecht")
    overall = figures(stichtse_vecht, PeriodKind.YEAR, ALL_CHANNELS)[date(2018, 1, 1)]
    with translation.override("nl"):
        assert format_score(overall.mean) == "8,3"
        # The kerncijfers: 74.000 calls in 2018, 77.500 in 2017.
        phone = figures(stichtse_vecht, PeriodKind.YEAR, Channel.TELEFOON)[date(2018, 1, 1)]
        assert format_count(phone.contacts) == "74.000"
        assert format_count(phone.previous.contacts) == "77.500"


# --- calendar periods in Europe/Amsterdam --------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        # 23:30 on 31 December (local) belongs to December, 00:00 on 1 January to January.
        (datetime(2018, 12, 31, 23, 30, tzinfo=AMSTERDAM), date(2018, 12, 1)),
        (datetime(2019, 1, 1, 0, 0, tzinfo=AMSTERDAM), date(2019, 1, 1)),
        (datetime(2018, 12, 31, 23, 30, tzinfo=UTC), date(2019, 1, 1)),  # 00:30 local
        (datetime(2018, 12, 31, 22, 59, 59, tzinfo=UTC), date(2018, 12, 1)),
        # Midnight at a plain month end (winter time, UTC+1).
        (datetime(2018, 1, 31, 22, 59, tzinfo=UTC), date(2018, 1, 1)),
        (datetime(2018, 1, 31, 23, 0, tzinfo=UTC), date(2018, 2, 1)),
        # 31 March 2024 is the last Sunday of March: summer time (UTC+2) starts that night.
        (datetime(2024, 3, 31, 21, 59, tzinfo=UTC), date(2024, 3, 1)),
        (datetime(2024, 3, 31, 22, 0, tzinfo=UTC), date(2024, 4, 1)),
        (datetime(2024, 3, 31, 1, 30, tzinfo=UTC), date(2024, 3, 1)),  # during the jump
        # 31 October 2021 is the last Sunday of October: winter time (UTC+1) starts that night.
        (datetime(2021, 10, 31, 22, 59, tzinfo=UTC), date(2021, 10, 1)),
        (datetime(2021, 10, 31, 23, 0, tzinfo=UTC), date(2021, 11, 1)),
        (datetime(2021, 10, 31, 0, 30, tzinfo=UTC), date(2021, 10, 1)),  # the hour that happens twice
        (datetime(2021, 10, 31, 1, 30, tzinfo=UTC), date(2021, 10, 1)),
        # The last day of September before winter time: still UTC+2.
        (datetime(2018, 9, 30, 22, 0, tzinfo=UTC), date(2018, 10, 1)),
    ],
)
@pytest.mark.django_db
def test_a_response_counts_in_the_amsterdam_month_of_its_contact(organisation, moment, month):
    respond(organisation, 7, moment)
    rollups.rollup_incremental()
    months = figures(organisation)
    assert list(months) == [month]
    assert months[month].n == 1
    assert figures(organisation, PeriodKind.YEAR)[date(month.year, 1, 1)].n == 1


@pytest.mark.django_db
def test_a_late_answer_updates_the_earlier_month_and_its_year(organisation):
    respond(organisation, 9, datetime(2018, 11, 30, 12, tzinfo=AMSTERDAM))
    rollups.rollup_incremental()
    invitation, _ = services.create_invitation(
        organisation=organisation, channel=Channel.BALIE, contact_moment=datetime(2018, 11, 30, 16, tzinfo=AMSTERDAM)
    )
    services.record_one_click(invitation=invitation, score=3)
    rollups.rollup_incremental()
    assert figures(organisation)[date(2018, 11, 1)].mean == 6
    # The resident completes the form later with another score: the month is recomputed, not added to.
    services.submit_response(
        organisation=organisation, channel=Channel.BALIE, score=5, source=Source.INVITATION, invitation=invitation
    )
    rollups.rollup_incremental()
    november = figures(organisation)[date(2018, 11, 1)]
    assert (november.n, november.mean, november.distribution) == (2, 7, {5: 1, 9: 1})
    assert november.responses == 2 and november.invited_responses == 1
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].mean == 7
    assert not RollupChange.objects.exists()


@pytest.mark.django_db
def test_months_without_responses_lose_their_rows(organisation):
    kept = respond(organisation, 8, datetime(2018, 5, 5, tzinfo=AMSTERDAM))
    gone = respond(organisation, 4, datetime(2018, 6, 5, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    rollups.rollup_incremental()
    assert date(2018, 6, 1) in figures(organisation, channel=ALL_CHANNELS)
    services.delete_responses([gone.pk])
    rollups.rollup_incremental()
    assert list(figures(organisation, channel=ALL_CHANNELS)) == [date(2018, 5, 1)]
    assert not ScoreRollup.objects.filter(channel=Channel.TELEFOON).exists()
    year = figures(organisation, PeriodKind.YEAR, ALL_CHANNELS)[date(2018, 1, 1)]
    assert (year.n, year.mean) == (1, kept.score)


# --- incremental = full ----------------------------------------------------------------------------

MOMENTS = st.builds(
    lambda day, minute: datetime(2017, 12, 20, tzinfo=UTC) + timedelta(days=day, minutes=minute),
    st.integers(0, 400),
    st.integers(0, 24 * 60 - 1),
)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["respond", "respond", "late", "complete", "rollup"]),
        st.sampled_from([Channel.BALIE, Channel.TELEFOON, Channel.EMAIL]),
        st.integers(1, 10),
        MOMENTS,
        st.integers(1, 5),
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_incremental_and_full_rollups_give_identical_rows(organisation, events):
    with transaction.atomic():
        pending = []  # one-click responses that may be completed later
        for action, channel, score, moment, friendliness in events:
            if action == "rollup":
                rollups.rollup_incremental()
            elif action == "complete" and pending:
                invitation = pending.pop()
                services.submit_response(
                    organisation=organisation,
                    channel=channel,
                    score=score,
                    source=Source.INVITATION,
                    invitation=invitation,
                    answers={"vriendelijkheid": friendliness},
                )
            elif action == "late":
                # A one-click score for a contact weeks ago; the form may be completed later.
                invitation, _ = services.create_invitation(
                    organisation=organisation, channel=channel, contact_moment=moment - timedelta(days=40)
                )
                services.record_one_click(invitation=invitation, score=score)
                pending.append(invitation)
            else:
                respond(organisation, score, moment, channel, answers={"vraag_beantwoord": score % 2})
        rollups.rollup_incremental()
        incremental = rollup_rows()
        rollups.rollup_full()
        assert rollup_rows() == incremental
        # And both equal a direct computation over the responses.
        for (channel, month), scores in _scores_by_month(organisation).items():
            row = ScoreRollup.objects.get(
                organisation=organisation,
                channel=channel,
                question_key="rapportcijfer",
                period="month",
                period_start=month,
            )
            assert (row.n, row.total, row.total_sq) == (len(scores), sum(scores), sum(s * s for s in scores))
        transaction.set_rollback(True)


def _scores_by_month(organisation):
    result = {}
    for response in Response.objects.filter(organisation=organisation):
        month = services.local_month(response.contact_moment)
        for channel in (response.channel, ALL_CHANNELS):
            result.setdefault((channel, month), []).append(response.score)
    return result


@pytest.mark.django_db
def test_the_queries_of_an_incremental_pass_do_not_grow_with_the_number_of_responses(organisation):
    version = services.current_version(organisation=organisation, channel=Channel.BALIE)

    def queries_for(count):
        """``count`` responses, each in a month of its own (so each leaves a pending change row
        of its own: changes of the same month add up in one row)."""
        Response.objects.all().delete()
        ScoreRollup.objects.all().delete()
        ContactRollup.objects.all().delete()
        months = [date(1950 + i // 12, 1 + i % 12, 1) for i in range(count)]
        responses = Response.objects.bulk_create(
            Response(
                organisation=organisation,
                channel=Channel.BALIE,
                survey_version=version,
                contact_moment=datetime(month.year, month.month, 10, 12, tzinfo=AMSTERDAM),
                contact_month=month,
                score=1 + i % 10,
                source=Source.OPEN,
            )
            for i, month in enumerate(months)
        )
        for response in responses:  # one change per response, as services.submit_response() records
            rollups.record_response_changes([response])
        assert RollupChange.objects.count() == count
        with CaptureQueriesContext(connection) as context:
            result = rollups.rollup_incremental()
        assert result.months == count
        assert sum(f.n for f in figures(organisation).values()) == count
        return len(context.captured_queries)

    assert queries_for(10) == queries_for(1000)


@pytest.mark.django_db
def test_changes_to_the_same_month_add_up_in_one_pending_row(organisation):
    """Between two passes a month has one pending row per channel and question, however many
    responses come in: the pass's work follows the months touched, not the responses."""
    for score in range(1, 11):
        respond(organisation, score, datetime(2018, 3, score, tzinfo=AMSTERDAM))
    respond(organisation, 7, datetime(2018, 3, 12, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    pending = {
        (change.channel, change.month): (change.n, change.total, change.count_10)
        for change in RollupChange.objects.filter(question_key=SCORE_KEY)
    }
    assert pending == {(Channel.BALIE, date(2018, 3, 1)): (10, 55, 1), (Channel.TELEFOON, date(2018, 3, 1)): (1, 7, 0)}
    assert RollupChange.objects.count() == 2
    rollups.rollup_incremental()
    assert (figures(organisation)[date(2018, 3, 1)].n, figures(organisation)[date(2018, 3, 1)].mean) == (10, 5.5)


# --- concurrency ---------------------------------------------------------------------------------


def _respond_elsewhere(organisation, score, moment) -> threading.Thread:
    """A response by another connection (a resident's request) while this one is busy; returns
    the thread that submits it (joined, unless it is still waiting after half a second)."""

    def submit():
        try:
            respond(organisation, score, moment)
        finally:
            connection.close()

    thread = threading.Thread(target=submit)
    thread.start()
    thread.join(timeout=0.5)
    return thread


@contextmanager
def _response_being_written(organisation, score, moment):
    """A response written by another connection whose transaction stays open inside the block
    (a resident's request that is not finished yet); it commits when the block ends."""
    writing, done = threading.Event(), threading.Event()

    def write_slowly():
        try:
            with transaction.atomic():
                respond(organisation, score, moment)
                writing.set()
                done.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=write_slowly)
    thread.start()
    try:
        assert writing.wait(timeout=10)
        yield
    finally:
        done.set()
        thread.join()


MARCH_11 = datetime(2018, 3, 11, tzinfo=AMSTERDAM)


def _after(monkeypatch, step: str, then) -> None:
    """Patch a step of the rollups so that ``then()`` runs right after it, in the same transaction."""
    original = getattr(rollups, step)

    def patched(*args, **kwargs):
        outcome = original(*args, **kwargs)
        then()
        return outcome

    monkeypatch.setattr(rollups, step, patched)


@pytest.mark.django_db(transaction=True)
def test_a_response_submitted_during_a_pass_waits_for_it_and_counts_in_the_next_one(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    organisation = OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    elsewhere = []
    # After the pass took in the changes, before it commits.
    _after(monkeypatch, "_take_in_postgresql", lambda: elsewhere.append(_respond_elsewhere(organisation, 2, MARCH_11)))
    rollups.rollup_incremental()
    monkeypatch.undo()
    # The response waited for the pass's write lock (it did not add to a row the pass took in).
    assert elsewhere[0].is_alive()
    elsewhere[0].join()
    assert figures(organisation)[date(2018, 3, 1)].n == 1  # the pass took in what it had read
    assert RollupChange.objects.count() == 1  # and the new change is pending
    rollups.rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean) == (2, 5)
    assert not RollupChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_pass_leaves_an_organisation_with_a_write_under_way_for_the_next_one(settings):
    """A pass never takes in half of a write: one still open holds its organisation off."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    organisation, other = OrganisationFactory(), OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    respond(other, 6, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    with _response_being_written(organisation, 2, MARCH_11):
        result = rollups.rollup_incremental()
    assert result.skipped == [organisation.pk]
    assert figures(other)[date(2018, 3, 1)].n == 1
    assert date(2018, 3, 1) not in figures(organisation)
    rollups.rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean) == (2, 5)


@pytest.mark.django_db(transaction=True)
def test_a_response_committed_during_a_recount_is_counted_exactly_once(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    organisation = OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    # After the responses were counted: the recount deleted the pending change of March (its
    # first statement), and holds that row until it commits.
    finished = []
    _after(
        monkeypatch,
        "_contact_months",
        lambda: finished.append(not _respond_elsewhere(organisation, 2, MARCH_11).is_alive()),
    )
    rollups.rollup_full()
    monkeypatch.undo()
    assert finished == [True]  # the resident did not wait for the recount
    assert figures(organisation)[date(2018, 3, 1)].n == 1  # the recount's snapshot is from before it
    assert RollupChange.objects.count() == 1  # so its change stays for the next pass
    rollups.rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean, march.responses) == (2, 5, 2)
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == 2


@pytest.mark.django_db(transaction=True)
def test_a_write_never_waits_for_another_one_writing_the_same_month(settings):
    """Two residents answer at the same moment: the second adds to a row of its own instead of
    waiting for the first one's row (so writes never wait for, or deadlock with, each other)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    organisation = OrganisationFactory()
    respond(organisation, 4, datetime(2018, 3, 9, tzinfo=AMSTERDAM))  # a pending row for March
    with _response_being_written(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM)):
        quick = _respond_elsewhere(organisation, 6, MARCH_11)
        assert not quick.is_alive()  # done while the first write still holds March's row
    assert sorted(RollupChange.objects.values_list("n", "total")) == [(1, 6), (2, 12)]
    rollups.rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean) == (3, 6)
    assert not RollupChange.objects.exists()


@pytest.mark.django_db
def test_a_job_that_dies_halfway_leaves_no_half_written_period(organisation, monkeypatch):
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    rollups.rollup_incremental()
    before = rollup_rows()
    respond(organisation, 2, datetime(2018, 3, 11, tzinfo=AMSTERDAM))

    def killed():
        raise SystemExit("worker killed")  # after the month and year rows were written, before the commit

    _after(monkeypatch, "_take_in_postgresql", killed)
    with pytest.raises(SystemExit):
        rollups.rollup_incremental()
    assert rollup_rows() == before  # the month rows written before the crash were rolled back
    assert RollupChange.objects.filter(month=date(2018, 3, 1)).exists()
    monkeypatch.undo()
    rollups.rollup_incremental()  # the next run repairs it
    assert figures(organisation)[date(2018, 3, 1)].n == 2
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == 2


@pytest.mark.django_db
def test_running_a_pass_twice_gives_the_same_rows(organisation):
    for score in (3, 8, 10):
        respond(organisation, score, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    rollups.rollup_incremental()
    first = rollup_rows()
    assert rollups.rollup_incremental().months == 0  # nothing pending: nothing written
    rollups.rollup_full()
    rollups.rollup_full(organisation_ids=[organisation.pk], since=date(2018, 2, 1))
    assert rollup_rows() == first


@pytest.mark.django_db(transaction=True)
def test_an_organisation_busy_in_another_job_is_skipped_and_its_changes_wait(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a worker: the beat pass rolls up, not the commit
    organisation = OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [rollups.LOCK_NAMESPACE, organisation.pk])
            result = rollups.rollup_organisation(organisation.pk)
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    assert result.skipped == [organisation.pk]
    assert RollupChange.objects.filter(organisation=organisation).exists()
    assert rollups.rollup_organisation(organisation.pk).months == 1
    assert not RollupChange.objects.exists()


@pytest.mark.django_db
def test_in_eager_mode_a_response_is_rolled_up_when_it_is_committed(organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            for day in (1, 2, 3):
                respond(organisation, 6, datetime(2018, 3, day, tzinfo=AMSTERDAM))
                respond(organisation, 8, datetime(2018, 4, day, tzinfo=AMSTERDAM))
    assert len(callbacks) == 1  # one rollup for the organisation, however many months changed
    assert figures(organisation)[date(2018, 4, 1)].mean == 8
    assert not RollupChange.objects.exists()


# --- statistics --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_statistics_are_derived_from_the_stored_sums(organisation, settings):
    settings.KTO_MIN_RESPONSES = 30
    now = [1, 4, 5, 6, 7, 7, 8, 8, 8, 9, 9, 10] * 3
    before = [5, 6, 6, 7, 7, 7, 8, 8, 9] * 4
    for score in now:
        respond(organisation, score, datetime(2018, 6, 15, tzinfo=AMSTERDAM))
    for score in before:
        respond(organisation, score, datetime(2017, 6, 15, tzinfo=AMSTERDAM))
    respond(organisation, 9, datetime(2018, 7, 1, tzinfo=AMSTERDAM))
    rollups.rollup_incremental()
    june = figures(organisation)[date(2018, 6, 1)]
    assert june.n == len(now)
    assert june.mean == pytest.approx(statistics.mean(now))
    assert june.sd == pytest.approx(statistics.stdev(now))
    margin = stats.t.ppf(0.975, len(now) - 1) * statistics.stdev(now) / math.sqrt(len(now))
    assert (june.ci_low, june.ci_high) == (pytest.approx(june.mean - margin), pytest.approx(june.mean + margin))
    assert june.share_insufficient == pytest.approx(3 / 12)
    assert june.share_8_plus == pytest.approx(6 / 12)
    assert june.distribution[8] == 9
    assert not june.indicative
    assert june.previous.n == len(before) and june.previous.period_start == date(2017, 6, 1)
    assert june.difference == pytest.approx(statistics.mean(now) - statistics.mean(before))
    welch = stats.ttest_ind(now, before, equal_var=False)
    assert june.p_value == pytest.approx(welch.pvalue)
    assert june.significant == (welch.pvalue < 0.05)
    july = figures(organisation)[date(2018, 7, 1)]
    assert july.indicative and july.sd is None and july.previous is None
    settings.KTO_SIGNIFICANCE_ALPHA = 0.99
    assert figures(organisation)[date(2018, 6, 1)].significant


@pytest.mark.django_db
def test_a_clear_improvement_is_significant_and_a_small_sample_indicative(organisation):
    for i in range(40):
        respond(organisation, 8 + i % 3, datetime(2018, 2, 1, 12, tzinfo=AMSTERDAM))
        respond(organisation, 5 + i % 3, datetime(2017, 2, 1, 12, tzinfo=AMSTERDAM))
    respond(organisation, 9, datetime(2018, 3, 1, 12, tzinfo=AMSTERDAM))
    rollups.rollup_incremental()
    february = figures(organisation)[date(2018, 2, 1)]
    assert february.significant and february.difference == pytest.approx(3)
    assert not february.indicative and february.previous.mean == pytest.approx(5.975)
    assert figures(organisation)[date(2018, 3, 1)].indicative


@pytest.mark.django_db
def test_contacts_volumes_invitations_and_response_rate(organisation):
    moment = datetime(2018, 3, 10, 12, tzinfo=AMSTERDAM)
    invitations = []
    for _ in range(4):
        result = services.register_contact(organisation=organisation, channel=Channel.TELEFOON, contact_moment=moment)
        invitations.append(result.invitation)
    for invitation in invitations:
        invitation.sent_at = moment
        invitation.save(update_fields=["sent_at"])
    services.submit_response(
        organisation=organisation,
        channel=Channel.TELEFOON,
        score=7,
        source=Source.INVITATION,
        invitation=invitations[0],
    )
    ContactVolume.objects.create(
        organisation=organisation, channel=Channel.TELEFOON, month=date(2018, 3, 1), count=6200
    )
    rollups.rollup_full()
    march = figures(organisation, channel=Channel.TELEFOON)[date(2018, 3, 1)]
    assert march.contacts_registered == 4
    assert march.contacts_imported == 6200 and march.contacts == 6200
    assert march.invitations_sent == 4
    assert march.responses == 1
    assert march.response_rate == pytest.approx(0.25)
    everything = figures(organisation, PeriodKind.YEAR, ALL_CHANNELS)[date(2018, 1, 1)]
    assert (everything.contacts_imported, everything.invitations_sent, everything.response_rate) == (6200, 4, 0.25)


@pytest.mark.django_db
def test_an_invitation_counts_as_sent_once_its_delivery_is_sent(organisation, mailoutbox):
    moment = datetime(2018, 3, 10, 12, tzinfo=AMSTERDAM)
    result = services.register_contact(
        organisation=organisation,
        channel=Channel.EMAIL,
        contact_moment=moment,
        recipient="a@example.nl",
        method="email",
    )
    rollups.rollup_incremental()
    march = figures(organisation, channel=Channel.EMAIL)[date(2018, 3, 1)]
    assert (march.contacts_registered, march.invitations_sent) == (1, 0)
    services.send_delivery(result.delivery.pk)
    assert len(mailoutbox) == 1
    rollups.rollup_incremental()
    assert figures(organisation, channel=Channel.EMAIL)[date(2018, 3, 1)].invitations_sent == 1


@pytest.mark.django_db
def test_contacts_invitations_volumes_and_deletions_through_the_pass_equal_a_recount(organisation, mailoutbox):
    moment = datetime(2018, 3, 31, 23, 30, tzinfo=AMSTERDAM)
    delivered = services.register_contact(
        organisation=organisation,
        channel=Channel.EMAIL,
        contact_moment=moment,
        recipient="a@example.nl",
        method="email",
    )
    services.register_contacts(
        organisation=organisation,
        contacts=[services.ContactInput(channel=Channel.TELEFOON, contact_moment=moment) for _ in range(3)],
    )
    rollups.rollup_incremental()
    services.send_delivery(delivered.delivery.pk)
    save_volumes = volumes.save_volumes
    row = volumes.VolumeRow(1, organisation, Channel.TELEFOON, date(2018, 3, 1), 900)
    save_volumes([row])
    gone = respond(organisation, 4, moment, Channel.TELEFOON)
    rollups.rollup_incremental()
    save_volumes([volumes.VolumeRow(1, organisation, Channel.TELEFOON, row.month, 850)])
    services.submit_response(
        organisation=organisation,
        channel=Channel.EMAIL,
        score=9,
        source=Source.INVITATION,
        invitation=delivered.invitation,
    )
    services.delete_responses([gone.pk])
    rollups.rollup_incremental()
    passes = rollup_rows()
    march = figures(organisation, channel=ALL_CHANNELS)[date(2018, 3, 1)]
    assert (march.contacts_registered, march.contacts_imported, march.invitations_sent) == (4, 850, 4)
    assert (march.n, march.responses, march.response_rate) == (1, 1, 0.25)
    rollups.rollup_full()
    assert rollup_rows() == passes


@pytest.mark.django_db
def test_figures_can_be_limited_to_a_range_of_periods(organisation):
    for year in (2017, 2018):
        for month in (1, 6, 12):
            respond(organisation, 7, datetime(year, month, 5, tzinfo=AMSTERDAM))
    rollups.rollup_incremental()
    months = figures(organisation, date_from=date(2018, 2, 1), date_to=date(2018, 6, 30))
    assert list(months) == [date(2018, 6, 1)]
    assert months[date(2018, 6, 1)].previous.period_start == date(2017, 6, 1)
    every_channel = selectors.rollup_figures(organisation=organisation, period=PeriodKind.YEAR)
    assert [(f.period_start.year, f.channel) for f in every_channel] == [
        (2017, ALL_CHANNELS),
        (2017, Channel.BALIE),
        (2018, ALL_CHANNELS),
        (2018, Channel.BALIE),
    ]


# --- formatting ---------------------------------------------------------------------------------


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


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_rollup_command_runs_the_incremental_pass_and_a_full_recompute(organisation, capsys):
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    respond(organisation, 6, datetime(2018, 5, 10, tzinfo=AMSTERDAM))
    call_command("rollup", no_progress=True)
    assert "Rolled up 1 organisation(s), 2 month(s)" in capsys.readouterr().out
    assert not RollupChange.objects.exists()
    ScoreRollup.objects.all().delete()
    ContactRollup.objects.all().delete()
    call_command("rollup", full=True, organisation=organisation.slug, since="2018-04", no_progress=True)
    assert list(figures(organisation)) == [date(2018, 5, 1)]  # March is before --from
    # Its year is derived from the stored months only: March's rows were deleted above.
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == 1
    call_command("rollup", full=True, no_progress=True)
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == 2


@pytest.mark.django_db(transaction=True)
def test_a_pass_in_parallel_jobs_gives_the_rows_of_a_recount(settings, capsys):
    """``rollup --jobs 2``: two connections share the organisations out; each change is taken
    in exactly once."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    organisations = [OrganisationFactory() for _ in range(5)]
    for index, organisation in enumerate(organisations):
        for day in range(1, 2 + index):
            respond(organisation, 1 + (day + index) % 10, datetime(2018, 3, day, tzinfo=AMSTERDAM))
            respond(organisation, 7, datetime(2018, 4, day, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    call_command("rollup", jobs=2, no_progress=True)
    assert "Rolled up 5 organisation(s), 10 month(s)" in capsys.readouterr().out
    assert not RollupChange.objects.exists()
    after_pass = rollup_rows()
    rollups.rollup_full()
    assert rollup_rows() == after_pass
    assert figures(organisations[-1])[date(2018, 3, 1)].n == 5


def test_a_pass_in_parallel_jobs_refuses_to_run_inside_a_transaction(db):
    with pytest.raises(RuntimeError, match="cannot run inside a transaction"):
        rollups.rollup_incremental(jobs=2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"full": True, "since": "2018-13"}, "--from expects a month as YYYY-MM"),
        ({"since": "2018-01"}, "--from only goes with --full"),
        ({"organisation": "nergens"}, "Unknown organisation"),
        ({"jobs": 0}, "--jobs expects 1 or more jobs, not 0"),
        ({"jobs": 2, "full": True}, "--jobs only goes with the incremental pass"),
    ],
)
@pytest.mark.django_db
def test_the_rollup_command_explains_bad_options(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("rollup", no_progress=True, **options)


@pytest.mark.django_db(transaction=True)
def test_passes_that_take_away_one_after_the_other(settings):
    """Each pass takes away its own change (an update in the pass's statement, not the upsert),
    once, from the month and from the year."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    organisation = OrganisationFactory()
    responses = [respond(organisation, score, datetime(2018, 3, 10, tzinfo=AMSTERDAM)) for score in (8, 6, 3)]
    rollups.rollup_incremental()
    for left, response in zip((2, 1), responses, strict=False):
        services.delete_responses([response.pk])
        rollups.rollup_incremental()
        march = figures(organisation)[date(2018, 3, 1)]
        assert march.n == left
        assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == left
    assert figures(organisation)[date(2018, 3, 1)].mean == 3


@pytest.mark.django_db
def test_the_tables_a_pass_rewrites_are_kept_for_in_place_updates_and_vacuumed_soon():
    """Free space for in-place (HOT) updates in the rollup tables, and autovacuum once a
    thousand rows are dead in those and in the change table (not once a fifth of the table is)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('surveys_scorerollup', 'surveys_contactrollup', 'surveys_rollupchange') ORDER BY relname"
        )
        options = {name: set(values) for name, values in cursor.fetchall()}
    vacuum = {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=1000"}
    assert options == {
        "surveys_contactrollup": {"fillfactor=50", *vacuum},
        "surveys_rollupchange": vacuum,
        "surveys_scorerollup": {"fillfactor=50", *vacuum},
    }
