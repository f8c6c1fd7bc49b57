"""The dashboard: the landing page of the staff workspace. A staff member sees their own
organisation; a superuser picks one. Everything on it comes from the rollups."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from surveys.common.formatting import format_score
from surveys.followups.services import queue_counts
from surveys.organisations.models import Organisation
from surveys.organisations.roles import membership_of
from surveys.reports.charts import distribution_chart, month_label, trend_chart
from surveys.reports.workbooks import dashboard_workbook

from .selectors import dashboard as dashboard_figures
from .selectors import kerncijfers, years_with_figures

KERNCIJFER_YEARS = 4
MONTHS = [
    (1, gettext_lazy("januari")),
    (2, gettext_lazy("februari")),
    (3, gettext_lazy("maart")),
    (4, gettext_lazy("april")),
    (5, gettext_lazy("mei")),
    (6, gettext_lazy("juni")),
    (7, gettext_lazy("juli")),
    (8, gettext_lazy("augustus")),
    (9, gettext_lazy("september")),
    (10, gettext_lazy("oktober")),
    (11, gettext_lazy("november")),
    (12, gettext_lazy("december")),
]


class PeriodForm(forms.Form):
    """The year and month the dashboard shows; the organisation for a superuser."""

    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), to_field_name="slug", required=False, label=gettext_lazy("Organisatie")
    )
    year = forms.TypedChoiceField(coerce=int, required=False, label=gettext_lazy("Jaar"))
    month = forms.TypedChoiceField(
        coerce=int, required=False, choices=[("", gettext_lazy("laatste maand"))] + MONTHS, label=gettext_lazy("Maand")
    )

    def __init__(self, data, *, organisations, years):
        super().__init__(data)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].empty_label = None
        if organisations.count() <= 1:
            del self.fields["organisation"]
        self.fields["year"].choices = [("", _("laatste jaar"))] + [(year, str(year)) for year in reversed(years)]


def _organisations(request):
    if request.user.is_superuser:
        return Organisation.objects.order_by("name")
    membership = membership_of(request.user)
    return Organisation.objects.filter(pk=membership.organisation_id) if membership else Organisation.objects.none()


def dashboard(request):
    organisations = _organisations(request)
    context = {**admin.site.each_context(request), "title": _("Dashboard")}
    if not organisations.exists():
        return TemplateResponse(request, "admin/kto/no_organisation.html", context)
    chosen = organisations.filter(slug=request.GET.get("organisation")).first() or organisations.first()
    form = PeriodForm(request.GET or None, organisations=organisations, years=years_with_figures(chosen))
    valid = form.is_valid()
    year = form.cleaned_data.get("year") if valid else None
    month = form.cleaned_data.get("month") if valid else None
    figures = dashboard_figures(chosen, year=year, month=month)
    years = list(range(figures.year.year - KERNCIJFER_YEARS + 1, figures.year.year + 1))
    context |= {
        "form": form,
        "organisation": chosen,
        "figures": figures,
        "month_name": date_format(figures.month, "F Y"),
        "trend_chart": trend_chart(
            figures.trend,
            title=_("Rapportcijfer per maand, %(first)s tot en met %(last)s")
            % {"first": month_label(figures.trend_months[0]), "last": month_label(figures.month)},
            description=_trend_description(figures),
            key="trend",
        ).svg(),
        "distribution_chart": distribution_chart(
            figures.distribution,
            title=_("Verdeling van de rapportcijfers in %(year)s") % {"year": figures.year.year},
            description=_("Aantal reacties per rapportcijfer van 1 tot en met 10, alle kanalen samen."),
            key="distribution",
        ).svg(),
        "distribution": [(score, figures.distribution.get(score, 0)) for score in range(1, 11)],
        "volume_years": years,
        "volumes": kerncijfers(chosen, years),
        "follow_ups": queue_counts(chosen.pk),
    }
    if request.GET.get("format") == "xlsx":
        answer = HttpResponse(
            dashboard_workbook(figures, context["volumes"], years),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"kto-{chosen.slug}-{figures.month:%Y-%m}.xlsx"
        answer["Content-Disposition"] = f'attachment; filename="{name}"'
        return answer
    return TemplateResponse(request, "admin/kto/dashboard.html", context)


def _trend_description(figures) -> str:
    parts = []
    for label, points in figures.trend.items():
        values = [value for _month, value in points if value is not None]
        if values:
            parts.append(
                _("%(channel)s van %(low)s tot %(high)s, laatst %(last)s")
                % {
                    "channel": label,
                    "low": format_score(min(values)),
                    "high": format_score(max(values)),
                    "last": format_score(values[-1]),
                }
            )
    return "; ".join(parts) + "." if parts else _("Geen cijfers in deze periode.")
