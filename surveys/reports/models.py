"""Report e-mails for managers: who receives which report (a subscription and its recipients), and
one delivery row per subscription, recipient and period, claimed before anything is sent (the
unique constraint decides who sends), holding the figures as they were sent."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Channel, Organisation


class ReportKind(models.TextChoices):
    MONTH = "month", _("Maandrapport")
    YEAR = "year", _("Jaarrapport")


class ReportSubscription(models.Model):
    """A group of recipients of an organisation's reports: monthly and/or yearly, in one language,
    about all channels or some of them."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="report_subscriptions", verbose_name=_("organisatie")
    )
    name = models.CharField(_("omschrijving"), max_length=120, help_text=_("Bijvoorbeeld: directie, teamleiders KCC."))
    monthly = models.BooleanField(_("maandrapport"), default=True)
    yearly = models.BooleanField(_("jaarrapport"), default=True)
    language = models.CharField(_("taal"), max_length=5, choices=settings.LANGUAGES, default="nl")
    channels = ArrayField(
        models.CharField(max_length=20, choices=Channel.choices),
        blank=True,
        default=list,
        verbose_name=_("kanalen"),
        help_text=_("Leeg: alle kanalen."),
    )
    active = models.BooleanField(_("actief"), default=True)
    created_at = models.DateTimeField(_("aangemaakt"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("rapportabonnement")
        verbose_name_plural = _("rapportabonnementen")
        ordering = ["organisation__name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(monthly=True) | Q(yearly=True), name="report_subscription_some_kind")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.name}"

    def wants(self, kind: str) -> bool:
        return self.monthly if kind == ReportKind.MONTH else self.yearly


class ReportRecipient(models.Model):
    """A manager's address. An unsubscribed recipient keeps the row (so that the address is not
    added again by mistake) and gets nothing."""

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("abonnement")
    )
    email = models.EmailField(_("e-mailadres"))
    unsubscribed_at = models.DateTimeField(_("afgemeld op"), null=True, blank=True)

    class Meta:
        verbose_name = _("ontvanger")
        verbose_name_plural = _("ontvangers")
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["subscription", "email"], name="report_recipient_unique")]

    def __str__(self) -> str:
        return self.email


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Klaar om te versturen")
    SENDING = "sending", _("Wordt verstuurd")
    RETRY = "retry", _("Wordt opnieuw geprobeerd")
    SENT = "sent", _("Verstuurd")
    FAILED = "failed", _("Mislukt")
    UNKNOWN = "unknown", _("Onbekend")
    SKIPPED = "skipped", _("Niet verstuurd (afgemeld)")


class ReportDelivery(models.Model):
    """One report to one recipient. Claimed (inserted) before it is sent: a second worker, a
    retried task or a second beat finds the row and sends nothing. A worker that died while
    sending leaves it ``sending``; it is then marked ``unknown`` and sent again only by hand."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="report_deliveries", verbose_name=_("organisatie")
    )
    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("abonnement")
    )
    email = models.EmailField(_("ontvanger"))
    kind = models.CharField(_("soort"), max_length=5, choices=ReportKind.choices)
    period_start = models.DateField(_("periode"))
    language = models.CharField(_("taal"), max_length=5, choices=settings.LANGUAGES)
    state = models.CharField(_("status"), max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    next_attempt_at = models.DateTimeField(_("volgende poging"), null=True, blank=True)
    last_error = models.TextField(_("laatste fout"), blank=True)
    claimed_at = models.DateTimeField(_("klaargezet"), default=timezone.now)
    sending_since = models.DateTimeField(_("verzending begonnen"), null=True, blank=True)
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    sent_count = models.PositiveSmallIntegerField(_("keer verstuurd"), default=0)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opnieuw verstuurd door"),
    )
    figures = models.JSONField(_("cijfers"), default=dict, editable=False)
    comments = models.JSONField(_("opmerkingen"), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("verzonden rapport")
        verbose_name_plural = _("verzonden rapporten")
        ordering = ["-period_start", "organisation__name", "email"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "email", "kind", "period_start"], name="report_delivery_once"
            ),
            models.CheckConstraint(condition=Q(state__in=DeliveryState.values), name="report_delivery_state"),
            models.CheckConstraint(condition=Q(kind__in=ReportKind.values), name="report_delivery_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_label} → {self.email}"

    @property
    def period_label(self) -> str:
        return str(self.period_start.year) if self.kind == ReportKind.YEAR else f"{self.period_start:%Y-%m}"
