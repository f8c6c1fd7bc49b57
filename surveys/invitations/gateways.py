"""SMS and WhatsApp through one small interface. The console backend (the default) only logs;
MessageBird (Bird) is the real provider, used by many Dutch municipalities."""

from __future__ import annotations

import logging
import re

import requests
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

TIMEOUT = (5, 15)  # seconds to connect, to read


class GatewayError(Exception):
    """Sending failed."""


class TransientGatewayError(GatewayError):
    """Worth another try later: the provider is down, slow or overloaded."""


class PermanentGatewayError(GatewayError):
    """Trying again will not help: a bad number, a bad key, a refused message."""


def mask_number(number: str) -> str:
    """``+31612345678`` -> ``+316******78``: enough to recognise in a log, not to call."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


class MessageGateway:
    """Sends a text to an E.164 number and returns the provider's reference for the message."""

    def send_sms(self, to_e164: str, text: str) -> str:
        raise NotImplementedError

    def send_whatsapp(self, to_e164: str, text: str) -> str:
        raise NotImplementedError


class ConsoleGateway(MessageGateway):
    """For development: logs the message (with the number partially masked) instead of sending it."""

    def _log(self, kind: str, to_e164: str, text: str) -> str:
        logger.info("%s to %s: %s", kind, mask_number(to_e164), text)
        return "console"

    def send_sms(self, to_e164: str, text: str) -> str:
        return self._log("SMS", to_e164, text)

    def send_whatsapp(self, to_e164: str, text: str) -> str:
        return self._log("WhatsApp", to_e164, text)


class MessageBirdGateway(MessageGateway):
    """MessageBird's SMS REST API (POST {base}/messages) and Conversations API for WhatsApp
    (POST {conversations}/send), both authenticated with ``Authorization: AccessKey <key>``."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        conversations_url: str | None = None,
        originator: str | None = None,
        whatsapp_channel_id: str | None = None,
    ) -> None:
        self.api_key = api_key if api_key is not None else settings.KTO_MESSAGEBIRD_API_KEY
        self.base_url = (base_url or settings.KTO_MESSAGEBIRD_BASE_URL).rstrip("/")
        self.conversations_url = (conversations_url or settings.KTO_MESSAGEBIRD_CONVERSATIONS_URL).rstrip("/")
        self.originator = originator or settings.KTO_MESSAGEBIRD_ORIGINATOR
        self.whatsapp_channel_id = whatsapp_channel_id or settings.KTO_MESSAGEBIRD_WHATSAPP_CHANNEL_ID

    def send_sms(self, to_e164: str, text: str) -> str:
        # MessageBird wants the recipient as digits without the plus.
        body = {"originator": self.originator, "recipients": [to_e164.lstrip("+")], "body": text}
        return self._post(f"{self.base_url}/messages", body)

    def send_whatsapp(self, to_e164: str, text: str) -> str:
        if not self.whatsapp_channel_id:
            raise PermanentGatewayError("KTO_MESSAGEBIRD_WHATSAPP_CHANNEL_ID is not configured")
        body = {"to": to_e164, "from": self.whatsapp_channel_id, "type": "text", "content": {"text": text}}
        return self._post(f"{self.conversations_url}/send", body)

    def _post(self, url: str, body: dict) -> str:
        if not self.api_key:
            raise PermanentGatewayError("KTO_MESSAGEBIRD_API_KEY is not configured")
        try:
            answer = requests.post(
                url,
                json=body,
                headers={"Authorization": f"AccessKey {self.api_key}", "Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientGatewayError(f"MessageBird unreachable: {exc.__class__.__name__}") from exc
        except requests.RequestException as exc:
            raise PermanentGatewayError(f"MessageBird request failed: {exc.__class__.__name__}") from exc
        if answer.status_code == 429 or answer.status_code >= 500:
            raise TransientGatewayError(f"MessageBird answered {answer.status_code}")
        if answer.status_code >= 400:
            raise PermanentGatewayError(f"MessageBird answered {answer.status_code}: {_errors(answer)}")
        try:
            return str(answer.json().get("id", ""))[:100]
        except ValueError:
            return ""


PHONE_NUMBER = re.compile(r"\+?\d[\d ()-]{6,}\d")


def _errors(answer: requests.Response) -> str:
    """MessageBird's error descriptions for the admin, with any phone number in them masked."""
    try:
        errors = answer.json().get("errors") or []
        text = "; ".join(str(e.get("description", e.get("code", "")))[:200] for e in errors)[:500]
    except (ValueError, AttributeError):
        return ""
    return PHONE_NUMBER.sub("[nummer]", text)


GATEWAYS = {
    "console": "surveys.invitations.gateways.ConsoleGateway",
    "messagebird": "surveys.invitations.gateways.MessageBirdGateway",
}


def get_gateway(name: str | None = None) -> MessageGateway:
    """The gateway chosen by KTO_MESSAGE_GATEWAY (console or messagebird)."""
    name = name or settings.KTO_MESSAGE_GATEWAY
    try:
        path = GATEWAYS[name]
    except KeyError as exc:
        raise PermanentGatewayError(f"Unknown KTO_MESSAGE_GATEWAY {name!r}") from exc
    return import_string(path)()
