"""The filters of the responses list in the admin. None of them runs a DISTINCT or a COUNT over the
responses to list its choices: the years come from the rollups, the rest are fixed, so the list
stays fast at millions of responses."""

from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from surveys.common.time import add_months, parse_month
from surveys.followups.models import FollowUpStatus
from surveys.organisations.roles import membership_of
from surveys.rollups.models import PeriodKind, ScoreRollup


class PeriodFilter(admin.SimpleListFilter):
    """Any year with figures, and when one is chosen each of its months ("2018" or "2018-03")."""

    title = _("periode van contact")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        years = ScoreRollup.objects.filter(period=PeriodKind.YEAR)
        if not request.user.is_superuser:
            membership = membership_of(request.user)
            years = years.filter(organisation_id=membership.organisation_id if membership else None)
        listed = {start.year for start in years.values_list("period_start", flat=True).distinct()}
        chosen = (self.value() or "")[:4]
        if chosen.isdigit():
            listed.add(int(chosen))
        options = []
        # Never empty: a filter without choices is left out, and its parameter with it.
        for year in sorted(listed or {timezone.localdate().year}, reverse=True):
            options.append((str(year), str(year)))
            if chosen == str(year):
                options += [
                    (f"{month:%Y-%m}", date_format(month, "F Y"))
                    for month in (date(year, number, 1) for number in range(1, 13))
                ]
        return options

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value.isdigit() and len(value) == 4:
            return queryset.filter(
                contact_month__gte=date(int(value), 1, 1), contact_month__lt=date(int(value) + 1, 1, 1)
            )
        month = parse_month(value)
        if month is None:
            raise IncorrectLookupParameters(value)
        return queryset.filter(contact_month__gte=month, contact_month__lt=add_months(month, 1))


class ScoreBandFilter(admin.SimpleListFilter):
    title = _("rapportcijfer")
    parameter_name = "score_band"
    BANDS = {
        "low": (_("onvoldoende (1-5)"), Q(score__lte=5)),
        "middle": (_("6 of 7"), Q(score__in=[6, 7])),
        "high": (_("8 of hoger"), Q(score__gte=8)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _condition) in self.BANDS.items()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() not in self.BANDS:
            raise IncorrectLookupParameters(self.value())
        return queryset.filter(self.BANDS[self.value()][1])


class HasCommentFilter(admin.SimpleListFilter):
    title = _("toelichting")
    parameter_name = "has_comment"

    def lookups(self, request, model_admin):
        return [("yes", _("met toelichting")), ("no", _("zonder toelichting"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(comment="")
        if self.value() == "no":
            return queryset.filter(comment="")
        if self.value():
            raise IncorrectLookupParameters(self.value())
        return queryset


class FollowUpFilter(admin.SimpleListFilter):
    """The response's follow-up (terugbelverzoek): none, or the state it is in."""

    title = _("terugbelverzoek")
    parameter_name = "follow_up"
    NONE = "none"

    def lookups(self, request, model_admin):
        return [(self.NONE, _("geen")), *FollowUpStatus.choices]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() == self.NONE:
            return queryset.filter(follow_up__isnull=True)
        if self.value() not in FollowUpStatus.values:
            raise IncorrectLookupParameters(self.value())
        return queryset.filter(follow_up__status=self.value())


class CappedPaginator(Paginator):
    """Counts at most CAP rows: an exact COUNT of millions of filtered responses would take longer
    than the page itself. Beyond the cap the list says "1.000+" and pages go up to it (20 pages;
    a filter or a search narrows a longer list, and the export takes all of it). The count is
    unordered, so that PostgreSQL reads the first CAP matching rows in any order it likes."""

    CAP = 1_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.CAP].count()
