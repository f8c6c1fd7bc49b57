"""GET /api/v1/rollups/: the monthly or yearly figures of the key's organisation, each next to the
same period a year earlier, read from the rollups (surveys/rollups/selectors.py)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response as ApiResponse

from surveys.questionnaires.selectors import question_kinds
from surveys.rollups import selectors
from surveys.rollups.models import ROLLUP_CHANNEL_CHOICES, SCORE_KEY, PeriodKind

from .base import OrganisationApiView
from .errors import error_responses
from .fields import PeriodField


class RollupQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=PeriodKind.choices, default=PeriodKind.MONTH, help_text=_("month (standaard) of year.")
    )
    channel = serializers.ChoiceField(
        choices=ROLLUP_CHANNEL_CHOICES,
        required=False,
        allow_blank=True,
        help_text=_("Eén kanaal, of all voor alle kanalen samen. Zonder: elk kanaal en all."),
    )
    question = serializers.SlugField(
        max_length=50,
        default=SCORE_KEY,
        help_text=_("De vraag: rapportcijfer (standaard) of de sleutel van een extra vraag."),
    )

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so these two are added here rather than as attributes.
        fields["from"] = PeriodField(required=False, help_text=_("Eerste maand of jaar, zoals 2018-01 of 2018."))
        fields["to"] = PeriodField(required=False, help_text=_("Laatste maand of jaar, zoals 2018-12 of 2018."))
        return fields

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": [_("'to' ligt vóór 'from'.")]})
        return attrs


class _FigureFields(serializers.Serializer):
    period_start = serializers.DateField(help_text=_("Eerste dag van de maand of het jaar (Europe/Amsterdam)."))
    channel = serializers.CharField(help_text=_("Het kanaal, of all voor alle kanalen samen."))
    n = serializers.IntegerField(help_text=_("Aantal antwoorden."))
    mean = serializers.FloatField(allow_null=True, help_text=_("Gemiddelde (het rapportcijfer)."))
    sd = serializers.FloatField(allow_null=True, help_text=_("Standaardafwijking (n - 1)."))
    ci_low = serializers.FloatField(allow_null=True, help_text=_("Ondergrens 95%-betrouwbaarheidsinterval."))
    ci_high = serializers.FloatField(allow_null=True, help_text=_("Bovengrens 95%-betrouwbaarheidsinterval."))
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Aantal antwoorden per waarde op de schaal.")
    )
    share_insufficient = serializers.FloatField(allow_null=True, help_text=_("Aandeel lager dan 6 (onvoldoende)."))
    share_8_plus = serializers.FloatField(allow_null=True, help_text=_("Aandeel 8 of hoger."))
    indicative = serializers.BooleanField(help_text=_("Minder antwoorden dan het minimum: alleen indicatief."))
    contacts = serializers.IntegerField(
        help_text=_("Contactvolume: geïmporteerd aantal waar dat er is, anders de geregistreerde contacten.")
    )
    contacts_registered = serializers.IntegerField(help_text=_("Contacten geregistreerd via de API."))
    contacts_imported = serializers.IntegerField(help_text=_("Contacten volgens geïmporteerde volumes."))
    invitations_sent = serializers.IntegerField(help_text=_("Verzonden uitnodigingen."))
    responses = serializers.IntegerField(help_text=_("Reacties (alle bronnen)."))
    response_rate = serializers.FloatField(
        allow_null=True, help_text=_("Reacties op uitnodigingen gedeeld door verzonden uitnodigingen.")
    )


class PreviousFigureSerializer(_FigureFields):
    """The same period a year earlier."""


class FigureSerializer(_FigureFields):
    previous = PreviousFigureSerializer(allow_null=True, help_text=_("Dezelfde periode een jaar eerder."))
    difference = serializers.FloatField(allow_null=True, help_text=_("Gemiddelde min dat van een jaar eerder."))
    p_value = serializers.FloatField(allow_null=True, help_text=_("p-waarde van Welch' t-toets."))
    significant = serializers.BooleanField(help_text=_("Verschil significant (p kleiner dan de drempel)."))


class RollupListSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, help_text=_("Maand- of jaarcijfers, zoals gevraagd."))
    question = serializers.CharField(help_text=_("De vraag waarover de cijfers gaan, zoals gevraagd."))
    min_responses = serializers.IntegerField(help_text=_("Onder dit aantal antwoorden is een cijfer indicatief."))
    significance_alpha = serializers.FloatField(help_text=_("Drempel voor significantie."))
    results = FigureSerializer(many=True, help_text=_("De cijfers per periode en kanaal."))


EXAMPLE = OpenApiExample(
    "Een maand",
    value={
        "period": "month",
        "question": "rapportcijfer",
        "min_responses": 30,
        "significance_alpha": 0.05,
        "results": [
            {
                "period_start": "2018-03-01",
                "channel": "balie",
                "n": 412,
                "mean": 8.71,
                "sd": 1.12,
                "ci_low": 8.6,
                "ci_high": 8.82,
                "distribution": {"5": 4, "6": 10, "7": 33, "8": 101, "9": 160, "10": 104},
                "share_insufficient": 0.01,
                "share_8_plus": 0.89,
                "indicative": False,
                "contacts": 4210,
                "contacts_registered": 0,
                "contacts_imported": 4210,
                "invitations_sent": 980,
                "responses": 412,
                "response_rate": 0.31,
                "previous": None,
                "difference": None,
                "p_value": None,
                "significant": False,
            }
        ],
    },
    response_only=True,
)


class RollupListView(OrganisationApiView):
    @extend_schema(
        operation_id="rollups_list",
        summary=_("Rapportcijfers per maand of jaar"),
        description=_(
            "De cijfers van uw organisatie per kanaal en periode (kalendermaand of -jaar, Europe/Amsterdam), "
            "met dezelfde periode een jaar eerder, het verschil en of dat significant is (Welch' t-toets). "
            "Bijgewerkt binnen enkele minuten na een nieuwe reactie."
        ),
        parameters=[RollupQuerySerializer],
        responses={
            200: OpenApiResponse(RollupListSerializer, description=_("De cijfers, oudste periode eerst.")),
            **error_responses(400, 401),
        },
        examples=[EXAMPLE],
        tags=["rollups"],
    )
    def get(self, request):
        query = RollupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if params["question"] != SCORE_KEY and not question_kinds(self.organisation.pk, params["question"]):
            raise serializers.ValidationError(
                {
                    "question": [
                        _("Onbekende vraag: %(key)s. Gebruik rapportcijfer of de sleutel van een extra vraag.")
                        % {"key": params["question"]}
                    ]
                }
            )
        figures = selectors.rollup_figures(
            organisation=self.organisation,
            period=params["period"],
            channel=params.get("channel") or None,
            question_key=params["question"],
            date_from=params.get("from"),
            date_to=params.get("to"),
        )
        answer = {
            "period": params["period"],
            "question": params["question"],
            "min_responses": settings.KTO_MIN_RESPONSES,
            "significance_alpha": settings.KTO_SIGNIFICANCE_ALPHA,
            "results": figures,
        }
        return ApiResponse(RollupListSerializer(answer).data)
