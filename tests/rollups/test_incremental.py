"""The rollup pass: the Amsterdam calendar, changes taken in exactly once whatever commits
alongside, the same rows as a recount, and a killed job that leaves nothing half-written."""

import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.common.time import AMSTERDAM, month_of
from surveys.invitations.services import create_invitation
from surveys.organisations.models import Channel
from surveys.questionnaires.services import current_version
from surveys.responses.models import Response, Source
from surveys.responses.services import delete_responses, record_one_click, submit_response
from surveys.rollups import changes, incremental
from surveys.rollups.incremental import LOCK_NAMESPACE, rollup_incremental, rollup_organisations
from surveys.rollups.models import ALL_CHANNELS, SCORE_KEY, ContactRollup, PeriodKind, RollupChange, ScoreRollup
from surveys.rollups.recount import rollup_full
from tests.factories import OrganisationFactory
from tests.rollups.helpers import figures, respond, rollup_rows

MARCH_11 = datetime(2018, 3, 11, tzinfo=AMSTERDAM)


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
    rollup_incremental()
    months = figures(organisation)
    assert list(months) == [month]
    assert months[month].n == 1
    assert figures(organisation, PeriodKind.YEAR)[date(month.year, 1, 1)].n == 1


@pytest.mark.django_db
def test_a_late_answer_updates_the_earlier_month_and_its_year(organisation):
    respond(organisation, 9, datetime(2018, 11, 30, 12, tzinfo=AMSTERDAM))
    rollup_incremental()
    invitation, _ = create_invitation(
        organisation=organisation, channel=Channel.BALIE, contact_moment=datetime(2018, 11, 30, 16, tzinfo=AMSTERDAM)
    )
    record_one_click(invitation=invitation, score=3)
    rollup_incremental()
    assert figures(organisation)[date(2018, 11, 1)].mean == 6
    # The resident completes the form later with another score: the month is recomputed, not added to.
    submit_response(
        organisation=organisation, channel=Channel.BALIE, score=5, source=Source.INVITATION, invitation=invitation
    )
    rollup_incremental()
    november = figures(organisation)[date(2018, 11, 1)]
    assert (november.n, november.mean, november.distribution) == (2, 7, {5: 1, 9: 1})
    assert november.responses == 2 and november.invited_responses == 1
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].mean == 7
    assert not RollupChange.objects.exists()


@pytest.mark.django_db
def test_months_without_responses_lose_their_rows(organisation):
    kept = respond(organisation, 8, datetime(2018, 5, 5, tzinfo=AMSTERDAM))
    gone = respond(organisation, 4, datetime(2018, 6, 5, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    rollup_incremental()
    assert date(2018, 6, 1) in figures(organisation, channel=ALL_CHANNELS)
    delete_responses([gone.pk])
    rollup_incremental()
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
                rollup_incremental()
            elif action == "complete" and pending:
                invitation = pending.pop()
                submit_response(
                    organisation=organisation,
                    channel=channel,
                    score=score,
                    source=Source.INVITATION,
                    invitation=invitation,
                    answers={"vriendelijkheid": friendliness},
                )
            elif action == "late":
                # A one-click score for a contact weeks ago; the form may be completed later.
                invitation, _ = create_invitation(
                    organisation=organisation, channel=channel, contact_moment=moment - timedelta(days=40)
                )
                record_one_click(invitation=invitation, score=score)
                pending.append(invitation)
            else:
                respond(organisation, score, moment, channel, answers={"vraag_beantwoord": score % 2})
        rollup_incremental()
        incremental = rollup_rows()
        rollup_full()
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
        month = month_of(response.contact_moment)
        for channel in (response.channel, ALL_CHANNELS):
            result.setdefault((channel, month), []).append(response.score)
    return result


@pytest.mark.django_db
def test_the_queries_of_an_incremental_pass_do_not_grow_with_the_number_of_responses(organisation):
    version = current_version(organisation=organisation, channel=Channel.BALIE)

    def queries_for(count):
        """``count`` responses, each in a month of its own, each with the change that
        submit_response() records."""
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
        for response in responses:  # one change per response, as submit_response() records
            changes.record(changes.scored(changes.of_response(response, {})))
        assert RollupChange.objects.count() == count
        with CaptureQueriesContext(connection) as context:
            result = rollup_incremental()
        assert result.organisations == 1
        assert sum(f.n for f in figures(organisation).values()) == count
        return len(context.captured_queries)

    assert queries_for(10) == queries_for(1000)


@pytest.mark.django_db
def test_a_write_appends_its_changes_and_the_pass_adds_them_up(organisation):
    """No lock and no merge on the write side: each response appends one change per question it
    counts in (the rapportcijfer and each numeric answer); the pass sums them."""
    for score in range(1, 11):
        respond(organisation, score, datetime(2018, 3, score, tzinfo=AMSTERDAM), answers={"vriendelijkheid": 4})
    respond(organisation, 7, datetime(2018, 3, 12, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    pending = sorted(RollupChange.objects.values_list("channel", "question_key", "n", "total"))
    assert pending == sorted(
        [*((Channel.BALIE, SCORE_KEY, 1, score) for score in range(1, 11))]
        + [(Channel.BALIE, "vriendelijkheid", 1, 4)] * 10
        + [(Channel.TELEFOON, SCORE_KEY, 1, 7)]
    )
    rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean) == (10, 5.5)
    assert figures(organisation, question_key="vriendelijkheid")[date(2018, 3, 1)].mean == 4
    assert figures(organisation, channel=ALL_CHANNELS)[date(2018, 3, 1)].n == 11
    assert not RollupChange.objects.exists()


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
def _response_being_written(organisation, score, moment, **kwargs):
    """A response written by another connection whose transaction stays open inside the block
    (a resident's request that is not finished yet); it commits when the block ends."""
    writing, done = threading.Event(), threading.Event()

    def write_slowly():
        try:
            with transaction.atomic():
                respond(organisation, score, moment, **kwargs)
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


def _after(monkeypatch, then) -> None:
    """Make ``then()`` run right after the pass's statements, in the pass's transaction."""
    original = incremental.take_in

    def patched(*args, **kwargs):
        outcome = original(*args, **kwargs)
        then()
        return outcome

    monkeypatch.setattr(incremental, "take_in", patched)


@pytest.mark.django_db(transaction=True)
def test_a_response_committed_during_a_pass_counts_in_the_next_one_exactly_once(settings, monkeypatch):
    settings.KTO_ROLLUP_ON_COMMIT = False
    organisation = OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    elsewhere = []
    # After the pass took in the changes, before it commits.
    _after(monkeypatch, lambda: elsewhere.append(_respond_elsewhere(organisation, 2, MARCH_11)))
    rollup_incremental()
    monkeypatch.undo()
    assert not elsewhere[0].is_alive()  # the resident did not wait for the pass
    assert figures(organisation)[date(2018, 3, 1)].n == 1  # the pass took in what was committed before it
    assert RollupChange.objects.count() == 1  # and the new change is pending
    rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean) == (2, 5)
    assert not RollupChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_write_still_open_during_a_pass_is_taken_in_whole_by_the_next_one(settings):
    """A pass never takes in half of a write: an open transaction's changes are not visible to
    it, and all of them are to the next pass."""
    settings.KTO_ROLLUP_ON_COMMIT = False
    organisation, other = OrganisationFactory(), OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    respond(other, 6, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    with _response_being_written(organisation, 2, MARCH_11, answers={"vriendelijkheid": 1}):
        result = rollup_incremental()
    assert result.skipped == []
    assert figures(other)[date(2018, 3, 1)].n == 1
    assert figures(organisation)[date(2018, 3, 1)].n == 1
    assert date(2018, 3, 1) not in figures(organisation, question_key="vriendelijkheid")
    rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean) == (2, 5)
    assert figures(organisation, question_key="vriendelijkheid")[date(2018, 3, 1)].n == 1


@pytest.mark.django_db(transaction=True)
def test_a_write_never_waits_for_another_one_writing_the_same_month(settings):
    """Two residents answer at the same moment: each appends its own change, so writes never
    wait for, or deadlock with, each other."""
    settings.KTO_ROLLUP_ON_COMMIT = False
    organisation = OrganisationFactory()
    respond(organisation, 4, datetime(2018, 3, 9, tzinfo=AMSTERDAM))
    with _response_being_written(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM)):
        quick = _respond_elsewhere(organisation, 6, MARCH_11)
        assert not quick.is_alive()  # done while the first write is still open
    assert sorted(RollupChange.objects.values_list("n", "total")) == [(1, 4), (1, 6), (1, 8)]
    rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean) == (3, 6)
    assert not RollupChange.objects.exists()


@pytest.mark.django_db
def test_a_job_that_dies_halfway_leaves_no_half_written_period(organisation, monkeypatch):
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    rollup_incremental()
    before = rollup_rows()
    respond(organisation, 2, datetime(2018, 3, 11, tzinfo=AMSTERDAM))

    def killed():
        raise SystemExit("worker killed")  # after the month and year rows were written, before the commit

    _after(monkeypatch, killed)
    with pytest.raises(SystemExit):
        rollup_incremental()
    assert rollup_rows() == before  # the month rows written before the crash were rolled back
    assert RollupChange.objects.filter(month=date(2018, 3, 1)).exists()
    monkeypatch.undo()
    rollup_incremental()  # the next run repairs it
    assert figures(organisation)[date(2018, 3, 1)].n == 2
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == 2


@pytest.mark.django_db
def test_running_a_pass_twice_gives_the_same_rows(organisation):
    for score in (3, 8, 10):
        respond(organisation, score, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    rollup_incremental()
    first = rollup_rows()
    again = rollup_incremental()  # nothing pending: nothing written
    assert (again.organisations, again.score_rows, again.contact_rows) == (0, 0, 0)
    rollup_full()
    rollup_full(organisation_ids=[organisation.pk], since=date(2018, 2, 1))
    assert rollup_rows() == first


@pytest.mark.django_db(transaction=True)
def test_an_organisation_busy_in_another_job_is_skipped_and_its_changes_wait(settings):
    settings.KTO_ROLLUP_ON_COMMIT = False  # as with a worker: the beat pass rolls up, not the commit
    organisation = OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, organisation.pk])
            result = rollup_organisations([organisation.pk])
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    assert result.skipped == [organisation.pk]
    assert RollupChange.objects.filter(organisation=organisation).exists()
    assert rollup_organisations([organisation.pk]).score_rows == 4  # balie and all channels, month and year
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


@pytest.mark.django_db(transaction=True)
def test_passes_that_take_away_one_after_the_other(settings):
    """Each pass takes away its own change, once, from the month and from the year; the last
    one leaves no row behind."""
    settings.KTO_ROLLUP_ON_COMMIT = False
    organisation = OrganisationFactory()
    responses = [respond(organisation, score, datetime(2018, 3, 10, tzinfo=AMSTERDAM)) for score in (8, 6, 3)]
    rollup_incremental()
    for left, response in zip((2, 1), responses, strict=False):
        delete_responses([response.pk])
        rollup_incremental()
        march = figures(organisation)[date(2018, 3, 1)]
        assert march.n == left
        assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == left
    assert figures(organisation)[date(2018, 3, 1)].mean == 3
    delete_responses([responses[2].pk])
    rollup_incremental()
    assert not ScoreRollup.objects.filter(organisation=organisation).exists()


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
