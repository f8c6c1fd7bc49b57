"""POST /api/v1/responses/: scores collected elsewhere (an IVR keypad after a call, a kiosk at
the counter), stored as a resident's response (surveys/responses/services.py)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response as ApiResponse

from surveys.invitations.services import InvitationUnavailable, invitation_for_token
from surveys.organisations.models import Channel
from surveys.organisations.selectors import channel_enabled
from surveys.questionnaires.models import QuestionKind
from surveys.questionnaires.services import current_version
from surveys.responses import services
from surveys.responses.models import Response, Source
from surveys.responses.selectors import is_answered, response_to

from . import examples
from .base import LANGUAGES, OrganisationApiView
from .errors import error_responses
from .exceptions import Conflict
from .fields import AwareDateTimeField, MomentField, TextField


class ResponseInputSerializer(serializers.Serializer):
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


class ResponseOutputSerializer(serializers.Serializer):
    """A stored Response."""

    id = serializers.IntegerField(help_text=_("Nummer van de reactie in KTO."))
    channel = serializers.ChoiceField(choices=Channel.choices, help_text=_("Het kanaal."))
    score = serializers.IntegerField(help_text=_("Het rapportcijfer."))
    contact_moment = MomentField(help_text=_("Moment van het contact."))
    submitted_at = MomentField(help_text=_("Moment van opslaan."))
    survey_version = serializers.IntegerField(
        source="survey_version.number", help_text=_("Versienummer van de vragenlijst waarop is geantwoord.")
    )
    answers = serializers.SerializerMethodField(help_text=_("De opgeslagen antwoorden op de extra vragen."))
    comment = serializers.CharField(help_text=_("De opgeslagen toelichting, na maskering van persoonsgegevens."))
    language = serializers.CharField(help_text=_("Taal waarin is geantwoord."))

    @extend_schema_field(serializers.DictField())
    def get_answers(self, response: Response) -> dict:
        return {
            answer.question.key: answer.choice if answer.value is None else answer.value
            for answer in response.answers.select_related("question")
        }


class ResponseCreateView(OrganisationApiView):
    @extend_schema(
        operation_id="responses_create",
        summary=_("Een elders verzameld oordeel opslaan"),
        description=_(
            "Voor systemen die het rapportcijfer zelf vragen, zoals een toetsenkeuze na een telefoongesprek of "
            "een zuil bij de balie. Met een invitation_token hoort het oordeel bij die uitnodiging; een token is "
            "één keer bruikbaar: onbekend of verlopen geeft 400, al beantwoord geeft 409."
        ),
        request=ResponseInputSerializer,
        responses={
            201: OpenApiResponse(ResponseOutputSerializer, description=_("Opgeslagen.")),
            **error_responses(400, 401, 409, 413),
        },
        examples=[examples.RESPONSE_REQUEST, examples.RESPONSE_RESULT],
        tags=["responses"],
    )
    def post(self, request):
        serializer = ResponseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organisation, channel = self.organisation, data["channel"]
        if not channel_enabled(organisation, channel):
            raise serializers.ValidationError({"channel": [_("Dit kanaal is niet actief voor uw organisatie.")]})
        invitation = self._invitation(data["invitation_token"], channel) if data["invitation_token"] else None
        version = current_version(organisation=organisation, channel=channel)
        questions = list(version.questions.all())
        answers = validate_answers(data["answers"], questions)
        try:
            response = services.submit_response(
                organisation=organisation,
                channel=channel,
                score=data["score"],
                source=Source.API,
                answers=answers,
                comment=data["comment"],
                language=data["language"],
                invitation=invitation,
                contact_moment=data.get("contact_moment"),
                survey_version=version,
            )
        except services.AlreadyAnswered as exc:
            raise Conflict(_("Deze uitnodiging is al beantwoord.")) from exc
        except InvitationUnavailable as exc:
            raise _unknown_token() from exc
        return ApiResponse(ResponseOutputSerializer(response).data, status=status.HTTP_201_CREATED)

    def _invitation(self, token: str, channel: str):
        try:
            invitation = invitation_for_token(token)
        except InvitationUnavailable as exc:
            raise _unknown_token() from exc
        if invitation.organisation_id != self.organisation.pk:
            # Another organisation's token is as unknown to this key as a made-up one.
            raise _unknown_token()
        if invitation.channel != channel:
            raise serializers.ValidationError({"channel": [_("Dit kanaal hoort niet bij de uitnodiging.")]})
        if is_answered(invitation):
            raise Conflict(_("Deze uitnodiging is al beantwoord."))
        if response_to(invitation) is not None:  # a one-click score: the resident's, not overwritten
            raise Conflict(_("Deze uitnodiging heeft al een rapportcijfer van de inwoner (via de link)."))
        return invitation


def _unknown_token() -> serializers.ValidationError:
    return serializers.ValidationError({"invitation_token": [_("Deze uitnodiging bestaat niet of is verlopen.")]})
