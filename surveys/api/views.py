"""The API's endpoints. Thin: validation in serializers, every write in surveys.services."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from surveys import services
from surveys.links import invitation_url, one_click_urls
from surveys.models import (
    Contact,
    ContactOutcome,
    Delivery,
    InvitationStatus,
    OrganisationChannel,
    Response,
    Source,
)

from . import examples
from .exceptions import Conflict
from .parsers import LimitedJSONParser
from .serializers import (
    BULK_MAX,
    NO_DELIVERY,
    BulkContactsResult,
    BulkContactsSerializer,
    BulkValidationErrors,
    ContactResult,
    ContactSerializer,
    ErrorDetail,
    ResponseResult,
    ResponseSerializer,
    ValidationErrors,
    validate_answers,
)


class AsciiJSONRenderer(JSONRenderer):
    """Escapes non-ASCII, so that an answer that quotes a caller's malformed text (a lone UTF-16
    surrogate in an invalid choice, say) is still valid UTF-8 instead of a crash while encoding."""

    ensure_ascii = True


class OrganisationApiView(APIView):
    """An endpoint that sees only the organisation of the request's API key."""

    parser_classes = [LimitedJSONParser]
    renderer_classes = [AsciiJSONRenderer]

    @property
    def organisation(self):
        return self.request.auth.organisation


def _error_responses(*codes: int, bulk: bool = False) -> dict[int, OpenApiResponse]:
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
            ErrorDetail, description=_("De uitnodiging is al beantwoord."), examples=[examples.ALREADY_ANSWERED]
        ),
        413: OpenApiResponse(
            ErrorDetail, description=_("Het verzoek is te groot (maximaal 2 MB)."), examples=[examples.TOO_LARGE]
        ),
    }
    return {code: described[code] for code in codes}


# --- contacts -------------------------------------------------------------------------------


def _contact_input(data: dict) -> services.ContactInput:
    return services.ContactInput(
        channel=data["channel"],
        contact_moment=data["contact_moment"],
        reference=data["reference"],
        language=data["language"],
        recipient=data["recipient"],
        method="" if data["method"] == NO_DELIVERY else data["method"],
    )


def _register(organisation, items: list[dict]) -> list[services.ContactResult]:
    """All of ``items`` in one transaction (the service's), in order. A recipient the serializer
    accepted but the invitation rules cannot use is still a 400, by index, with nothing stored."""
    try:
        return services.register_contacts(organisation=organisation, contacts=[_contact_input(i) for i in items])
    except services.InvalidRecipient as exc:
        index = getattr(exc, "index", 0) or 0
        raise serializers.ValidationError({"errors": [{"index": index, "errors": {"recipient": [str(exc)]}}]}) from exc


def contact_answers(results: Iterable[services.ContactResult]) -> list[dict]:
    """The answers for ``results``, in order, with at most one query for all their deliveries
    (none when every invitation was just created without one: the caller delivers those)."""
    results = list(results)
    invitation_ids = [
        r.invitation.pk
        for r in results
        if r.invitation is not None and (not r.created or getattr(r, "delivery", None) is not None)
    ]
    deliveries = {}
    if invitation_ids:
        deliveries = {
            invitation_id: {"method": method, "status": delivery_status}
            for invitation_id, method, delivery_status in Delivery.objects.filter(
                invitation_id__in=invitation_ids
            ).values_list("invitation_id", "method", "status")
        }
    return [_contact_answer(result, deliveries) for result in results]


def _iso(moment) -> str:
    """Amsterdam time with its offset, as the documented examples show."""
    return moment.astimezone(services.AMSTERDAM).isoformat()


def _status(invitation) -> str:
    # An unanswered invitation past its expiry is expired, also before the periodic task says so.
    if invitation.status in _OPEN and invitation.is_expired():
        return InvitationStatus.EXPIRED
    return invitation.status


_OPEN = (InvitationStatus.CREATED, InvitationStatus.SENT, InvitationStatus.OPENED, InvitationStatus.FAILED)


def _contact_answer(result: services.ContactResult, deliveries: dict) -> dict:
    contact, invitation = result.contact, result.invitation
    invited = result.invited and invitation is not None
    answer = {
        "id": contact.pk,
        "reference": contact.reference,
        "channel": contact.channel,
        "contact_moment": _iso(contact.contact_moment),
        "created": result.created,
        "invited": invited,
        "reason": None if invited else (result.reason or ContactOutcome.CHANNEL_DISABLED),
        "invitation": None,
    }
    if invited:
        token = result.token if result.created else None
        answer["invitation"] = {
            "status": _status(invitation),
            "expires_at": _iso(invitation.expires_at),
            "url": invitation_url(token, invitation.language) if token else None,
            "one_click_urls": (
                [{"score": score, "url": url} for score, url in one_click_urls(token, invitation.language)]
                if token
                else None
            ),
            "delivery": deliveries.get(invitation.pk),
        }
    return answer


class ContactListView(OrganisationApiView):
    @extend_schema(
        operation_id="contacts_create",
        summary=_("Een contact registreren"),
        description=_(
            "Meldt dat een inwoner contact had met de gemeente. KTO beslist of de inwoner wordt uitgenodigd "
            "(steekproef, wachttijd, afmelding) en verstuurt de uitnodiging wanneer u een ontvanger en methode "
            "opgeeft. Zonder ontvanger verstuurt u zelf de link uit invitation.url.\n\n"
            "Hetzelfde kenmerk (reference) nog eens registreren maakt niets nieuws aan: het antwoord is dan 200 "
            "met het eerste contact, de status en vervaldatum van de uitnodiging, maar zonder links (KTO bewaart "
            "de link niet, alleen een hash van het token)."
        ),
        request=ContactSerializer,
        responses={
            201: OpenApiResponse(ContactResult, description=_("Nieuw contact geregistreerd.")),
            200: OpenApiResponse(
                ContactResult, description=_("Dit kenmerk was al geregistreerd; het eerste resultaat, zonder links.")
            ),
            **_error_responses(400, 401, 413),
        },
        examples=[
            examples.CONTACT_REQUEST,
            examples.CONTACT_REQUEST_EMAIL,
            examples.CONTACT_INVITED,
            examples.CONTACT_REPEATED,
            examples.CONTACT_NOT_INVITED,
        ],
        tags=["contacts"],
    )
    def post(self, request):
        serializer = ContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            [result] = _register(self.organisation, [serializer.validated_data])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(exc.detail["errors"][0]["errors"]) from exc
        answer = contact_answers([result])[0]
        return ApiResponse(answer, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class ContactDetailView(OrganisationApiView):
    @extend_schema(
        operation_id="contacts_retrieve",
        summary=_("Een contact opvragen"),
        description=_(
            "De uitkomst van een eerder geregistreerd contact en de actuele status van de uitnodiging "
            "(zonder links). Contacten van andere organisaties bestaan voor uw sleutel niet (404)."
        ),
        responses={
            200: OpenApiResponse(ContactResult, description=_("Het contact.")),
            **_error_responses(401, 404),
        },
        examples=[examples.CONTACT_REPEATED],
        tags=["contacts"],
    )
    def get(self, request, pk: int):
        contact = Contact.objects.filter(organisation=self.organisation, pk=pk).select_related("invitation").first()
        if contact is None:
            raise NotFound(_("Dit contact bestaat niet."))
        result = services.ContactResult(
            contact=contact,
            created=False,
            invited=contact.outcome == ContactOutcome.INVITED,
            reason=contact.outcome,
            invitation=contact.invitation,
        )
        return ApiResponse(contact_answers([result])[0])


class ContactBulkView(OrganisationApiView):
    @extend_schema(
        operation_id="contacts_bulk_create",
        summary=_("Tot 1000 contacten tegelijk registreren"),
        description=_(
            "Zoals POST /api/v1/contacts/, voor maximaal 1000 contacten in één transactie. Het antwoord bevat "
            "per contact een resultaat, in dezelfde volgorde. Is één contact ongeldig, dan wordt niets van deze "
            "aanroep opgeslagen en noemt het antwoord (400) elk ongeldig contact bij zijn positie (index, vanaf 0)."
        ),
        request=BulkContactsSerializer,
        responses={
            200: OpenApiResponse(BulkContactsResult, description=_("Alle contacten verwerkt.")),
            **_error_responses(400, 401, 413, bulk=True),
        },
        examples=[examples.BULK_REQUEST, examples.BULK_RESULT],
        tags=["contacts"],
    )
    def post(self, request):
        items = self._items(request.data)
        # One serializer for all items: DRF deep-copies a serializer's fields per instance,
        # which for a thousand instances costs more than the validation itself.
        serializer = ContactSerializer()
        valid, errors = [], []
        for index, item in enumerate(items):
            try:
                valid.append(serializer.run_validation(item))
            except serializers.ValidationError as exc:
                errors.append({"index": index, "errors": serializers.as_serializer_error(exc)})
        if errors:
            return ApiResponse({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        results = _register(self.organisation, valid)
        return ApiResponse({"results": contact_answers(results)})

    def _items(self, data) -> list:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": [_("Stuur een object met de lijst 'contacts'.")]})
        items = data.get("contacts")
        if items is None:
            raise serializers.ValidationError({"contacts": [_("Dit veld is verplicht.")]})
        if not isinstance(items, list):
            raise serializers.ValidationError({"contacts": [_("Geef een lijst van contacten.")]})
        if not items:
            raise serializers.ValidationError({"contacts": [_("Geef minstens één contact.")]})
        if len(items) > BULK_MAX:
            raise serializers.ValidationError(
                {
                    "contacts": [
                        _("Maximaal %(max)d contacten per aanroep; u stuurde er %(count)d.")
                        % {"max": BULK_MAX, "count": len(items)}
                    ]
                }
            )
        return items


# --- responses ------------------------------------------------------------------------------


class ResponseCreateView(OrganisationApiView):
    @extend_schema(
        operation_id="responses_create",
        summary=_("Een elders verzameld oordeel opslaan"),
        description=_(
            "Voor systemen die het rapportcijfer zelf vragen, zoals een toetsenkeuze na een telefoongesprek of "
            "een zuil bij de balie. Met een invitation_token hoort het oordeel bij die uitnodiging; een token is "
            "één keer bruikbaar: onbekend of verlopen geeft 400, al beantwoord geeft 409."
        ),
        request=ResponseSerializer,
        responses={
            201: OpenApiResponse(ResponseResult, description=_("Opgeslagen.")),
            **_error_responses(400, 401, 409, 413),
        },
        examples=[examples.RESPONSE_REQUEST, examples.RESPONSE_RESULT],
        tags=["responses"],
    )
    def post(self, request):
        serializer = ResponseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organisation, channel = self.organisation, data["channel"]
        if not OrganisationChannel.objects.filter(organisation=organisation, channel=channel, enabled=True).exists():
            raise serializers.ValidationError({"channel": [_("Dit kanaal is niet actief voor uw organisatie.")]})
        invitation = self._invitation(data["invitation_token"], channel) if data["invitation_token"] else None
        version = services.current_version(organisation=organisation, channel=channel)
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
        except services.InvitationUnavailable as exc:
            raise _unknown_token() from exc
        return ApiResponse(_response_answer(response), status=status.HTTP_201_CREATED)

    def _invitation(self, token: str, channel: str):
        try:
            invitation = services.invitation_for_token(token)
        except services.InvitationUnavailable as exc:
            raise _unknown_token() from exc
        if invitation.organisation_id != self.organisation.pk:
            # Another organisation's token is as unknown to this key as a made-up one.
            raise _unknown_token()
        if invitation.channel != channel:
            raise serializers.ValidationError({"channel": [_("Dit kanaal hoort niet bij de uitnodiging.")]})
        if Response.objects.filter(invitation=invitation, is_complete=True).exists():
            raise Conflict(_("Deze uitnodiging is al beantwoord."))
        return invitation


def _unknown_token() -> serializers.ValidationError:
    return serializers.ValidationError({"invitation_token": [_("Deze uitnodiging bestaat niet of is verlopen.")]})


def _response_answer(response: Response) -> dict:
    answers = {
        answer.question.key: answer.choice if answer.value is None else answer.value
        for answer in response.answers.select_related("question")
    }
    datetime_field = serializers.DateTimeField()
    return {
        "id": response.pk,
        "channel": response.channel,
        "score": response.score,
        "contact_moment": datetime_field.to_representation(response.contact_moment),
        "submitted_at": datetime_field.to_representation(response.submitted_at),
        "survey_version": response.survey_version.number,
        "answers": answers,
        "comment": response.comment,
        "language": response.language,
    }
