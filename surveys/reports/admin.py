"""Report e-mails in the admin: a KTO-beheerder edits the subscriptions and their recipients, sends
a period's report by hand, previews any period; everyone of the organisation sees what was sent,
in which state, and can look at a report as it went out. A failed or unknown delivery is sent
again only when someone asks (the action "Opnieuw versturen")."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from surveys.organisations.models import Channel
from surveys.organisations.scoping import OrganisationScopedAdminMixin, scope_queryset

from . import services, views
from .models import ReportDelivery, ReportRecipient, ReportSubscription
from .schedule import parse_period


class SubscriptionForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("kanalen"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Niets aangevinkt: alle kanalen, met het totaal."),
    )

    class Meta:
        model = ReportSubscription
        fields = ("organisation", "name", "monthly", "yearly", "language", "channels", "active")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("monthly") and not cleaned.get("yearly"):
            raise forms.ValidationError(_("Kies het maandrapport, het jaarrapport of allebei."))
        return cleaned


class RecipientInline(OrganisationScopedAdminMixin, admin.TabularInline):
    model = ReportRecipient
    fields = ("email", "unsubscribed_at")
    readonly_fields = ("unsubscribed_at",)
    extra = 1


class SendForm(forms.Form):
    period = forms.CharField(
        label=gettext_lazy("Periode"),
        max_length=7,
        help_text=gettext_lazy("Een jaar (2018) voor het jaarrapport, een maand (2018-11) voor het maandrapport."),
    )

    def clean_period(self):
        parsed = parse_period(self.cleaned_data["period"])
        if parsed is None:
            raise forms.ValidationError(_("Geef een jaar (2018) of een maand (2018-11)."))
        return parsed


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    form = SubscriptionForm
    inlines = [RecipientInline]
    list_display = (
        "name",
        "organisation",
        "monthly",
        "yearly",
        "language",
        "channel_list",
        "recipient_count",
        "active",
    )
    list_filter = ("active", "language")
    actions = ["send_now"]

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return fields if request.user.is_superuser else [f for f in fields if f != "organisation"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation").prefetch_related("recipients")

    def get_urls(self):
        return [
            path("voorbeeld/", self.admin_site.admin_view(views.preview), name="reports-preview"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"preview_url": reverse("admin:reports-preview"), **(extra_context or {})}
        return super().changelist_view(request, extra)

    @admin.display(description=gettext_lazy("kanalen"))
    def channel_list(self, subscription):
        return ", ".join(str(Channel(c).label) for c in subscription.channels) or _("alle")

    @admin.display(description=gettext_lazy("ontvangers"))
    def recipient_count(self, subscription):
        return sum(1 for r in subscription.recipients.all() if not r.unsubscribed_at)

    @admin.action(description=gettext_lazy("Rapport nu versturen…"), permissions=["change"])
    def send_now(self, request, queryset):
        form = SendForm(request.POST if "period" in request.POST else None)
        if form.is_valid():
            kind, period = form.cleaned_data["period"]
            claimed = skipped = 0
            with transaction.atomic():
                for subscription in queryset:
                    if not subscription.wants(kind) or not subscription.active:
                        skipped += 1
                        continue
                    claimed += len(
                        services.claim(subscription.organisation_id, kind, period, subscription_ids=[subscription.pk])
                    )
            self.message_user(
                request,
                ngettext(
                    "%(count)d rapport klaargezet om te versturen.",
                    "%(count)d rapporten klaargezet om te versturen.",
                    claimed,
                )
                % {"count": claimed},
                messages.SUCCESS,
            )
            if skipped or not claimed:
                self.message_user(
                    request,
                    _(
                        "Wie dit rapport al kreeg, krijgt het niet nog eens: gebruik daarvoor “Opnieuw "
                        "versturen” bij de verzonden rapporten. Abonnementen die dit soort rapport niet "
                        "krijgen, zijn overgeslagen."
                    ),
                    messages.INFO,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Rapport nu versturen"),
            "form": form,
            "subscriptions": queryset,
            "action": "send_now",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/kto/report_send.html", context)


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    list_display = ("period", "kind", "organisation", "email", "state", "attempts", "sent_at", "report_links")
    list_filter = ("state", "kind", "language")
    search_fields = ("email",)
    date_hierarchy = "period_start"
    actions = ["resend"]
    fields = (
        "organisation",
        "subscription",
        "email",
        "kind",
        "period_start",
        "language",
        "state",
        "attempts",
        "last_error",
        "claimed_at",
        "sending_since",
        "sent_at",
        "sent_count",
        "next_attempt_at",
        "resent_by",
        "report_links",
    )
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "subscription")

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/rapport.<str:answer_format>", self.admin_site.admin_view(self.as_sent), name="reports-sent"),
            *super().get_urls(),
        ]

    @admin.display(description=gettext_lazy("periode"), ordering="period_start")
    def period(self, delivery):
        return delivery.period_label

    @admin.display(description=gettext_lazy("rapport"))
    def report_links(self, delivery):
        links = [("html", _("bekijken")), ("pdf", "PDF"), ("xlsx", "XLSX")]
        return format_html(
            " · ".join(['<a href="{}">{}</a>'] * len(links)),
            *[
                value
                for answer_format, label in links
                for value in (reverse("admin:reports-sent", args=[delivery.pk, answer_format]), label)
            ],
        )

    def as_sent(self, request, pk: int, answer_format: str):
        """The report as it was sent: drawn from the figures stored with the delivery."""
        delivery = scope_queryset(self.get_queryset(request), request.user).filter(pk=pk).first()
        if delivery is None or answer_format not in views.FORMATS:
            return TemplateResponse(
                request, "admin/kto/not_found.html", {**self.admin_site.each_context(request)}, status=404
            )
        return views.report_answer(
            delivery.organisation, delivery.figures, delivery.comments, delivery.language, answer_format
        )

    @admin.action(description=gettext_lazy("Opnieuw versturen"), permissions=["change"])
    def resend(self, request, queryset):
        queued = services.resend(list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d rapport wordt opnieuw verstuurd.", "%(count)d rapporten worden opnieuw verstuurd.", queued
            )
            % {"count": queued},
            messages.SUCCESS if queued else messages.WARNING,
        )
