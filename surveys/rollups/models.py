"""Rollups: per organisation, channel, question and calendar period (Europe/Amsterdam), the sums
that figures are derived from. Sums and sums of squares (not means) are stored so that a year is
derived exactly from its months."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Channel, Organisation

# The channel value of the rows that cover every channel together.
ALL_CHANNELS = "all"
# The question key of the rapportcijfer (Response.score); extra questions use Question.key.
SCORE_KEY = "rapportcijfer"

# The values whose answers are counted (Answer.value is 0..10, the rapportcijfer 1..10).
DISTRIBUTION_VALUES = range(11)
DISTRIBUTION_FIELDS = [f"count_{value}" for value in DISTRIBUTION_VALUES]
# The figures of the two rollup tables, and so of a change.
SCORE_FIGURES = ["n", "n_invited", "total", "total_sq", *DISTRIBUTION_FIELDS]
CONTACT_FIGURES = ["contacts_registered", "contacts_imported", "invitations_sent"]

ROLLUP_CHANNEL_CHOICES = [*Channel.choices, (ALL_CHANNELS, _("Alle kanalen"))]


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Maand")
    YEAR = "year", _("Jaar")


class RollupChange(models.Model):
    """A change to one month's figures that the rollups have not taken in yet. Every write that
    changes a figure appends its changes in its own transaction (surveys/rollups/changes.py); the
    rollup pass takes them out and adds them to the month and year rows (or a recount removes
    them). Rows are only ever inserted and deleted, never updated.

    Score figures are per question (``question_key``; the rapportcijfer's row also counts the
    month's responses); contact figures have ``question_key`` "". Changes are signed: a
    completed one-click response is a change of -1 for its old answers and +1 for the new ones."""

    # (Indexed with its key below.)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    month = models.DateField()
    question_key = models.CharField(max_length=50, blank=True, default="", db_default="")
    n = models.IntegerField(default=0, db_default=0)
    n_invited = models.IntegerField(default=0, db_default=0)
    # The responses of a few minutes: no bigint needed (2**31 is 21 million times 10 squared). The
    # figures default to 0 in the database too: a statement that appends changes names only its own.
    total = models.IntegerField(default=0, db_default=0)
    total_sq = models.IntegerField(default=0, db_default=0)
    count_0 = models.IntegerField(default=0, db_default=0)
    count_1 = models.IntegerField(default=0, db_default=0)
    count_2 = models.IntegerField(default=0, db_default=0)
    count_3 = models.IntegerField(default=0, db_default=0)
    count_4 = models.IntegerField(default=0, db_default=0)
    count_5 = models.IntegerField(default=0, db_default=0)
    count_6 = models.IntegerField(default=0, db_default=0)
    count_7 = models.IntegerField(default=0, db_default=0)
    count_8 = models.IntegerField(default=0, db_default=0)
    count_9 = models.IntegerField(default=0, db_default=0)
    count_10 = models.IntegerField(default=0, db_default=0)
    contacts_registered = models.IntegerField(default=0, db_default=0)
    contacts_imported = models.IntegerField(default=0, db_default=0)
    invitations_sent = models.IntegerField(default=0, db_default=0)

    class Meta:
        indexes = [models.Index(fields=["organisation", "channel", "month", "question_key"], name="rollup_change_key")]
        verbose_name = _("wijziging voor de rollups")
        verbose_name_plural = _("wijzigingen voor de rollups")

    def __str__(self) -> str:
        return f"{self.organisation_id} · {self.channel} · {self.month:%Y-%m} · {self.question_key or '-'}"


class ScoreRollup(models.Model):
    """The answers to one question (the rapportcijfer or an extra scale / yes-no question) in one
    period. ``distribution`` maps each answered value ("1".."10") to its number of answers."""

    # Derived data, rewritten wholesale by a recount: no per-row foreign-key check; the indexes
    # are the unique key and the organisation's (Meta).
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="score_rollups", db_index=False, db_constraint=False
    )
    channel = models.CharField(_("kanaal"), max_length=20, choices=ROLLUP_CHANNEL_CHOICES)
    question_key = models.SlugField(_("vraag"), max_length=50, default=SCORE_KEY, db_index=False)
    period = models.CharField(_("periode"), max_length=5, choices=PeriodKind.choices)
    period_start = models.DateField(_("begin periode"))
    # A pass deletes a row whose last answer is taken away (in the same statement), so a stored
    # row always has n >= 1.
    n = models.PositiveIntegerField(_("aantal antwoorden"))
    n_invited = models.PositiveIntegerField(_("antwoorden op uitnodigingen"), default=0)
    total = models.BigIntegerField(_("som"))
    total_sq = models.BigIntegerField(_("som van kwadraten"))
    # The distribution: the number of answers per value (0 is "no" of a yes/no question), as
    # columns so that a year is the SUM of its months in SQL.
    count_0 = models.PositiveIntegerField(default=0)
    count_1 = models.PositiveIntegerField(default=0)
    count_2 = models.PositiveIntegerField(default=0)
    count_3 = models.PositiveIntegerField(default=0)
    count_4 = models.PositiveIntegerField(default=0)
    count_5 = models.PositiveIntegerField(default=0)
    count_6 = models.PositiveIntegerField(default=0)
    count_7 = models.PositiveIntegerField(default=0)
    count_8 = models.PositiveIntegerField(default=0)
    count_9 = models.PositiveIntegerField(default=0)
    count_10 = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(_("berekend"), default=timezone.now)

    class Meta:
        verbose_name = _("rollup van cijfers")
        verbose_name_plural = _("rollups van cijfers")
        ordering = ["organisation", "question_key", "channel", "period", "period_start"]
        # The unique key leads with the period: a pass adds to the recent periods of every
        # organisation, whose index entries then lie together however long the history grows.
        # The selectors read by organisation.
        constraints = [
            models.UniqueConstraint(
                fields=["period_start", "organisation", "period", "channel", "question_key"],
                name="score_rollup_unique",
            ),
            models.CheckConstraint(condition=Q(period__in=PeriodKind.values), name="score_rollup_period_valid"),
        ]
        indexes = [models.Index(fields=["organisation", "period", "period_start"], name="score_rollup_organisation")]

    def __str__(self) -> str:
        return f"{self.organisation_id} · {self.channel} · {self.question_key} · {self.period_start}"

    @property
    def distribution(self) -> dict[int, int]:
        """{value: number of answers} for the values that were given."""
        counts = {value: getattr(self, f"count_{value}") for value in DISTRIBUTION_VALUES}
        return {value: count for value, count in counts.items() if count}


class ContactRollup(models.Model):
    """Contact volumes in one period: contacts registered through the API, contacts imported
    from the organisation's own systems, invitations sent. (The responses, and so the response
    rate, come from the rapportcijfer's ScoreRollup row: a response changes one row, not two.)"""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contact_rollups", db_index=False, db_constraint=False
    )
    channel = models.CharField(_("kanaal"), max_length=20, choices=ROLLUP_CHANNEL_CHOICES)
    period = models.CharField(_("periode"), max_length=5, choices=PeriodKind.choices)
    period_start = models.DateField(_("begin periode"))
    contacts_registered = models.PositiveIntegerField(_("geregistreerde contacten"), default=0)
    contacts_imported = models.PositiveIntegerField(_("geïmporteerde contacten"), default=0)
    invitations_sent = models.PositiveIntegerField(_("verzonden uitnodigingen"), default=0)
    computed_at = models.DateTimeField(_("berekend"), default=timezone.now)

    class Meta:
        verbose_name = _("rollup van contacten")
        verbose_name_plural = _("rollups van contacten")
        ordering = ["organisation", "channel", "period", "period_start"]
        constraints = [  # (ordered as ScoreRollup's)
            models.UniqueConstraint(
                fields=["period_start", "organisation", "period", "channel"], name="contact_rollup_unique"
            ),
            models.CheckConstraint(condition=Q(period__in=PeriodKind.values), name="contact_rollup_period_valid"),
        ]
        indexes = [models.Index(fields=["organisation", "period", "period_start"], name="contact_rollup_organisation")]

    def __str__(self) -> str:
        return f"{self.organisation_id} · {self.channel} · {self.period_start}"


class ContactVolume(models.Model):
    """A month's number of contacts on a channel as counted by the organisation's own systems
    (telephony, appointments, mailbox): the kerncijfers. Imported from CSV or XLSX."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="contact_volumes")
    channel = models.CharField(_("kanaal"), max_length=20, choices=Channel.choices)
    month = models.DateField(_("maand"), help_text=_("De eerste dag van de maand."))
    count = models.PositiveIntegerField(_("aantal contacten"))
    source = models.CharField(_("bron"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("geïmporteerd"), default=timezone.now)

    class Meta:
        verbose_name = _("contactvolume")
        verbose_name_plural = _("contactvolumes")
        ordering = ["organisation", "-month", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "channel", "month"], name="contact_volume_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="contact_volume_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_channel_display()} · {self.month:%Y-%m}: {self.count}"


class FigureKind(models.TextChoices):
    COUNT = "count", _("Aantal")
    PERCENTAGE = "percentage", _("Percentage")


class KeyFigure(models.Model):
    """One of the municipality's own kerncijfers beside the contact volumes of its channels: a count
    or a percentage, per month or per year, optionally of one channel (shown under that channel's
    volume: "waarvan via 14 030"). Its values are kept as they are: they are not rolled up."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="key_figures", verbose_name=_("organisatie")
    )
    name = models.CharField(_("naam"), max_length=200)
    name_en = models.CharField(_("naam (EN)"), max_length=200, blank=True)
    kind = models.CharField(_("soort"), max_length=10, choices=FigureKind.choices, default=FigureKind.COUNT)
    period = models.CharField(_("per"), max_length=5, choices=PeriodKind.choices, default=PeriodKind.YEAR)
    channel = models.CharField(
        _("kanaal"),
        max_length=20,
        choices=Channel.choices,
        blank=True,
        help_text=_("Leeg: een cijfer van de hele organisatie."),
    )
    order = models.PositiveSmallIntegerField(_("volgorde"), default=0)

    class Meta:
        verbose_name = _("kerncijfer")
        verbose_name_plural = _("kerncijfers")
        ordering = ["organisation", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="key_figure_unique_name"),
            models.CheckConstraint(condition=Q(kind__in=FigureKind.values), name="key_figure_kind"),
            models.CheckConstraint(condition=Q(period__in=PeriodKind.values), name="key_figure_period"),
        ]

    def __str__(self) -> str:
        return self.name


class KeyFigureValue(models.Model):
    """A kerncijfer's value for one month or year (``period_start``: its first day)."""

    key_figure = models.ForeignKey(KeyFigure, on_delete=models.CASCADE, related_name="values")
    period_start = models.DateField(_("periode"), help_text=_("De eerste dag van de maand of het jaar."))
    value = models.DecimalField(_("waarde"), max_digits=14, decimal_places=2)
    source = models.CharField(_("bron"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("waarde")
        verbose_name_plural = _("waarden")
        ordering = ["key_figure", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["key_figure", "period_start"], name="key_figure_value_unique"),
            models.CheckConstraint(condition=Q(period_start__day=1), name="key_figure_value_first_day"),
            models.CheckConstraint(condition=Q(value__gte=0), name="key_figure_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.key_figure} · {self.period_start:%Y-%m}: {self.value}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        figure = self.key_figure
        if self.period_start and figure.period == PeriodKind.YEAR and self.period_start.month != 1:
            raise ValidationError({"period_start": _("Dit kerncijfer is per jaar: kies 1 januari.")})
        if self.value is not None and figure.kind == FigureKind.PERCENTAGE and self.value > 100:
            raise ValidationError({"value": _("Een percentage ligt tussen 0 en 100.")})
        if self.value is not None and figure.kind == FigureKind.COUNT and self.value != int(self.value):
            raise ValidationError({"value": _("Een aantal is een geheel getal.")})
