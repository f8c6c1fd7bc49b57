"""A report as an e-mail that mail clients show well: multipart/alternative with a plain-text part
and an HTML part whose images travel beside it as CID attachments (multipart/related), the yearly
report's PDF and XLSX attached, and a List-Unsubscribe header with one-click unsubscribe (RFC 8058).
The MIME tree is built with the standard library's modern email API; Django's backends send it."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core import mail, signing
from django.core.mail.message import DNS_NAME
from django.urls import reverse

from .models import ReportDelivery, ReportRecipient
from .render import RenderedReport, render_report

SALT = "kto.reports.unsubscribe"


def unsubscribe_token(recipient: ReportRecipient) -> str:
    return signing.Signer(salt=SALT).sign(str(recipient.pk))


def read_unsubscribe_token(token: str) -> int | None:
    """The recipient's id, or None for a token that is not one of ours."""
    try:
        return int(signing.Signer(salt=SALT).unsign(token[:200]))
    except (signing.BadSignature, ValueError):
        return None


def unsubscribe_url(recipient: ReportRecipient) -> str:
    return settings.KTO_BASE_URL + reverse("surveys:report-unsubscribe", args=[unsubscribe_token(recipient)])


class _Mime(MimeMessage):
    """Takes the ``linesep`` Django's SMTP backend asks for. Headers are not folded below RFC
    5322's 998 characters: folded, the List-Unsubscribe address would become an encoded word
    that mail clients do not read as a link."""

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        return super().as_bytes(unixfrom, policy=self.policy.clone(linesep=linesep, max_line_length=998))


class ReportEmail(mail.EmailMessage):
    def __init__(self, report: RenderedReport, *, to: str, headers: dict[str, str]):
        super().__init__(subject=report.subject, body=report.text, to=[to], headers=headers)
        self.report = report

    def message(self) -> _Mime:
        message = _Mime(policy=email.policy.default)
        message["Subject"] = self.subject
        message["From"] = self.from_email
        message["To"] = ", ".join(self.to)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=DNS_NAME)
        for name, value in self.extra_headers.items():
            message[name] = value
        message.set_content(self.report.text)
        message.add_alternative(self.report.html, subtype="html")
        html = message.get_payload()[1]
        for cid, (content, subtype) in self.report.images.items():
            name = f"{cid.split('@')[0]}.{subtype}"
            html.add_related(content, "image", subtype, cid=f"<{cid}>", disposition="inline", filename=name)
        for attachment in self.report.attachments:
            maintype, subtype = attachment.mimetype.split("/")
            message.add_attachment(attachment.content, maintype, subtype, filename=attachment.filename)
        return message


def report_email(delivery: ReportDelivery, recipient: ReportRecipient) -> ReportEmail:
    url = unsubscribe_url(recipient)
    report = render_report(
        delivery.organisation, delivery.figures, delivery.comments, delivery.language, unsubscribe_url=url
    )
    headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return ReportEmail(report, to=delivery.email, headers=headers)
