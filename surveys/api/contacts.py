"""POST /api/v1/contacts/ (one contact), POST /api/v1/contacts/bulk/ (up to 1,000, all or
nothing) and GET /api/v1/contacts/<id>/: a municipality's systems register contacts, and KTO
decides whether to invite (surveys/invitations/contacts.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response as ApiResponse

from surveys.invitations import contacts
from surveys.invitations.addresses import InvalidRecipient, normalise_recipient
from surveys.invitations.links import invitation_url, one_click_urls
from surveys.invitations.models import Contact, ContactOutcome, Delivery, DeliveryMethod, InvitationStatus
from surveys.invitations.selectors import contact_of, deliveries_of, invitation_status
from surveys.organisations.models import Channel

from . import examples
from .base import LANGUAGES, OrganisationApiView
from .errors import error_responses
from .fields import AwareDateTimeField, MomentField, TextField

BULK_MAX = 1000
NO_DELIVERY = "none"
NOT_INVITED_REASONS = [(value, label) for value, label in ContactOutcome.choices if value != ContactOutcome.INVITED]


# --- input ----------------------------------------------------------------------------------


class ContactInputSerializer(serializers.Serializer):
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


class BulkContactsInputSerializer(serializers.Serializer):
    """Only the envelope: the items are validated one by one so that errors carry their index."""

    contacts = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        help_text=_("Maximaal 1000 contacten, elk zoals bij POST /api/v1/contacts/."),
    )


# --- output: one definition renders the answer and documents it --------------------------------


class OneClickUrlOutputSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=10, help_text=_("Het rapportcijfer van deze link."))
    url = serializers.URLField(help_text=_("Opent de vragenlijst met dit cijfer al ingevuld en opgeslagen."))


class DeliveryOutputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices, help_text=_("De verzendmethode."))
    status = serializers.ChoiceField(
        choices=Delivery.Status.choices,
        help_text=_("pending en retry: nog niet verzonden; sending: bezig; sent: verzonden; failed: opgegeven."),
    )


class InvitationOutputSerializer(serializers.Serializer):
    """The invitation of a contacts.ContactResult; the links only in the answer to the request
    that made it (only then is its token in hand)."""

    status = serializers.SerializerMethodField(help_text=_("Stand van de uitnodiging."))
    expires_at = MomentField(source="invitation.expires_at", help_text=_("Tot dit moment werkt de link."))
    url = serializers.SerializerMethodField(
        help_text=_(
            "De link naar de vragenlijst. Alleen in het antwoord op de aanroep die de uitnodiging maakte: KTO "
            "bewaart de link zelf niet, dus bij een herhaald kenmerk en bij GET is dit null."
        ),
    )
    one_click_urls = serializers.SerializerMethodField(
        help_text=_("Tien links, één per rapportcijfer 1 t/m 10; null wanneer url null is."),
    )
    delivery = serializers.SerializerMethodField(
        help_text=_("De verzending door KTO; null wanneer u de link zelf verstuurt.")
    )

    def get_attribute(self, result: contacts.ContactResult):
        return result if result.invited else None  # (None: the answer's invitation is null)

    @extend_schema_field(serializers.ChoiceField(choices=InvitationStatus.choices))
    def get_status(self, result: contacts.ContactResult) -> str:
        return invitation_status(result.invitation)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, result: contacts.ContactResult) -> str | None:
        return invitation_url(result.token, result.invitation.language) if result.token else None

    @extend_schema_field(OneClickUrlOutputSerializer(many=True, allow_null=True))
    def get_one_click_urls(self, result: contacts.ContactResult) -> list[dict] | None:
        if not result.token:
            return None
        return [{"score": score, "url": url} for score, url in one_click_urls(result.token, result.invitation.language)]

    @extend_schema_field(DeliveryOutputSerializer(allow_null=True))
    def get_delivery(self, result: contacts.ContactResult) -> dict | None:
        delivery = self.context["deliveries"].get(result.invitation.pk)
        return {"method": delivery.method, "status": delivery.status} if delivery else None


class ContactOutputSerializer(serializers.Serializer):
    """A contacts.ContactResult: what KTO decided about one contact."""

    id = serializers.IntegerField(source="contact.pk", help_text=_("Nummer van het contact in KTO."))
    reference = serializers.CharField(
        source="contact.reference", help_text=_("Uw kenmerk, leeg wanneer u er geen gaf.")
    )
    channel = serializers.ChoiceField(
        source="contact.channel", choices=Channel.choices, help_text=_("Het kanaal van het contact.")
    )
    contact_moment = MomentField(source="contact.contact_moment", help_text=_("Moment van het contact."))
    created = serializers.BooleanField(
        help_text=_("false wanneer dit kenmerk al eerder geregistreerd was; het antwoord beschrijft dan dat contact.")
    )
    invited = serializers.BooleanField(help_text=_("Of de inwoner is uitgenodigd."))
    reason = serializers.SerializerMethodField(
        help_text=_(
            "Waarom niet uitgenodigd: sampled_out (niet in de steekproef), cooldown (onlangs al uitgenodigd), "
            "opted_out (afgemeld), channel_disabled (kanaal niet actief). null wanneer uitgenodigd."
        ),
    )
    invitation = InvitationOutputSerializer(
        source="*", allow_null=True, help_text=_("De uitnodiging; null wanneer niet uitgenodigd.")
    )

    @extend_schema_field(serializers.ChoiceField(choices=NOT_INVITED_REASONS, allow_null=True))
    def get_reason(self, result: contacts.ContactResult) -> str | None:
        return None if result.invited else result.reason


class BulkContactsOutputSerializer(serializers.Serializer):
    results = ContactOutputSerializer(
        many=True, help_text=_("Eén resultaat per contact, in de volgorde van het verzoek.")
    )


def output_context(results: list[contacts.ContactResult]) -> dict:
    """What the output serializers need besides the results: the deliveries of the invitations,
    with at most one query, for those that this request did not just make."""
    made_now = {r.invitation.pk: r.delivery for r in results if r.created and r.invitation is not None}
    stored = deliveries_of({r.invitation.pk for r in results if r.invitation is not None} - made_now.keys())
    return {"deliveries": {**stored, **{pk: delivery for pk, delivery in made_now.items() if delivery is not None}}}


# --- views ----------------------------------------------------------------------------------


class ReferenceConflict(Exception):
    """Answered as 409 by the views, with the conflicts as they are (DRF's exceptions would make
    every value a string)."""

    def __init__(self, conflicts: list[dict], *, bulk: bool):
        super().__init__(conflicts)
        detail = _("Dit kenmerk (reference) is al geregistreerd met andere gegevens: %(fields)s.") % {
            "fields": ", ".join(conflicts[0]["fields"])
        }
        self.body = {"detail": detail, "conflicts": conflicts} if bulk else {"detail": detail, **conflicts[0]}

    def answer(self) -> ApiResponse:
        return ApiResponse(self.body, status=status.HTTP_409_CONFLICT)


# What a re-posted reference is compared on. The recipient and the method are not: KTO erases the
# address once the invitation is sent, so it has nothing to compare them with.
COMPARED = ("channel", "contact_moment", "language")


def reference_conflicts(organisation, items: list[dict]) -> list[dict]:
    """The items whose reference was registered before with another channel, moment or language."""
    references = {item["reference"] for item in items if item["reference"]}
    known = {c.reference: c for c in Contact.objects.filter(organisation=organisation, reference__in=references)}
    conflicts = []
    for index, item in enumerate(items):
        contact = known.get(item["reference"])
        fields = [name for name in COMPARED if contact is not None and getattr(contact, name) != item[name]]
        if fields:
            conflicts.append({"index": index, "reference": item["reference"], "fields": fields})
    return conflicts


def _register(organisation, items: list[dict], *, bulk: bool = False) -> list[contacts.ContactResult]:
    """All of ``items`` in one transaction (the service's), in order. A recipient the serializer
    accepted but the invitation rules cannot use is still a 400, by index, with nothing stored; a
    reference registered before with other data is a 409 naming the fields, with nothing stored."""
    if conflicts := reference_conflicts(organisation, items):
        raise ReferenceConflict(conflicts, bulk=bulk)
    inputs = [
        contacts.ContactInput(**{**item, "method": "" if item["method"] == NO_DELIVERY else item["method"]})
        for item in items
    ]
    try:
        return contacts.register_contacts(organisation=organisation, contacts=inputs)
    except InvalidRecipient as exc:
        index = getattr(exc, "index", 0) or 0
        raise serializers.ValidationError({"errors": [{"index": index, "errors": {"recipient": [str(exc)]}}]}) from exc


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
        request=ContactInputSerializer,
        responses={
            201: OpenApiResponse(ContactOutputSerializer, description=_("Nieuw contact geregistreerd.")),
            200: OpenApiResponse(
                ContactOutputSerializer,
                description=_("Dit kenmerk was al geregistreerd; het eerste resultaat, zonder links."),
            ),
            **error_responses(400, 401, 409, 413),
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
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            [result] = _register(self.organisation, [serializer.validated_data])
        except ReferenceConflict as conflict:
            return conflict.answer()
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(exc.detail["errors"][0]["errors"]) from exc
        answer = ContactOutputSerializer(result, context=output_context([result])).data
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
            200: OpenApiResponse(ContactOutputSerializer, description=_("Het contact.")),
            **error_responses(401, 404),
        },
        examples=[examples.CONTACT_REPEATED],
        tags=["contacts"],
    )
    def get(self, request, pk: int):
        contact = contact_of(self.organisation, pk)
        if contact is None:
            raise NotFound(_("Dit contact bestaat niet."))
        result = contacts.registered(contact)
        return ApiResponse(ContactOutputSerializer(result, context=output_context([result])).data)


class ContactBulkView(OrganisationApiView):
    @extend_schema(
        operation_id="contacts_bulk_create",
        summary=_("Tot 1000 contacten tegelijk registreren"),
        description=_(
            "Zoals POST /api/v1/contacts/, voor maximaal 1000 contacten in één transactie. Het antwoord bevat "
            "per contact een resultaat, in dezelfde volgorde. Is één contact ongeldig, dan wordt niets van deze "
            "aanroep opgeslagen en noemt het antwoord (400) elk ongeldig contact bij zijn positie (index, vanaf 0)."
        ),
        request=BulkContactsInputSerializer,
        responses={
            200: OpenApiResponse(BulkContactsOutputSerializer, description=_("Alle contacten verwerkt.")),
            **error_responses(400, 401, 409, 413, bulk=True),
        },
        examples=[examples.BULK_REQUEST, examples.BULK_RESULT],
        tags=["contacts"],
    )
    def post(self, request):
        items = self._items(request.data)
        # One serializer for all items: DRF deep-copies a serializer's fields per instance,
        # which for a thousand instances costs more than the validation itself.
        serializer = ContactInputSerializer()
        valid, errors = [], []
        for index, item in enumerate(items):
            try:
                valid.append(serializer.run_validation(item))
            except serializers.ValidationError as exc:
                errors.append({"index": index, "errors": serializers.as_serializer_error(exc)})
        if errors:
            return ApiResponse({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            results = _register(self.organisation, valid, bulk=True)
        except ReferenceConflict as conflict:
            return conflict.answer()
        return ApiResponse(BulkContactsOutputSerializer({"results": results}, context=output_context(results)).data)

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
