"""The recount: the repair of rows that something wrote without recording its changes, in one
snapshot (so a write committed while it runs is counted exactly once), and the rollup command."""

from datetime import date, datetime

import pytest
from django.core.management import CommandError, call_command

from surveys.common.time import AMSTERDAM
from surveys.organisations.models import Channel
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import ContactRollup, PeriodKind, RollupChange, ScoreRollup
from surveys.rollups.recount import rollup_full
from tests.factories import OrganisationFactory
from tests.rollups.helpers import figures, respond, rollup_rows
from tests.rollups.test_incremental import MARCH_11, _respond_elsewhere


@pytest.mark.django_db(transaction=True)
def test_a_response_committed_during_a_recount_is_counted_exactly_once(settings):
    settings.KTO_ROLLUP_ON_COMMIT = False
    organisation = OrganisationFactory()
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    finished = []

    def after_the_scores(steps):
        """The recount's steps; after the first (the responses counted) a resident answers on
        another connection."""
        for number, step in enumerate(steps):
            yield step
            if number == 0:
                finished.append(not _respond_elsewhere(organisation, 2, MARCH_11).is_alive())

    rollup_full(progress=after_the_scores)
    assert finished == [True]  # the resident did not wait for the recount
    assert figures(organisation)[date(2018, 3, 1)].n == 1  # the recount's snapshot is from before it
    assert RollupChange.objects.count() == 1  # so its change stays for the next pass
    rollup_incremental()
    march = figures(organisation)[date(2018, 3, 1)]
    assert (march.n, march.mean, march.responses) == (2, 5, 2)
    assert figures(organisation, PeriodKind.YEAR)[date(2018, 1, 1)].n == 2


@pytest.mark.django_db
def test_the_recount_repairs_rows_written_without_changes(organisation):
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    respond(organisation, 6, datetime(2018, 4, 10, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    rollup_incremental()
    right = rollup_rows()
    ScoreRollup.objects.filter(period_start=date(2018, 4, 1)).delete()
    ScoreRollup.objects.filter(period=PeriodKind.YEAR).update(n=99)
    ScoreRollup.objects.create(
        organisation=organisation,
        channel=Channel.EMAIL,
        period=PeriodKind.MONTH,
        period_start=date(2018, 5, 1),
        n=1,
        total=1,
        total_sq=1,
        count_1=1,
    )
    result = rollup_full()
    assert rollup_rows() == right
    assert (result.organisations, result.score_rows) == (1, 7)  # four month rows, three year rows
    assert rollup_full().score_rows == 7 and rollup_rows() == right  # run again: the same rows


def test_the_rollup_command_runs_the_incremental_pass_and_a_full_recompute(organisation, capsys):
    respond(organisation, 8, datetime(2018, 3, 10, tzinfo=AMSTERDAM))
    respond(organisation, 6, datetime(2018, 5, 10, tzinfo=AMSTERDAM))
    call_command("rollup", no_progress=True)
    assert "Rolled up 1 organisation(s): 6 score row(s), 0 contact row(s) written." in capsys.readouterr().out
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
    settings.KTO_ROLLUP_ON_COMMIT = False
    organisations = [OrganisationFactory() for _ in range(5)]
    for index, organisation in enumerate(organisations):
        for day in range(1, 2 + index):
            respond(organisation, 1 + (day + index) % 10, datetime(2018, 3, day, tzinfo=AMSTERDAM))
            respond(organisation, 7, datetime(2018, 4, day, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    call_command("rollup", jobs=2, no_progress=True)
    assert "Rolled up 5 organisation(s): 35 score row(s), 0 contact row(s) written." in capsys.readouterr().out
    assert not RollupChange.objects.exists()
    after_pass = rollup_rows()
    rollup_full()
    assert rollup_rows() == after_pass
    assert figures(organisations[-1])[date(2018, 3, 1)].n == 5


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
