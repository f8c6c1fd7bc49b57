"""The figures read from the rollups: statistics from the stored sums, the same period a year
earlier with Welch's t-test, contacts, volumes and the response rate."""

import math
import statistics
from datetime import date, datetime

import pytest
from scipy import stats

from surveys.common.time import AMSTERDAM
from surveys.invitations.contacts import register_contact
from surveys.invitations.delivery import send_delivery
from surveys.organisations.models import Channel
from surveys.responses.models import Source
from surveys.responses.services import submit_response
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import ALL_CHANNELS, ContactVolume, PeriodKind
from surveys.rollups.recount import rollup_full
from surveys.rollups.selectors import rollup_figures
from tests.rollups.helpers import figures, mailed_contact, respond


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
    rollup_incremental()
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
    rollup_incremental()
    february = figures(organisation)[date(2018, 2, 1)]
    assert february.significant and february.difference == pytest.approx(3)
    assert not february.indicative and february.previous.mean == pytest.approx(5.975)
    assert figures(organisation)[date(2018, 3, 1)].indicative


@pytest.mark.django_db
def test_contacts_volumes_invitations_and_response_rate(organisation):
    moment = datetime(2018, 3, 10, 12, tzinfo=AMSTERDAM)
    invitations = []
    for _ in range(4):
        result = register_contact(organisation=organisation, channel=Channel.TELEFOON, contact_moment=moment)
        invitations.append(result.invitation)
    for invitation in invitations:
        invitation.sent_at = moment
        invitation.save(update_fields=["sent_at"])
    submit_response(
        organisation=organisation,
        channel=Channel.TELEFOON,
        score=7,
        source=Source.INVITATION,
        invitation=invitations[0],
    )
    ContactVolume.objects.create(
        organisation=organisation, channel=Channel.TELEFOON, month=date(2018, 3, 1), count=6200
    )
    rollup_full()
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
    result = mailed_contact(organisation, moment)
    rollup_incremental()
    march = figures(organisation, channel=Channel.EMAIL)[date(2018, 3, 1)]
    assert (march.contacts_registered, march.invitations_sent) == (1, 0)
    send_delivery(result.delivery.pk)
    assert len(mailoutbox) == 1
    rollup_incremental()
    assert figures(organisation, channel=Channel.EMAIL)[date(2018, 3, 1)].invitations_sent == 1


@pytest.mark.django_db
def test_figures_can_be_limited_to_a_range_of_periods(organisation):
    for year in (2017, 2018):
        for month in (1, 6, 12):
            respond(organisation, 7, datetime(year, month, 5, tzinfo=AMSTERDAM))
    rollup_incremental()
    months = figures(organisation, date_from=date(2018, 2, 1), date_to=date(2018, 6, 30))
    assert list(months) == [date(2018, 6, 1)]
    assert months[date(2018, 6, 1)].previous.period_start == date(2017, 6, 1)
    every_channel = rollup_figures(organisation=organisation, period=PeriodKind.YEAR)
    assert [(f.period_start.year, f.channel) for f in every_channel] == [
        (2017, ALL_CHANNELS),
        (2017, Channel.BALIE),
        (2018, ALL_CHANNELS),
        (2018, Channel.BALIE),
    ]
