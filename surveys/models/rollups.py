from django.db import models
from django.utils.translation import gettext_lazy as _

from .organisations import Organisation


class RollupDirtyMonth(models.Model):
    """A month of an organisation whose figures must be recomputed. Written in the same
    transaction as the response that changed it; removed by the rollup pass."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("te herberekenen maand")
        verbose_name_plural = _("te herberekenen maanden")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "month"], name="rollup_dirty_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} · {self.month:%Y-%m}"
