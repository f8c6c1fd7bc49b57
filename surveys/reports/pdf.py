"""PDFs drawn from HTML with WeasyPrint (the counter poster, the yearly factsheet). WeasyPrint
fetches nothing from the network: only the organisation's uploaded logo, from the media folder."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from surveys.organisations.models import Organisation


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # loads Pango: only where a PDF is drawn

    # It warns about every SVG style property of a chart (and draws them all); its import sets
    # its logger's level, so this comes after it.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return HTML(string=html, url_fetcher=_local_only).write_pdf()


def logo_uri(organisation: Organisation) -> str:
    """The logo as a file:// address for WeasyPrint; "" without one."""
    if not organisation.logo:
        return ""
    try:
        return Path(organisation.logo.path).as_uri()
    except (NotImplementedError, ValueError):  # a storage without files on this server
        return ""


def _local_only(url: str, *args, **kwargs):
    from weasyprint.urls import default_url_fetcher

    media = Path(settings.MEDIA_ROOT).resolve().as_uri()
    if not url.startswith(media + "/"):
        raise ValueError(f"Not fetched for a PDF: {url[:80]}")
    return default_url_fetcher(url, *args, **kwargs)
