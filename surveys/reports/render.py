"""A report drawn from its stored figures (reports.figures) in the subscription's language: the
subject, the HTML (tables, CSS inlined for mail clients), the plain text, the trend chart as PNG
and, for the yearly report, the factsheet PDF and the figures as XLSX. Drawing only reads the
stored figures, so a report shows the same whenever it is drawn again."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date

import css_inline
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from surveys.common.formatting import format_count, format_difference, format_percent, format_score
from surveys.dashboard.selectors import channel_label
from surveys.organisations.models import Organisation
from surveys.rollups.models import ALL_CHANNELS, FigureKind
from surveys.templatetags.kto_format import change, score_or_whole

from .charts import trend_chart
from .models import ReportKind
from .pdf import logo_uri, render_pdf
from .workbooks import report_workbook

TREND_CID = "trend@kto"
LOGO_CID = "logo@kto"


@dataclass
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass
class RenderedReport:
    subject: str
    html: str  # images referenced as cid:… (for the mail) or as data: URIs (for a preview)
    text: str
    images: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # content id -> (bytes, subtype)
    attachments: list[Attachment] = field(default_factory=list)
    context: dict = field(default_factory=dict)  # what the templates got (the factsheet uses it too)


def _score(figure: dict | None) -> str:
    return format_score(figure["mean"]) if figure and figure["mean"] is not None else "–"


def _mark(figure: dict | None) -> tuple[str, str]:
    """The significance mark of a figure against a year earlier, and its words for the legend."""
    if not figure or not figure.get("significant") or figure.get("difference") is None:
        return "", ""
    if figure["difference"] > 0:
        return "▲", _("significant hoger dan een jaar eerder")
    return "▼", _("significant lager dan een jaar eerder")


def period_title(kind: str, period: date) -> str:
    return str(period.year) if kind == ReportKind.YEAR else date_format(period, "F Y")


def short_title(kind: str, period: date) -> str:
    """A column heading: "2018", "nov 2018" ("Nov 2018")."""
    if kind == ReportKind.YEAR:
        return str(period.year)
    label = date_format(period, "M Y")
    return label.lower() if get_language() == "nl" else label


SCORE_SUBJECT = {
    "balie": lambda: _("De balie"),
    "telefoon": lambda: _("De telefoon"),
    "email": lambda: _("E-mail"),
    "whatsapp": lambda: _("WhatsApp"),
    "chat": lambda: _("De chat"),
    "website": lambda: _("De website"),
    "social": lambda: _("Sociale media"),
}


VOLUME_SENTENCE = {
    "telefoon": lambda: _("Er is %(count)s keer gebeld"),
    "balie": lambda: _("Er kwamen %(count)s bezoekers aan de balie"),
    "email": lambda: _("Er kwamen %(count)s e-mails binnen"),
    "website": lambda: _("Er waren %(count)s contacten via de website"),
    "chat": lambda: _("Er werden %(count)s chats gevoerd"),
    "whatsapp": lambda: _("Er kwamen %(count)s WhatsApp-berichten binnen"),
    "social": lambda: _("Er kwamen %(count)s berichten via sociale media binnen"),
}


def _volume_sentence(channel: str, contacts: int, previous: int | None, year: int) -> str:
    text = VOLUME_SENTENCE[channel]() % {"count": format_count(contacts)}
    if not previous or previous == contacts:
        return f"{text}."
    values = {"difference": format_count(abs(contacts - previous)), "year": year - 1}
    times = channel == "telefoon"
    if contacts < previous:
        more = _("%(difference)s keer minder dan in %(year)s") if times else _("%(difference)s minder dan in %(year)s")
    else:
        more = _("%(difference)s keer meer dan in %(year)s") if times else _("%(difference)s meer dan in %(year)s")
    return f"{text}, {more % values}."


def _sentences(figures: dict) -> list[str]:
    """The factsheet's sentences: "De balie scoort een 8,7 (2017: 8,5)." and the volumes."""
    year = date.fromisoformat(figures["period"]).year
    sentences = []
    for row in figures["rows"]:
        figure, channel = row["figure"], row["channel"]
        if figure and figure["mean"] is not None:
            previous = figure["previous"]
            values = {
                "subject": SCORE_SUBJECT[channel]() if channel in SCORE_SUBJECT else channel_label(channel),
                "score": format_score(figure["mean"]),
                "year": year - 1,
                "previous": _score(previous),
            }
            if channel == ALL_CHANNELS:
                text = _("De dienstverlening scoort gemiddeld een %(score)s (%(year)s: %(previous)s).")
            else:
                text = _("%(subject)s scoort een %(score)s (%(year)s: %(previous)s).")
            if not previous or previous["mean"] is None:
                text = text.replace(" (%(year)s: %(previous)s)", "")
            sentences.append(text % values)
        if figure and figure["contacts"] and channel != ALL_CHANNELS:
            previous_contacts = figure["previous"]["contacts"] if figure["previous"] else None
            sentences.append(_volume_sentence(channel, figure["contacts"], previous_contacts, year))
    return sentences


def _rows(figures: dict) -> list[dict]:
    rows = []
    for row in figures["rows"]:
        figure = row["figure"]
        mark, mark_text = _mark(figure)
        rows.append(
            {
                "label": channel_label(row["channel"]),
                "all": row["channel"] == ALL_CHANNELS,
                "score": _score(figure),
                "indicative": bool(figure and figure["indicative"] and figure["n"]),
                "n": format_count(figure["n"]) if figure else "0",
                "previous": _score(figure and figure["previous"]),
                "month_before": _score(row["month_before"]),
                "mark": mark,
                "mark_text": mark_text,
                "difference": format_difference(figure["difference"]) if figure else "",
                "response_rate": format_percent(figure["response_rate"]) if figure else "",
                "contacts": format_count(figure["contacts"]) if figure and figure["contacts"] else "",
                "previous_contacts": format_count(figure["previous"]["contacts"])
                if figure and figure["previous"] and figure["previous"]["contacts"]
                else "",
            }
        )
    return rows


def _kerncijfers(figures: dict) -> dict | None:
    table = figures.get("kerncijfers")
    if not table:
        return None
    years = table["years"]

    def cell(row, year):
        value = row["values"].get(str(year))
        if value is None:
            return "–"
        return f"{score_or_whole(value)}%" if row["kind"] == FigureKind.PERCENTAGE else format_count(round(value))

    return {
        "years": years,
        "rows": [
            {
                "label": row["label"],
                "part": row["part_of_channel"],
                "cells": [{"value": cell(row, y), "change": change(row["changes"].get(str(y)))} for y in years],
            }
            for row in table["rows"]
        ],
    }


def _chart(figures: dict, kind: str, period: date, *, narrow: bool = False):
    months = [date.fromisoformat(m) for m in figures["trend"]["months"]]
    series = {
        channel_label(channel): list(zip(months, values, strict=True)) for channel, values in figures["trend"]["series"]
    }
    last = [f"{label} {format_score(points[-1][1]) or '–'}" for label, points in series.items()]
    description = _("Rapportcijfer per maand en per kanaal. In %(month)s: %(values)s.") % {
        "month": date_format(months[-1], "F Y"),
        "values": "; ".join(last) or _("geen cijfers"),
    }
    title = _("Rapportcijfer per maand, %(first)s tot en met %(last)s") % {
        "first": date_format(months[0], "F Y"),
        "last": date_format(months[-1], "F Y"),
    }
    return trend_chart(series, title=title, description=description, key=f"trend-{kind}-{period:%Y%m}", narrow=narrow)


def _logo(organisation: Organisation) -> tuple[bytes, str] | None:
    """The logo for a mail client: PNG or JPEG only (many clients show no SVG or WebP)."""
    name = organisation.logo.name.lower() if organisation.logo else ""
    subtype = "png" if name.endswith(".png") else "jpeg" if name.endswith((".jpg", ".jpeg")) else None
    if not subtype:
        return None
    try:
        with organisation.logo.open("rb") as logo:
            return logo.read(), subtype
    except OSError:
        return None


def render_report(
    organisation: Organisation,
    figures: dict,
    comments: list[dict],
    language: str,
    *,
    unsubscribe_url: str = "",
    preview: bool = False,
    attachments: bool = True,
) -> RenderedReport:
    """``preview`` puts the images in the HTML as data: URIs (for a browser) instead of cid:."""
    kind, period = figures["kind"], date.fromisoformat(figures["period"])
    with override(language):
        chart = _chart(figures, kind, period)  # the factsheet's, A4-wide
        images = {TREND_CID: (_chart(figures, kind, period, narrow=True).png(dpi=110), "png")}
        if logo := _logo(organisation):
            images[LOGO_CID] = logo
        sources = {
            cid: f"data:image/{subtype};base64,{base64.b64encode(content).decode()}" if preview else f"cid:{cid}"
            for cid, (content, subtype) in images.items()
        }
        title = period_title(kind, period)
        if kind == ReportKind.MONTH:
            subject = _("Klanttevredenheid %(period)s – %(organisation)s")
        else:
            subject = _("Jaarrapport klanttevredenheid %(period)s – %(organisation)s")
        subject = subject % {"period": title, "organisation": organisation.name}
        rows = _rows(figures)
        context = {
            "language": language,
            "subject": subject,
            "organisation": organisation,
            "kind": kind,
            "monthly": kind == ReportKind.MONTH,
            "period_title": title,
            "month_before_title": date_format(date.fromordinal(period.toordinal() - 1), "F Y"),
            "year_before_title": period_title(kind, period.replace(year=period.year - 1)),
            "period_short": short_title(kind, period),
            "month_before_short": short_title(kind, date.fromordinal(period.toordinal() - 1)),
            "year_before_short": short_title(kind, period.replace(year=period.year - 1)),
            "rows": rows,
            "indicative": any(row["indicative"] for row in rows),
            "significant": any(row["mark"] for row in rows),
            "min_responses": settings.KTO_MIN_RESPONSES,
            "sentences": [] if kind == ReportKind.MONTH else _sentences(figures),
            "kerncijfers": _kerncijfers(figures),
            "comments": [{**c, "channel": channel_label(c["channel"])} for c in comments],
            "follow_ups": figures.get("follow_ups"),
            "chart": chart,
            "trend_src": sources[TREND_CID],
            "logo_src": sources.get(LOGO_CID, ""),
            "unsubscribe_url": unsubscribe_url,
            "dashboard_url": f"{settings.KTO_BASE_URL}/admin/",
        }
        html = css_inline.inline(render_to_string("emails/report.html", context))
        text = render_to_string("emails/report.txt", context)
        report = RenderedReport(subject=subject, html=html, text=text, images=images, context=context)
        if kind == ReportKind.YEAR and attachments:
            slug = f"{organisation.slug}-{period.year}"
            report.attachments = [
                Attachment(f"kto-{slug}.pdf", factsheet_pdf(context), "application/pdf"),
                Attachment(
                    f"kto-{slug}.xlsx",
                    report_workbook(figures),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ]
    return report


def factsheet_html(context: dict) -> str:
    return render_to_string("reports/factsheet.html", {**context, "logo": logo_uri(context["organisation"])})


def factsheet_pdf(context: dict) -> bytes:
    return render_pdf(factsheet_html(context))
