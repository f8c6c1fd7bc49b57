"""End to end with a real Celery worker on real Redis: a response submitted here is rolled up by
the worker after the beat task (rollup_pass) is sent to the broker."""

from datetime import date, datetime

import pytest

from kto.celery import app as celery_app
from surveys.common.time import AMSTERDAM
from surveys.organisations.models import Channel
from surveys.responses.models import Source
from surveys.responses.services import submit_response
from surveys.rollups.models import RollupChange, ScoreRollup
from surveys.rollups.tasks import rollup_pass
from tests.factories import OrganisationFactory
from tests.rollups.helpers import figures
from tests.worker import wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_rolls_up_a_new_response(worker, settings):
    process, log = worker
    # As in production: no eager rollup after commit; the beat task goes through Redis.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.KTO_ROLLUP_ON_COMMIT = False
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        organisation = OrganisationFactory()
        for score in (6, 9):
            submit_response(
                organisation=organisation,
                channel=Channel.TELEFOON,
                score=score,
                source=Source.OPEN,
                contact_moment=datetime(2018, 12, 31, 23, 30, tzinfo=AMSTERDAM),
            )
        assert RollupChange.objects.filter(organisation=organisation).exists()
        rollup_pass.apply_async()

        def month_row():
            return ScoreRollup.objects.filter(
                organisation=organisation, channel=Channel.TELEFOON, period="month", period_start=date(2018, 12, 1)
            ).first()

        row = wait_for(month_row, "the month row", process, log)
        assert (row.n, row.total) == (2, 15)
        assert figures(organisation, channel=Channel.TELEFOON)[date(2018, 12, 1)].mean == 7.5
        year = ScoreRollup.objects.get(
            organisation=organisation, channel="all", period="year", period_start=date(2018, 1, 1)
        )
        assert year.n == 2
        wait_for(lambda: not RollupChange.objects.exists(), "the change to be taken in", process, log)
        assert "rollup_organisation" in log.read_text()
    finally:
        celery_app.conf.task_always_eager = eager
