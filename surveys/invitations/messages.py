"""The invitation messages (e-mail, SMS, WhatsApp), in the resident's language, and sending them.
Every failure comes out as a TransientGatewayError or a PermanentGatewayError, with a text that
never contains the recipient's address (it ends up in the admin)."""

from __future__ import annotations

import logging
import smtplib
import traceback
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from .addresses import address_hash
from .gateways import PermanentGatewayError, TransientGatewayError, get_gateway
from .links import invitation_url, one_click_urls
from .models import DeliveryMethod, Invitation
from .unsubscribe import unsubscribe_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvitationMessage:
    """Everything a message needs, with all links absolute."""

    organisation_name: str
    brand_colour: str
    channel: str
    language: str
    form_url: str
    one_click: list[tuple[int, str]]
    unsubscribe_url: str
    expires_at: datetime

    @property
    def expires_on(self) -> str:
        return formats.date_format(timezone.localtime(self.expires_at), "j F Y")


def invitation_message(invitation: Invitation, *, token: str, recipient: str) -> InvitationMessage:
    language = invitation.language or settings.LANGUAGE_CODE
    organisation = invitation.organisation
    with translation.override(language):
        channel = str(invitation.get_channel_display())
    return InvitationMessage(
        organisation_name=organisation.name,
        brand_colour=organisation.brand_colour,
        channel=channel,
        language=language,
        form_url=invitation_url(token, language),
        one_click=one_click_urls(token, language),
        unsubscribe_url=unsubscribe_url(organisation.pk, address_hash(recipient), language),
        expires_at=invitation.expires_at,
    )


# --- e-mail ---------------------------------------------------------------------------------


def invitation_email(message: InvitationMessage, *, to: str) -> EmailMultiAlternatives:
    """A short branded HTML e-mail with a plain-text alternative; the unsubscribe link is also in
    the List-Unsubscribe header (with RFC 8058 one-click, which the unsubscribe page accepts)."""
    with translation.override(message.language):
        context = {"message": message, "LANGUAGE_CODE": message.language}
        subject = _("Hoe was uw contact met %(name)s?") % {"name": message.organisation_name}
        text = render_to_string("emails/invitation.txt", context)
        html = render_to_string("emails/invitation.html", context)
    sender = formataddr((message.organisation_name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=sender,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{message.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Message-ID": make_msgid(),
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def send_email(email: EmailMultiAlternatives) -> str:
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentGatewayError("SMTP server refused the recipient") from exc
    except smtplib.SMTPResponseException as exc:
        kind = PermanentGatewayError if 500 <= exc.smtp_code < 600 else TransientGatewayError
        raise kind(f"SMTP server answered {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientGatewayError(f"SMTP failure: {exc.__class__.__name__}") from exc
    return email.extra_headers.get("Message-ID", "")[:100]


# --- SMS and WhatsApp -----------------------------------------------------------------------


def sms_text(message: InvitationMessage) -> str:
    """Short (GSM-7 characters only): greeting, the form's link, the unsubscribe link."""
    with translation.override(message.language):
        return _("Hoe was uw contact met %(name)s? Geef een cijfer: %(url)s Afmelden: %(unsubscribe)s") % {
            "name": message.organisation_name,
            "url": message.form_url,
            "unsubscribe": message.unsubscribe_url,
        }


def whatsapp_text(message: InvitationMessage) -> str:
    with translation.override(message.language):
        return _(
            "Goedendag! U had contact met %(name)s (%(channel)s). Hoe tevreden bent u? "
            "Geef een rapportcijfer van 1 tot 10: %(url)s\n"
            "De link werkt tot %(date)s.\n"
            "Geen uitnodigingen meer ontvangen? Afmelden: %(unsubscribe)s"
        ) % {
            "name": message.organisation_name,
            "channel": message.channel.lower(),
            "url": message.form_url,
            "date": message.expires_on,
            "unsubscribe": message.unsubscribe_url,
        }


def send_invitation_message(invitation: Invitation, *, method: str, recipient: str, token: str) -> str:
    """Sends the invitation and returns the provider's reference. A message that cannot be built
    (a broken template, a missing URL: nothing went out) is a PermanentGatewayError, so that its
    delivery is settled as failed instead of waiting, claimed, for the sweep's verdict "unknown"."""
    if method not in DeliveryMethod.values:
        raise PermanentGatewayError(f"Unknown delivery method {method!r}")
    try:
        message = invitation_message(invitation, token=token, recipient=recipient)
        if method == DeliveryMethod.EMAIL:
            outgoing = invitation_email(message, to=recipient)
        else:
            outgoing = sms_text(message) if method == DeliveryMethod.SMS else whatsapp_text(message)
    except Exception as exc:
        # The traceback for the operator, without the token and the address.
        trace = redacted_traceback({token: "[token]", recipient: "[address]"})
        logger.error("Invitation %s: its message could not be built\n%s", invitation.pk, trace)
        raise PermanentGatewayError(f"The message could not be built ({type(exc).__name__}); nothing was sent") from exc
    if method == DeliveryMethod.EMAIL:
        return send_email(outgoing)
    if method == DeliveryMethod.SMS:
        return get_gateway().send_sms(recipient, outgoing)
    return get_gateway().send_whatsapp(recipient, outgoing)


def redacted_traceback(secrets: dict[str, str]) -> str:
    """The exception being handled, formatted, with every secret replaced by its placeholder."""
    trace = traceback.format_exc()
    for secret, placeholder in secrets.items():
        trace = trace.replace(secret, placeholder) if secret else trace
    return trace
