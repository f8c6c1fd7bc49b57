"""The figures, derived from the stored rollup sums (never from the responses), each next to the
same period a year earlier: what every reader of figures uses (today the API's rollups)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

from django.conf import settings
from scipy import stats

from surveys.common.time import month_of
from surveys.organisations.models import Channel, Organisation
from surveys.questionnaires.models import QuestionKind
from surveys.questionnaires.selectors import question_kinds

from .models import ALL_CHANNELS, SCORE_KEY, ContactRollup, PeriodKind, ScoreRollup

CHANNEL_ORDER = [ALL_CHANNELS, *Channel.values]


@dataclass(frozen=True)
class Figure:
    """The figures of one question, channel and period. ``mean`` and the shares are None without
    responses; ``indicative`` marks figures with fewer than KTO_MIN_RESPONSES responses."""

    period: str
    period_start: date
    channel: str
    question_key: str
    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    distribution: dict[int, int]
    share_insufficient: float | None  # below 6 ("onvoldoende"); None for a question on another scale
    share_8_plus: float | None
    indicative: bool
    contacts_registered: int
    contacts_imported: int
    invitations_sent: int
    responses: int
    invited_responses: int
    response_rate: float | None
    previous: Figure | None = None
    difference: float | None = None
    p_value: float | None = None
    significant: bool = False

    @property
    def contacts(self) -> int:
        """The contact volume: the imported count of the organisation's own systems where there
        is one, otherwise the contacts registered through the API."""
        return self.contacts_imported or self.contacts_registered


def period_start(value: date, period: str) -> date:
    return date(value.year, 1, 1) if period == PeriodKind.YEAR else month_of(value)


def year_before(value: date) -> date:
    return value.replace(year=value.year - 1)


def score_statistics(n: int, total: int, total_sq: int, distribution: dict) -> dict:
    """Mean, sample standard deviation, 95% confidence interval (t-distribution) and shares."""
    if n == 0:
        return dict(mean=None, sd=None, ci_low=None, ci_high=None, share_insufficient=None, share_8_plus=None)
    mean = total / n
    sd = ci_low = ci_high = None
    if n >= 2:
        sd = math.sqrt(max(0.0, (total_sq - total * total / n) / (n - 1)))
        margin = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        ci_low, ci_high = mean - margin, mean + margin
    counts = {int(value): count for value, count in distribution.items()}
    return dict(
        mean=mean,
        sd=sd,
        ci_low=ci_low,
        ci_high=ci_high,
        share_insufficient=sum(c for v, c in counts.items() if v < 6) / n,
        share_8_plus=sum(c for v, c in counts.items() if v >= 8) / n,
    )


def welch_p_value(current: Figure, previous: Figure) -> float | None:
    """Welch's t-test from the stored sums; None when it cannot be computed (n < 2, no spread)."""
    if current.sd is None or previous.sd is None or (current.sd == 0 and previous.sd == 0):
        return None
    result = stats.ttest_ind_from_stats(
        current.mean, current.sd, current.n, previous.mean, previous.sd, previous.n, equal_var=False
    )
    p_value = float(result.pvalue)
    return None if math.isnan(p_value) else p_value


def rollup_figures(
    *,
    organisation: Organisation,
    period: str = PeriodKind.MONTH,
    channel: str | None = None,
    question_key: str = SCORE_KEY,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[Figure]:
    """The figures of ``organisation`` per period (month or year) and channel ("all" = every
    channel together; None = each channel and "all"), oldest first, with the same period a year
    earlier as ``previous`` and Welch's significance of the difference."""
    if period not in PeriodKind.values:
        raise ValueError(f"Unknown period {period!r}")
    date_from = period_start(date_from, period) if date_from else None
    date_to = period_start(date_to, period) if date_to else None
    # The rapportcijfer's rows also give the responses (and so the response rate) of any question.
    scores = ScoreRollup.objects.filter(
        organisation=organisation, period=period, question_key__in={question_key, SCORE_KEY}
    )
    contacts = ContactRollup.objects.filter(organisation=organisation, period=period)
    if channel:
        scores, contacts = scores.filter(channel=channel), contacts.filter(channel=channel)
    if date_from:
        scores = scores.filter(period_start__gte=year_before(date_from))
        contacts = contacts.filter(period_start__gte=year_before(date_from))
    if date_to:
        scores, contacts = scores.filter(period_start__lte=date_to), contacts.filter(period_start__lte=date_to)
    score_rows = {(row.channel, row.period_start): row for row in scores if row.question_key == question_key}
    responses = {(row.channel, row.period_start): row for row in scores if row.question_key == SCORE_KEY}
    contact_rows = {(row.channel, row.period_start): row for row in contacts}
    # "Below 6" and "8 or more" belong to the 1-10 rapportcijfer, not to a 1-5 or a yes/no question.
    ten_point = question_key == SCORE_KEY or question_kinds(organisation.pk, question_key) == {QuestionKind.SCALE_10}
    figures = {
        key: _figure(period, key, question_key, score_rows.get(key), contact_rows.get(key), responses.get(key))
        for key in score_rows.keys() | contact_rows.keys()
    }
    if not ten_point:
        figures = {key: replace(f, share_insufficient=None, share_8_plus=None) for key, f in figures.items()}
    alpha = getattr(settings, "KTO_SIGNIFICANCE_ALPHA", 0.05)
    result = []
    for (ch, start), figure in figures.items():
        if date_from and start < date_from:
            continue
        previous = figures.get((ch, year_before(start)))
        result.append(_compare(figure, previous, alpha))
    result.sort(key=lambda f: (f.period_start, _channel_rank(f.channel)))
    return result


def _channel_rank(channel: str) -> int:
    return CHANNEL_ORDER.index(channel) if channel in CHANNEL_ORDER else len(CHANNEL_ORDER)


def _figure(
    period,
    key,
    question_key,
    score: ScoreRollup | None,
    contact: ContactRollup | None,
    rapportcijfer: ScoreRollup | None,
) -> Figure:
    channel, start = key
    invitations_sent = contact.invitations_sent if contact else 0
    invited_responses = rapportcijfer.n_invited if rapportcijfer else 0
    n = score.n if score else 0
    distribution = {int(v): c for v, c in score.distribution.items()} if score else {}
    statistics = score_statistics(n, score.total if score else 0, score.total_sq if score else 0, distribution)
    return Figure(
        period=period,
        period_start=start,
        channel=channel,
        question_key=question_key,
        n=n,
        distribution=distribution,
        indicative=n < getattr(settings, "KTO_MIN_RESPONSES", 30),
        contacts_registered=contact.contacts_registered if contact else 0,
        contacts_imported=contact.contacts_imported if contact else 0,
        invitations_sent=invitations_sent,
        responses=rapportcijfer.n if rapportcijfer else 0,
        invited_responses=invited_responses,
        response_rate=invited_responses / invitations_sent if invitations_sent else None,
        **statistics,
    )


def _compare(figure: Figure, previous: Figure | None, alpha: float) -> Figure:
    if previous is None:
        return figure
    difference = figure.mean - previous.mean if figure.mean is not None and previous.mean is not None else None
    p_value = welch_p_value(figure, previous) if difference is not None else None
    return replace(
        figure,
        previous=previous,
        difference=difference,
        p_value=p_value,
        significant=p_value is not None and p_value < alpha,
    )


__all__ = ["Figure", "rollup_figures", "score_statistics", "welch_p_value"]
