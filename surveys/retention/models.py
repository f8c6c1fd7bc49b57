from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Organisation


class RetentionRun(models.Model):
    """What one day's retention erased and deleted for one organisation (shown in the admin)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="retention_runs", verbose_name=_("organisatie")
    )
    ran_at = models.DateTimeField(_("uitgevoerd"), default=timezone.now)
    comments_before = models.DateTimeField(_("toelichtingen van vóór"))
    raw_data_before = models.DateField(_("reacties van vóór de maand"))
    comments_erased = models.PositiveIntegerField(_("toelichtingen gewist"), default=0)
    responses_deleted = models.PositiveIntegerField(_("reacties verwijderd"), default=0)
    contacts_deleted = models.PositiveIntegerField(_("contacten verwijderd"), default=0)
    invitations_deleted = models.PositiveIntegerField(_("uitnodigingen verwijderd"), default=0)
    cooldowns_deleted = models.PositiveIntegerField(_("wachttijden verwijderd"), default=0)

    class Meta:
        verbose_name = _("bewaartermijn-run")
        verbose_name_plural = _("bewaartermijn-runs")
        ordering = ["-ran_at"]
        indexes = [models.Index(fields=["organisation", "-ran_at"])]

    def __str__(self) -> str:
        return f"{self.organisation} · {timezone.localtime(self.ran_at):%Y-%m-%d %H:%M}"
