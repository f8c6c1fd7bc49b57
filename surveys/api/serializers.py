"""Validation of what the municipality's systems send, and the documented shape of the answers.

Input serializers validate; answers are built by plain functions in views.py (a bulk answer has a
thousand items) and documented here by the ``*Result`` serializers, which the schema tests and
schemathesis hold the answers to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from surveys.delivery.addresses import InvalidRecipient, normalise_recipient
from surveys.models import Channel, ContactOutcome, Delivery, DeliveryMethod, InvitationStatus, QuestionKind

LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
BULK_MAX = 1000
NO_DELIVERY = "none"
# Contact moments before this are certainly typing errors; later than now + skew are in the future.
EARLIEST_CONTACT = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=10)
NOT_INVITED_REASONS = [(value, label) for value, label in ContactOutcome.choices if value != ContactOutcome.INVITED]


class TextField(serializers.CharField):
    """A CharField that refuses text PostgreSQL cannot store (lone surrogates; NUL is refused by DRF)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("invalid")
        return value


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a UTC offset. A moment without an offset is refused rather than guessed:
    a system that sends UTC without saying so would otherwise be an hour or two off."""

    default_error_messages = {
        "invalid": _("Geef een datum en tijd in ISO 8601 met tijdzone, bijvoorbeeld 2026-03-02T14:30:00+01:00."),
        "naive": _("Geef de tijdzone op, bijvoorbeeld 2026-03-02T14:30:00+01:00 of 2026-03-02T13:30:00Z."),
        "range": _("Het contactmoment moet tussen 1 januari 2000 en nu liggen."),
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if timezone.is_naive(parsed):
            self.fail("naive")
        try:
            moment = parsed.astimezone(UTC)
        except OverflowError:
            self.fail("range")
        if not EARLIEST_CONTACT <= moment <= timezone.now() + CLOCK_SKEW:
            self.fail("range")
        return moment


# --- contacts -------------------------------------------------------------------------------


class ContactSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        help_text=_(
            "Het kanaal van het contact. Een kanaal dat de organisatie niet gebruikt geeft reason=channel_disabled."
        ),
    )
    contact_moment = AwareDateTimeField(
        help_text=_("Moment van het contact, ISO 8601 met tijdzone (bijvoorbeeld 2026-03-02T14:30:00+01:00)."),
    )
    reference = TextField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Uw eigen kenmerk van het contact (aanbevolen). Hetzelfde kenmerk nog eens registreren geeft het "
            "eerste resultaat terug en maakt niets nieuws aan, zodat u veilig opnieuw kunt proberen."
        ),
    )
    language = serializers.ChoiceField(
        choices=LANGUAGES, default="nl", help_text=_("Taal van de uitnodiging en de vragenlijst.")
    )
    recipient = TextField(
        max_length=254,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "E-mailadres of telefoonnummer waarnaar KTO de uitnodiging stuurt. Alleen met method. Het adres wordt "
            "na verzending gewist; bewaard blijft alleen een versleutelde vingerafdruk voor de wachttijd en afmelding."
        ),
    )
    method = serializers.ChoiceField(
        choices=[*DeliveryMethod.choices, (NO_DELIVERY, _("Geen"))],
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Hoe KTO de uitnodiging verstuurt: email, sms of whatsapp. none of leeg: u verstuurt de link zelf "
            "(invitation.url in het antwoord). Met none en een ontvanger past KTO wel de wachttijd en afmelding "
            "toe, zonder iets te versturen."
        ),
    )

    def validate(self, attrs):
        method, recipient = attrs.get("method", ""), attrs.get("recipient", "")
        if method and method != NO_DELIVERY and not recipient:
            raise serializers.ValidationError({"recipient": [_("Geef een ontvanger op bij een verzendmethode.")]})
        if recipient and not method:
            raise serializers.ValidationError(
                {"method": [_("Geef een verzendmethode op bij een ontvanger (of none als u zelf verstuurt).")]}
            )
        if recipient:
            try:
                # Sent to the service normalised (e-mail lowercased, phone numbers in E.164).
                attrs["recipient"] = normalise_recipient(recipient, "" if method == NO_DELIVERY else method)
            except InvalidRecipient as exc:
                raise serializers.ValidationError({"recipient": [str(exc)]}) from exc
        return attrs


class BulkContactsSerializer(serializers.Serializer):
    """Only the envelope: the items are validated one by one so that errors carry their index."""

    contacts = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        help_text=_("Maximaal 1000 contacten, elk zoals bij POST /api/v1/contacts/."),
    )


class OneClickUrlResult(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=10, help_text=_("Het rapportcijfer van deze link."))
    url = serializers.URLField(help_text=_("Opent de vragenlijst met dit cijfer al ingevuld en opgeslagen."))


class DeliveryResult(serializers.Serializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices, help_text=_("De verzendmethode."))
    status = serializers.ChoiceField(
        choices=Delivery.Status.choices,
        help_text=_("pending en retry: nog niet verzonden; sending: bezig; sent: verzonden; failed: opgegeven."),
    )


class InvitationResult(serializers.Serializer):
    status = serializers.ChoiceField(choices=InvitationStatus.choices, help_text=_("Stand van de uitnodiging."))
    expires_at = serializers.DateTimeField(help_text=_("Tot dit moment werkt de link."))
    url = serializers.URLField(
        allow_null=True,
        help_text=_(
            "De link naar de vragenlijst. Alleen in het antwoord op de aanroep die de uitnodiging maakte: KTO "
            "bewaart de link zelf niet, dus bij een herhaald kenmerk en bij GET is dit null."
        ),
    )
    one_click_urls = OneClickUrlResult(
        many=True,
        allow_null=True,
        help_text=_("Tien links, één per rapportcijfer 1 t/m 10; null wanneer url null is."),
    )
    delivery = DeliveryResult(
        allow_null=True, help_text=_("De verzending door KTO; null wanneer u de link zelf verstuurt.")
    )


class ContactResult(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("Nummer van het contact in KTO."))
    reference = serializers.CharField(help_text=_("Uw kenmerk, leeg wanneer u er geen gaf."))
    channel = serializers.ChoiceField(choices=Channel.choices, help_text=_("Het kanaal van het contact."))
    contact_moment = serializers.DateTimeField(help_text=_("Moment van het contact."))
    created = serializers.BooleanField(
        help_text=_("false wanneer dit kenmerk al eerder geregistreerd was; het antwoord beschrijft dan dat contact.")
    )
    invited = serializers.BooleanField(help_text=_("Of de inwoner is uitgenodigd."))
    reason = serializers.ChoiceField(
        choices=NOT_INVITED_REASONS,
        allow_null=True,
        help_text=_(
            "Waarom niet uitgenodigd: sampled_out (niet in de steekproef), cooldown (onlangs al uitgenodigd), "
            "opted_out (afgemeld), channel_disabled (kanaal niet actief). null wanneer uitgenodigd."
        ),
    )
    invitation = InvitationResult(allow_null=True, help_text=_("De uitnodiging; null wanneer niet uitgenodigd."))


class BulkContactsResult(serializers.Serializer):
    results = ContactResult(many=True, help_text=_("Eén resultaat per contact, in de volgorde van het verzoek."))


# --- responses ------------------------------------------------------------------------------


class ResponseSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, help_text=_("Het kanaal waarover het oordeel gaat."))
    score = serializers.IntegerField(min_value=1, max_value=10, help_text=_("Het rapportcijfer, 1 t/m 10."))
    contact_moment = AwareDateTimeField(
        required=False,
        help_text=_(
            "Moment van het contact, ISO 8601 met tijdzone. Verplicht zonder invitation_token; met een token "
            "geldt het contactmoment van de uitnodiging."
        ),
    )
    invitation_token = TextField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Het token uit een uitnodigingslink (optioneel). Eén keer bruikbaar."),
    )
    answers = serializers.DictField(
        required=False,
        default=dict,
        help_text=_(
            "Antwoorden op de extra vragen van de huidige vragenlijst van het kanaal: {sleutel: waarde}. "
            "Schaalvragen: een geheel getal binnen de schaal; ja/nee: true of false; keuzevragen: de waarde "
            "van een optie."
        ),
    )
    comment = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=settings.KTO_COMMENT_MAX_LENGTH,
        help_text=_("Toelichting van de inwoner. Persoonsgegevens (BSN, telefoon, e-mail, IBAN) worden gemaskeerd."),
    )
    language = serializers.ChoiceField(choices=LANGUAGES, default="nl", help_text=_("Taal waarin is geantwoord."))

    def validate(self, attrs):
        if not attrs.get("invitation_token") and "contact_moment" not in attrs:
            raise serializers.ValidationError({"contact_moment": [_("Dit veld is verplicht zonder invitation_token.")]})
        return attrs


def validate_answers(answers: dict, questions) -> dict[str, object]:
    """``answers`` checked against the survey version's questions; returns values as the service
    stores them. Messages never repeat the caller's input."""
    by_key = {q.key: q for q in questions}
    errors, cleaned = [], {}
    for key, value in answers.items():
        question = by_key.get(key)
        if question is None:
            errors.append(_("Onbekende vraag. Bekende vragen: %(keys)s.") % {"keys": ", ".join(sorted(by_key))})
            continue
        if value is None:
            continue
        if question.kind == QuestionKind.YES_NO:
            if not isinstance(value, bool):
                errors.append(_("%(key)s: geef true of false.") % {"key": key})
                continue
            cleaned[key] = int(value)
        elif question.kind == QuestionKind.CHOICE:
            options = [c["value"] for c in question.choices]
            if not isinstance(value, str) or value not in options:
                errors.append(_("%(key)s: kies uit %(options)s.") % {"key": key, "options": ", ".join(options)})
                continue
            cleaned[key] = value
        else:
            scale = question.scale()
            if isinstance(value, bool) or not isinstance(value, int) or value not in scale:
                errors.append(
                    _("%(key)s: geef een geheel getal van %(low)d t/m %(high)d.")
                    % {"key": key, "low": scale[0], "high": scale[-1]}
                )
                continue
            cleaned[key] = value
    missing = [q.key for q in questions if q.required and cleaned.get(q.key) is None]
    for key in missing:
        errors.append(_("%(key)s: deze vraag is verplicht.") % {"key": key})
    if errors:
        raise serializers.ValidationError({"answers": errors})
    return cleaned


class ResponseResult(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("Nummer van de reactie in KTO."))
    channel = serializers.ChoiceField(choices=Channel.choices, help_text=_("Het kanaal."))
    score = serializers.IntegerField(help_text=_("Het rapportcijfer."))
    contact_moment = serializers.DateTimeField(help_text=_("Moment van het contact."))
    submitted_at = serializers.DateTimeField(help_text=_("Moment van opslaan."))
    survey_version = serializers.IntegerField(help_text=_("Versienummer van de vragenlijst waarop is geantwoord."))
    answers = serializers.DictField(help_text=_("De opgeslagen antwoorden op de extra vragen."))
    comment = serializers.CharField(help_text=_("De opgeslagen toelichting, na maskering van persoonsgegevens."))
    language = serializers.CharField(help_text=_("Taal waarin is geantwoord."))


# --- errors (documentation only) ------------------------------------------------------------


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
