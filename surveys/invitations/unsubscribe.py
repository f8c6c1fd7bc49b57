"""The unsubscribe link's token: signed (django.core.signing, own salt), carrying the organisation
and the address's keyed hash, never the address itself."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "kto.delivery.unsubscribe"
# "." keeps the token free of characters that SMS apps tend to cut links at.
SEPARATOR = "."


class InvalidUnsubscribeToken(Exception):
    """Tampered, truncated or otherwise unreadable."""


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=SEPARATOR)


def unsubscribe_token(organisation_id: int, address_hash: str) -> str:
    # The 32-byte hash in base64 instead of hex keeps the link short enough for an SMS.
    packed = base64.urlsafe_b64encode(bytes.fromhex(address_hash)).rstrip(b"=").decode()
    return _signer().sign(f"{organisation_id}{SEPARATOR}{packed}")


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """``(organisation_id, address_hash)``; raises InvalidUnsubscribeToken."""
    if not token or len(token) > 200:
        raise InvalidUnsubscribeToken
    try:
        value = _signer().unsign(token)
        organisation_id, packed = value.split(SEPARATOR, 1)
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
    except (signing.BadSignature, ValueError, binascii.Error) as exc:
        raise InvalidUnsubscribeToken from exc
    if len(raw) != 32 or not organisation_id.isdigit():
        raise InvalidUnsubscribeToken
    return int(organisation_id), raw.hex()


def unsubscribe_url(organisation_id: int, address_hash: str, language: str = "nl") -> str:
    path = reverse("surveys:unsubscribe", kwargs={"token": unsubscribe_token(organisation_id, address_hash)})
    suffix = f"?lang={language}" if language and language != settings.LANGUAGE_CODE else ""
    return f"{settings.KTO_BASE_URL}{path}{suffix}"
