from django.conf import settings
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """The ways a resident can be in contact with the municipality."""

    BALIE = "balie", _("Balie")
    TELEFOON = "telefoon", _("Telefoon")
    EMAIL = "email", _("E-mail")
    WHATSAPP = "whatsapp", _("WhatsApp")
    CHAT = "chat", _("Chat")
    WEBSITE = "website", _("Website")
    SOCIAL = "social", _("Sociale media")


def default_invitation_valid_days() -> int:
    return settings.KTO_INVITATION_VALID_DAYS


def default_invitation_cooldown_days() -> int:
    return settings.KTO_INVITATION_COOLDOWN_DAYS


def default_follow_up_below() -> int:
    return settings.KTO_FOLLOW_UP_BELOW


def default_comment_retention_months() -> int:
    return settings.KTO_COMMENT_RETENTION_MONTHS


def default_response_retention_months() -> int:
    return settings.KTO_RESPONSE_RETENTION_MONTHS


class Organisation(models.Model):
    """A municipality (or another public body) that measures its residents' satisfaction."""

    name = models.CharField(_("naam"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    logo = models.FileField(
        _("logo"),
        upload_to="logos/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "svg", "webp"])],
    )
    brand_colour = models.CharField(
        _("huisstijlkleur"),
        max_length=7,
        default="#154273",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Gebruik een kleur als #154273."))],
        help_text=_("Donker genoeg voor witte tekst (contrast minstens 4,5:1)."),
    )
    invitation_valid_days = models.PositiveSmallIntegerField(
        _("geldigheid uitnodiging (dagen)"), default=default_invitation_valid_days
    )
    invitation_cooldown_days = models.PositiveSmallIntegerField(
        _("wachttijd tussen uitnodigingen (dagen)"),
        default=default_invitation_cooldown_days,
        help_text=_("Dezelfde persoon wordt hoogstens één keer per zoveel dagen uitgenodigd."),
    )
    follow_up_below = models.PositiveSmallIntegerField(
        _("terugbellen bij een cijfer lager dan"),
        default=default_follow_up_below,
        validators=[MinValueValidator(1), MaxValueValidator(11)],
        help_text=_("Reacties met een lager cijfer en een toelichting of contactverzoek komen in de terugbellijst."),
    )
    comment_retention_months = models.PositiveSmallIntegerField(
        _("bewaartermijn toelichtingen (maanden)"),
        default=default_comment_retention_months,
        help_text=_("Daarna worden de toelichtingen van bewoners gewist; de cijfers blijven."),
    )
    response_retention_months = models.PositiveSmallIntegerField(
        _("bewaartermijn reacties (maanden)"),
        default=default_response_retention_months,
        help_text=_("Daarna worden reacties, contacten en uitnodigingen verwijderd; de maand- en jaarcijfers blijven."),
    )
    # The first month whose raw data is still complete: the retention job moves it forward before
    # it deletes, and a recount never recounts a month before it (its rollups are the record).
    raw_data_kept_from = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisatie")
        verbose_name_plural = _("organisaties")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(brand_colour__regex=r"^#[0-9a-fA-F]{6}$"), name="organisation_colour_hex"
            ),
            models.CheckConstraint(condition=Q(invitation_valid_days__gte=1), name="organisation_valid_days"),
            # Raw responses outlive their comments (the comments go first); a month is the least.
            models.CheckConstraint(
                condition=Q(comment_retention_months__gte=1)
                & Q(response_retention_months__gte=models.F("comment_retention_months")),
                name="organisation_retention",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def enabled_channels(self) -> list[str]:
        return list(self.channels.filter(enabled=True).values_list("channel", flat=True))


class OrganisationChannel(models.Model):
    """A channel an organisation uses, with its invitation sampling."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="channels")
    channel = models.CharField(_("kanaal"), max_length=20, choices=Channel.choices)
    enabled = models.BooleanField(_("actief"), default=True)
    sample_one_in = models.PositiveIntegerField(
        _("steekproef: 1 op de"),
        default=1,
        help_text=_("Nodig 1 op de zoveel contacten uit (1 = iedereen)."),
    )

    class Meta:
        verbose_name = _("kanaal")
        verbose_name_plural = _("kanalen")
        ordering = ["organisation", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "channel"], name="organisation_channel_unique"),
            models.CheckConstraint(condition=Q(sample_one_in__gte=1), name="organisation_channel_sample"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_channel_display()}"


class Role(models.TextChoices):
    KCC = "kcc", _("KCC-medewerker")
    BEHEERDER = "beheerder", _("KTO-beheerder")


class StaffMembership(models.Model):
    """Ties a staff user to the one organisation whose data they may see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kto_membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices, default=Role.KCC)

    class Meta:
        verbose_name = _("medewerker")
        verbose_name_plural = _("medewerkers")

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"
