"""The report pages: a recipient's unsubscribe page (public, behind the link and the
List-Unsubscribe header of every report), and for staff the preview of any period's report and the
view of a report as it was sent (HTML in the browser, the factsheet as PDF, the figures as XLSX)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys.organisations.models import Organisation
from surveys.organisations.roles import membership_of

from .figures import lowest_comments, report_figures
from .mail import read_unsubscribe_token
from .models import ReportKind, ReportRecipient
from .render import factsheet_pdf, render_report
from .schedule import parse_period
from .workbooks import report_workbook

FORMATS = ("html", "pdf", "xlsx")


# No CSRF token: the signed token in the address is the authorisation, and a mail client's
# one-click unsubscribe (RFC 8058) POSTs without one. No session, so no cookie either.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    recipient_id = read_unsubscribe_token(token)
    recipient = (
        ReportRecipient.objects.select_related("subscription__organisation").filter(pk=recipient_id).first()
        if recipient_id
        else None
    )
    if recipient is None:
        return render(request, "reports/unsubscribe_invalid.html", status=404)
    with override(recipient.subscription.language):
        if request.method == "POST" and not recipient.unsubscribed_at:
            recipient.unsubscribed_at = timezone.now()
            recipient.save(update_fields=["unsubscribed_at"])
        context = {
            "organisation": recipient.subscription.organisation,
            "done": recipient.unsubscribed_at is not None,
            "action": request.get_full_path(),
            "language": recipient.subscription.language,
        }
        return render(request, "reports/unsubscribe.html", context)


class PreviewForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), to_field_name="slug", label=gettext_lazy("Organisatie")
    )
    period = forms.CharField(
        label=gettext_lazy("Periode"),
        max_length=7,
        help_text=gettext_lazy("Een jaar (2018) voor het jaarrapport, een maand (2018-11) voor het maandrapport."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Taal"), choices=[("nl", "Nederlands"), ("en", "English")])
    format = forms.ChoiceField(
        label=gettext_lazy("Vorm"),
        choices=[
            ("html", gettext_lazy("e-mail (HTML)")),
            ("pdf", gettext_lazy("factsheet (PDF)")),
            ("xlsx", gettext_lazy("cijfers (XLSX)")),
        ],
        initial="html",
    )

    def __init__(self, data, *, organisations):
        super().__init__(data)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].empty_label = None

    def clean_period(self):
        parsed = parse_period(self.cleaned_data["period"])
        if parsed is None:
            raise forms.ValidationError(_("Geef een jaar (2018) of een maand (2018-11)."))
        return parsed


def organisations_of(user):
    if user.is_superuser:
        return Organisation.objects.order_by("name")
    membership = membership_of(user)
    return Organisation.objects.filter(pk=membership.organisation_id) if membership else Organisation.objects.none()


def report_answer(organisation, figures, comments, language, answer_format: str) -> HttpResponse:
    """A report drawn in the browser: the e-mail's HTML (images inline), the PDF or the XLSX."""
    period = figures["period"][:4] if figures["kind"] == ReportKind.YEAR else figures["period"][:7]
    name = f"kto-{organisation.slug}-{period}"
    report = render_report(organisation, figures, comments, language, preview=True, attachments=False)
    if answer_format == "html":
        return HttpResponse(report.html)
    if answer_format == "xlsx":
        with override(language):
            content = report_workbook(figures)
        answer = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        answer["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return answer
    with override(language):
        pdf = factsheet_pdf(report.context)
    answer = HttpResponse(pdf, content_type="application/pdf")
    answer["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return answer


def preview(request):
    """Any organisation's (a staff member: their own) report of any period, drawn from today's
    figures, before anything is sent."""
    organisations = organisations_of(request.user)
    form = PreviewForm(request.GET or None, organisations=organisations)
    if request.GET and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        kind, period = form.cleaned_data["period"]
        language = form.cleaned_data["language"]
        figures = report_figures(organisation, kind, period, [], language)
        comments = lowest_comments(organisation, period, []) if kind == ReportKind.MONTH else []
        return report_answer(organisation, figures, comments, language, form.cleaned_data["format"])
    context = {**admin.site.each_context(request), "title": _("Voorbeeld van een rapport"), "form": form}
    return TemplateResponse(request, "admin/kto/report_preview.html", context, status=400 if request.GET else 200)
