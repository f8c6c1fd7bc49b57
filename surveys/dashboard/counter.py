"""The counter (balie): for each channel the open link as a QR code (SVG and PNG) and a printable
A4 poster (PDF) with the municipality's name and logo, and the kiosk link for a counter tablet
(whose thank-you page returns to a fresh form). Staff see only their own organisation's."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from surveys.organisations.models import Channel, Organisation, OrganisationChannel
from surveys.organisations.roles import membership_of
from surveys.reports.pdf import logo_uri, render_pdf


def open_link(organisation: Organisation, channel: str, *, kiosk: bool = False) -> str:
    path = reverse("surveys:open", kwargs={"slug": organisation.slug, "channel": channel})
    return f"{settings.KTO_BASE_URL}{path}{'?kiosk=1' if kiosk else ''}"


def qr_code(organisation: Organisation, channel: str) -> segno.QRCode:
    return segno.make(open_link(organisation, channel), error="m")


def qr_svg(organisation: Organisation, channel: str, *, scale: int = 8) -> str:
    buffer = io.BytesIO()
    title = _("QR-code naar de vragenlijst van %(channel)s") % {"channel": Channel(channel).label}
    qr_code(organisation, channel).save(buffer, kind="svg", scale=scale, border=2, title=title, xmldecl=False)
    return buffer.getvalue().decode()


def _organisation(request) -> Organisation:
    if request.user.is_superuser:
        slug = request.GET.get("organisation")
        found = (
            Organisation.objects.filter(slug=slug).first() if slug else Organisation.objects.order_by("name").first()
        )
        if found is None:
            raise Http404
        return found
    membership = membership_of(request.user)
    if membership is None:
        raise Http404
    return membership.organisation


def _channel(organisation: Organisation, channel: str) -> str:
    if not OrganisationChannel.objects.filter(organisation=organisation, channel=channel, enabled=True).exists():
        raise Http404
    return channel


def counter(request):
    organisation = _organisation(request)
    channels = [
        {
            "channel": row.channel,
            "label": row.get_channel_display(),
            "link": open_link(organisation, row.channel),
            "kiosk": open_link(organisation, row.channel, kiosk=True),
            "qr": qr_svg(organisation, row.channel, scale=4),
        }
        for row in OrganisationChannel.objects.filter(organisation=organisation, enabled=True).order_by("channel")
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Balie: QR-codes en posters"),
        "organisation": organisation,
        "organisations": Organisation.objects.order_by("name") if request.user.is_superuser else None,
        "channels": channels,
    }
    return TemplateResponse(request, "admin/kto/counter.html", context)


def qr_download(request, channel: str, kind: str):
    if kind not in ("svg", "png"):
        raise Http404
    organisation = _organisation(request)
    channel = _channel(organisation, channel)
    buffer = io.BytesIO()
    qr_code(organisation, channel).save(buffer, kind=kind, scale=20 if kind == "png" else 10, border=4)
    content_type = "image/svg+xml" if kind == "svg" else "image/png"
    answer = HttpResponse(buffer.getvalue(), content_type=content_type)
    answer["Content-Disposition"] = f'attachment; filename="qr-{organisation.slug}-{channel}.{kind}"'
    return answer


def poster_html(organisation: Organisation, channel: str) -> str:
    return render_to_string(
        "admin/kto/poster.html",
        {
            "organisation": organisation,
            "channel_label": Channel(channel).label,
            "qr": qr_svg(organisation, channel, scale=10),
            "link": open_link(organisation, channel),
            "logo": logo_uri(organisation),
        },
    )


def poster(request, channel: str):
    """An A4 poster: the municipality's name and logo, the question, the QR code and the link."""
    organisation = _organisation(request)
    channel = _channel(organisation, channel)
    pdf = render_pdf(poster_html(organisation, channel))
    answer = HttpResponse(pdf, content_type="application/pdf")
    answer["Content-Disposition"] = f'attachment; filename="poster-{organisation.slug}-{channel}.pdf"'
    return answer
