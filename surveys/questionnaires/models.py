from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Channel, Organisation


def localised(obj, field: str, language: str | None = None) -> str:
    """Return ``field_<lang>``, falling back to Dutch when the translation is empty."""
    language = (language or get_language() or "nl")[:2]
    return getattr(obj, f"{field}_{language}", "") or getattr(obj, f"{field}_nl")


class Survey(models.Model):
    """The questionnaire of one organisation for one channel. Its content lives in versions."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="surveys")
    channel = models.CharField(_("kanaal"), max_length=20, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vragenlijst")
        verbose_name_plural = _("vragenlijsten")
        ordering = ["organisation", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "channel"], name="survey_organisation_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_channel_display()}"

    def current_version(self) -> "SurveyVersion":
        return self.versions.order_by("-number").first()


class SurveyVersion(models.Model):
    """An edition of a survey. Frozen as soon as it has responses: edits create a new version,
    so that old answers keep the meaning of the questions they answered."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("versie"))
    created_at = models.DateTimeField(auto_now_add=True)
    intro_nl = models.TextField(_("inleiding (NL)"), blank=True)
    intro_en = models.TextField(_("inleiding (EN)"), blank=True)
    score_label_nl = models.CharField(_("vraag rapportcijfer (NL)"), max_length=300)
    score_label_en = models.CharField(_("vraag rapportcijfer (EN)"), max_length=300, blank=True)
    comment_label_nl = models.CharField(
        _("vraag toelichting (NL)"), max_length=300, blank=True, help_text=_("Leeg = geen toelichting.")
    )
    comment_label_en = models.CharField(_("vraag toelichting (EN)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("versie van vragenlijst")
        verbose_name_plural = _("versies van vragenlijsten")
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="survey_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.responses.exists()

    def score_label(self, language: str | None = None) -> str:
        return localised(self, "score_label", language)

    def comment_label(self, language: str | None = None) -> str:
        return localised(self, "comment_label", language)

    def intro(self, language: str | None = None) -> str:
        return localised(self, "intro", language)


class QuestionKind(models.TextChoices):
    SCALE_10 = "scale10", _("Schaal 1-10")
    SCALE_5 = "scale5", _("Schaal 1-5")
    YES_NO = "yesno", _("Ja/nee")
    CHOICE = "choice", _("Keuze uit opties")


class Question(models.Model):
    """An optional extra question next to the rapportcijfer. ``key`` names the question across
    versions, so that rollups can follow it."""

    version = models.ForeignKey(SurveyVersion, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(_("sleutel"), max_length=50)
    order = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    kind = models.CharField(_("soort"), max_length=10, choices=QuestionKind.choices)
    text_nl = models.CharField(_("vraag (NL)"), max_length=300)
    text_en = models.CharField(_("vraag (EN)"), max_length=300, blank=True)
    required = models.BooleanField(_("verplicht"), default=False)
    # For kind=choice: [{"value": "afspraak", "nl": "Afspraak", "en": "Appointment"}, ...]
    choices = models.JSONField(_("opties"), default=list, blank=True)

    class Meta:
        verbose_name = _("vraag")
        verbose_name_plural = _("vragen")
        # (By the version's id: its own ordering would join the survey and organisation tables.)
        ordering = ["version_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="question_key_per_version"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in QuestionKind]), name="question_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.text_nl

    def text(self, language: str | None = None) -> str:
        return localised(self, "text", language)

    def scale(self) -> range | None:
        return {QuestionKind.SCALE_10: range(1, 11), QuestionKind.SCALE_5: range(1, 6)}.get(self.kind)

    def choice_options(self, language: str | None = None) -> list[tuple[str, str]]:
        language = (language or get_language() or "nl")[:2]
        return [(c["value"], c.get(language) or c["nl"]) for c in self.choices]
