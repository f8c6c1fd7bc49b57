"""Recognising a resident by address without keeping the address: a keyed hash (HMAC-SHA256 with
settings.KTO_ADDRESS_HASH_KEY) of its normalised form. Without the key the hash cannot be
reversed by hashing every phone number in the Netherlands."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .models import DeliveryMethod

DEFAULT_REGION = "NL"


class InvalidRecipient(ValueError):
    """The recipient is not an e-mail address or phone number usable for the delivery method.
    register_contacts() sets ``index``: the position of the contact in the batch."""

    index: int | None = None


def normalise_recipient(recipient: str, method: str = "") -> str:
    """An e-mail address lowercased and stripped, or a phone number in E.164 (``+31612345678``).
    Without a method, an address with an ``@`` is taken for e-mail, anything else for a phone number."""
    recipient = (recipient or "").strip()
    if not recipient:
        raise InvalidRecipient(_("Geef een e-mailadres of telefoonnummer op."))
    if method == DeliveryMethod.EMAIL or (
        method not in (DeliveryMethod.SMS, DeliveryMethod.WHATSAPP) and "@" in recipient
    ):
        return _normalise_email(recipient)
    return _normalise_phone(recipient)


def _normalise_email(recipient: str) -> str:
    address = recipient.lower()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise InvalidRecipient(_("Dit is geen geldig e-mailadres.")) from exc
    return address


def _normalise_phone(recipient: str) -> str:
    try:
        number = phonenumbers.parse(recipient, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRecipient(_("Dit is geen geldig telefoonnummer.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidRecipient(_("Dit is geen geldig telefoonnummer."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def address_hash(normalised: str) -> str:
    """HMAC-SHA256 of an already normalised address, as 64 hex characters."""
    key = settings.KTO_ADDRESS_HASH_KEY
    if not key:
        raise RuntimeError("KTO_ADDRESS_HASH_KEY (or DJANGO_SECRET_KEY) must be set to hash addresses")
    return hmac.new(key.encode(), normalised.encode(), hashlib.sha256).hexdigest()
