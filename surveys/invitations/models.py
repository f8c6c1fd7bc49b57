from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Channel, Organisation


class InvitationStatus(models.TextChoices):
    CREATED = "created", _("Aangemaakt")
    SENT = "sent", _("Verzonden")
    FAILED = "failed", _("Mislukt")
    OPENED = "opened", _("Geopend")
    ANSWERED = "answered", _("Beantwoord")
    EXPIRED = "expired", _("Verlopen")


class Invitation(models.Model):
    """A single-use invitation to rate one contact. Only a hash of the token is stored: the
    token itself exists in the resident's link (and, until sent, in the pending delivery)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("organisatie")
    )
    channel = models.CharField(_("kanaal"), max_length=20, choices=Channel.choices)
    contact_moment = models.DateTimeField(_("contactmoment"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(_("taal"), max_length=5, default="nl")
    status = models.CharField(
        _("status"), max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.CREATED
    )
    created_at = models.DateTimeField(_("aangemaakt"), default=timezone.now)
    expires_at = models.DateTimeField(_("verloopt"))
    sent_at = models.DateTimeField(_("verzonden"), null=True, blank=True)
    opened_at = models.DateTimeField(_("geopend"), null=True, blank=True)
    answered_at = models.DateTimeField(_("beantwoord"), null=True, blank=True)
    # A mail link scanner opened several one-click links of the message within seconds.
    link_scanner_at = models.DateTimeField(_("linkscanner gezien"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("uitnodiging")
        verbose_name_plural = _("uitnodigingen")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organisation", "channel", "created_at"]),
            # For the expiry task: only the invitations that can still expire.
            models.Index(
                fields=["expires_at"],
                condition=Q(status__in=["created", "sent", "opened"]),
                name="invitation_open_expiry",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="invitation_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_channel_display()} · {self.created_at:%Y-%m-%d}"

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())


class DeliveryMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class Delivery(models.Model):
    """Sending one invitation to one address. The address and the plain token are kept only
    until the message is sent (or the invitation expires), then erased."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Wacht")
        SENDING = "sending", _("Bezig")
        RETRY = "retry", _("Nieuwe poging volgt")
        SENT = "sent", _("Verzonden")
        FAILED = "failed", _("Mislukt")
        # Its worker died while sending: the message may or may not have gone out (never sent again).
        UNKNOWN = "unknown", _("Onbekend (onderbroken)")

    invitation = models.OneToOneField(
        Invitation, on_delete=models.CASCADE, related_name="delivery", verbose_name=_("uitnodiging")
    )
    method = models.CharField(_("methode"), max_length=10, choices=DeliveryMethod.choices)
    recipient = models.CharField(_("ontvanger"), max_length=254, blank=True)
    token = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    claimed_at = models.DateTimeField(_("in behandeling sinds"), null=True, blank=True)
    # When its task was last queued: a pending delivery whose task never reached a worker (the
    # broker was down) is queued again by the sweep (invitations.services.requeue_deliveries).
    queued_at = models.DateTimeField(_("in de wachtrij gezet"), default=timezone.now)
    sent_at = models.DateTimeField(_("verzonden"), null=True, blank=True)
    provider_reference = models.CharField(_("referentie verzender"), max_length=100, blank=True)
    error = models.TextField(_("fout"), blank=True)

    class Meta:
        verbose_name = _("verzending")
        verbose_name_plural = _("verzendingen")
        indexes = [
            # For the expiry task: the few deliveries that still hold an address or a token.
            models.Index(
                fields=["invitation"], condition=~Q(recipient="") | ~Q(token=""), name="delivery_holding_address"
            ),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="delivery_sending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} · {self.get_status_display()}"


class ContactOutcome(models.TextChoices):
    INVITED = "invited", _("Uitgenodigd")
    SAMPLED_OUT = "sampled_out", _("Niet in steekproef")
    COOLDOWN = "cooldown", _("Recent al uitgenodigd")
    OPTED_OUT = "opted_out", _("Afgemeld")
    CHANNEL_DISABLED = "channel_disabled", _("Kanaal niet actief")


class Contact(models.Model):
    """A contact moment registered by one of the municipality's systems (through the API)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("organisatie")
    )
    channel = models.CharField(_("kanaal"), max_length=20, choices=Channel.choices)
    contact_moment = models.DateTimeField(_("contactmoment"))
    contact_month = models.DateField(_("maand van contact"), editable=False)
    reference = models.CharField(_("referentie"), max_length=100, blank=True)
    language = models.CharField(_("taal"), max_length=5, default="nl")
    outcome = models.CharField(_("uitkomst"), max_length=20, choices=ContactOutcome.choices)
    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
        verbose_name=_("uitnodiging"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacten")
        ordering = ["-contact_moment"]
        indexes = [models.Index(fields=["organisation", "contact_month", "channel"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"],
                condition=~Q(reference=""),
                name="contact_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_channel_display()} · {self.reference or self.pk}"


class OptOut(models.Model):
    """An address that must never be invited again by this organisation, kept only as its keyed
    hash (see services.address_hash)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="opt_outs", verbose_name=_("organisatie")
    )
    address_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("afgemeld op"), default=timezone.now)

    class Meta:
        verbose_name = _("afmelding")
        verbose_name_plural = _("afmeldingen")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "address_hash"], name="opt_out_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.created_at:%Y-%m-%d}"


class RecipientCooldown(models.Model):
    """When an address (as its keyed hash) was last invited. Deliberately not linked to the
    invitation, and only a date, so that a response cannot be traced back to an address hash."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisatie")
    )
    address_hash = models.CharField(max_length=64, editable=False)
    last_invited_on = models.DateField(_("laatst uitgenodigd op"))

    class Meta:
        verbose_name = _("wachttijd ontvanger")
        verbose_name_plural = _("wachttijden ontvangers")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "address_hash"], name="recipient_cooldown_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.last_invited_on}"
