"""How the API's errors look, for the schema: DRF's shapes, documented once for every endpoint."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from . import examples


class ValidationErrors(serializers.Serializer):
    """400: per field a list of messages; ``non_field_errors`` for the request as a whole."""


class BulkValidationErrors(serializers.Serializer):
    """400 of the bulk endpoint."""


class ErrorDetail(serializers.Serializer):
    detail = serializers.CharField(help_text=_("Wat er mis is."))


class ValidationErrorsExtension(OpenApiSerializerExtension):
    target_class = ValidationErrors

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": str(
                _(
                    "Meldingen per veld, zoals Django REST framework ze geeft: elke sleutel is een veld van het "
                    "verzoek (of non_field_errors), elke waarde een lijst meldingen. Is de inhoud geen geldige JSON, "
                    "dan staat de melding in detail."
                )
            ),
            "properties": {"detail": {"type": "string", "description": str(_("Melding over het verzoek als geheel."))}},
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }


class BulkValidationErrorsExtension(OpenApiSerializerExtension):
    target_class = BulkValidationErrors

    def map_serializer(self, auto_schema, direction):
        messages = {"type": "array", "items": {"type": "string"}}
        return {
            "type": "object",
            "description": str(
                _(
                    "Ofwel meldingen per contact, bij zijn positie in contacts (vanaf 0), en dan is niets van de "
                    "aanroep opgeslagen; ofwel meldingen over het verzoek zelf (bijvoorbeeld meer dan 1000 contacten)."
                )
            ),
            "properties": {
                "detail": {"type": "string", "description": str(_("Melding over het verzoek als geheel."))},
                "errors": {
                    "type": "array",
                    "description": str(_("Eén element per ongeldig contact.")),
                    "items": {
                        "type": "object",
                        "properties": {
                            "index": {"type": "integer", "description": str(_("Positie van het contact, vanaf 0."))},
                            "errors": {
                                "type": "object",
                                "description": str(_("Meldingen per veld van dit contact.")),
                                "additionalProperties": messages,
                            },
                        },
                        "required": ["index", "errors"],
                    },
                },
                "contacts": {**messages, "description": str(_("Meldingen over de lijst als geheel."))},
                "non_field_errors": {**messages, "description": str(_("Meldingen over het verzoek als geheel."))},
            },
        }


def error_responses(*codes: int, bulk: bool = False) -> dict[int, OpenApiResponse]:
    described = {
        400: OpenApiResponse(
            BulkValidationErrors if bulk else ValidationErrors,
            description=_("Ongeldig verzoek: per veld wat er mis is."),
            examples=[examples.BULK_ERRORS if bulk else examples.VALIDATION_ERRORS],
        ),
        401: OpenApiResponse(
            ErrorDetail,
            description=_("Geen, een onbekende of een ingetrokken API-sleutel."),
            examples=[examples.UNAUTHENTICATED],
        ),
        404: OpenApiResponse(
            ErrorDetail,
            description=_("Bestaat niet, of hoort bij een andere organisatie."),
            examples=[examples.NOT_FOUND],
        ),
        409: OpenApiResponse(
            ErrorDetail,
            description=_(
                "Conflicteert met eerdere gegevens: de uitnodiging heeft al een antwoord, of het kenmerk "
                "(reference) is al geregistreerd met ander kanaal, contactmoment of andere taal."
            ),
            examples=[examples.ALREADY_ANSWERED],
        ),
        413: OpenApiResponse(
            ErrorDetail, description=_("Het verzoek is te groot (maximaal 2 MB)."), examples=[examples.TOO_LARGE]
        ),
    }
    return {code: described[code] for code in codes}
