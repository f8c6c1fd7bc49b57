from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Organisation
from surveys.responses.models import Response


class FollowUpStatus(models.TextChoices):
    NEW = "new", _("Nieuw")
    IN_PROGRESS = "in_progress", _("In behandeling")
    DONE = "done", _("Afgehandeld")


class FollowUp(models.Model):
    """A low score that someone at the KCC looks into: assigned, worked on, closed, with a note."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("organisatie")
    )
    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, related_name="follow_up", verbose_name=_("reactie")
    )
    status = models.CharField(_("status"), max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.NEW)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("toegewezen aan"),
    )
    note = models.TextField(
        _("interne notitie"), blank=True, help_text=_("Persoonsgegevens worden onleesbaar gemaakt.")
    )
    created_at = models.DateTimeField(_("binnengekomen"), default=timezone.now)
    due_at = models.DateTimeField(_("uiterlijk af"))
    closed_at = models.DateTimeField(_("afgehandeld op"), null=True, blank=True)

    class Meta:
        verbose_name = _("terugbelverzoek")
        verbose_name_plural = _("terugbelverzoeken")
        ordering = ["status", "due_at"]
        indexes = [models.Index(fields=["organisation", "status", "due_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=FollowUpStatus.values), name="follow_up_status"),
            models.CheckConstraint(
                condition=Q(status=FollowUpStatus.DONE, closed_at__isnull=False)
                | (~Q(status=FollowUpStatus.DONE) & Q(closed_at__isnull=True)),
                name="follow_up_closed_when_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.response} · {self.get_status_display()}"

    def is_overdue(self, now=None) -> bool:
        return self.status != FollowUpStatus.DONE and self.due_at < (now or timezone.now())


class FollowUpContact(models.Model):
    """How the resident wants to be reached ("Mag de gemeente contact met u opnemen?"): kept apart
    from the response, shown only in the queue, erased when the item is closed or at ``erase_at``."""

    follow_up = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="contact")
    address = models.CharField(_("telefoonnummer of e-mailadres"), max_length=254)
    erase_at = models.DateTimeField(_("wordt gewist op"))

    class Meta:
        verbose_name = _("contactgegevens")
        verbose_name_plural = _("contactgegevens")

    def __str__(self) -> str:
        return str(_("contactgegevens"))
