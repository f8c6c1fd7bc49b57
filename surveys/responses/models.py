from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.invitations.models import Invitation
from surveys.organisations.models import Channel, Organisation
from surveys.questionnaires.models import Question, SurveyVersion


class Source(models.TextChoices):
    INVITATION = "invitation", _("Uitnodigingslink")
    ONE_CLICK = "one_click", _("Eén-kliklink")
    OPEN = "open", _("Open link / QR-code")
    API = "api", _("Extern systeem (API)")


class Response(models.Model):
    """A resident's answer. The rapportcijfer is a column (check constraint 1..10); extra
    answers are rows in Answer; the comment is masked before it is stored."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="responses")
    channel = models.CharField(_("kanaal"), max_length=20, choices=Channel.choices)
    survey_version = models.ForeignKey(
        SurveyVersion, on_delete=models.PROTECT, related_name="responses", verbose_name=_("versie")
    )
    invitation = models.OneToOneField(
        Invitation, on_delete=models.PROTECT, null=True, blank=True, related_name="response"
    )
    contact_moment = models.DateTimeField(_("contactmoment"))
    # The calendar month (Europe/Amsterdam) of the contact, fixed at write time so that
    # rollups group on a plain column instead of converting time zones per row.
    contact_month = models.DateField(_("maand van contact"), editable=False)
    submitted_at = models.DateTimeField(_("ingevuld"), default=timezone.now)
    score = models.PositiveSmallIntegerField(_("rapportcijfer"))
    comment = models.TextField(_("toelichting"), blank=True)
    language = models.CharField(_("taal"), max_length=5, default="nl")
    source = models.CharField(_("bron"), max_length=12, choices=Source.choices)
    is_complete = models.BooleanField(
        _("volledig"), default=True, help_text=_("Onwaar zolang alleen een één-klikcijfer is gegeven.")
    )

    class Meta:
        verbose_name = _("reactie")
        verbose_name_plural = _("reacties")
        ordering = ["-submitted_at"]
        indexes = [
            # Covers the rollup's GROUP BY (score and invitation included), so a month is
            # recounted from the index alone.
            models.Index(
                fields=["organisation", "contact_month", "channel", "score", "invitation"],
                name="response_rollup_idx",
            ),
            models.Index(fields=["organisation", "-submitted_at"]),
            # The responses list's order: newest month of contact first, so that a period filter
            # and the order are one index range, at any number of responses.
            models.Index(fields=["organisation", "-contact_month", "-submitted_at"], name="response_list_idx"),
            # The comments' Dutch full-text search in the admin (ResponseAdmin.get_search_results).
            GinIndex(SearchVector("comment", config="dutch"), name="response_comment_fts"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=10), name="response_score_1_10"),
            models.CheckConstraint(condition=Q(source__in=[s.value for s in Source]), name="response_source_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_channel_display()} · {self.score}"


class Answer(models.Model):
    """The answer to one extra question. ``value`` holds scale answers and yes (1) / no (0);
    ``choice`` holds the chosen option of a single-choice question."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name = _("antwoord")
        verbose_name_plural = _("antwoorden")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once_per_question"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0, value__lte=10), name="answer_value_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question.key}: {self.value if self.value is not None else self.choice}"


class ExportLog(models.Model):
    """One export of responses: who, when, with which filter, in which format, how many rows.
    Kept so that the organisation can account for every copy of residents' comments."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("organisatie")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("door")
    )
    username = models.CharField(_("gebruikersnaam"), max_length=150)
    created_at = models.DateTimeField(_("tijdstip"), default=timezone.now)
    file_format = models.CharField(_("formaat"), max_length=4)
    filters = models.TextField(_("filter"), blank=True)
    rows = models.PositiveIntegerField(_("rijen"), null=True, blank=True, help_text=_("Leeg: niet afgerond."))

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.username} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M} · {self.file_format}"
