"""Charts drawn on the server with matplotlib: inline SVG for the staff pages, PNG for the report
e-mails, from the same drawing. Each SVG is an image with a title and a description (screen
readers read those; the page puts the figures in a table beside it), lines differ by marker and
dash as well as colour, numbers follow the active language ("8,3"), and nothing is loaded from
anywhere. matplotlib's object API (``Figure``) is used, not pyplot: no global state between
requests."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from matplotlib import rcParams
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from surveys.common.formatting import format_count, format_score

rcParams["svg.fonttype"] = "none"  # text stays text: smaller, selectable, readable by screen readers
rcParams["svg.hashsalt"] = "kto"  # the same chart gives the same SVG
rcParams["font.family"] = "DejaVu Sans"

# Dark enough on white for lines and text (contrast at least 3:1), and told apart by marker too.
STYLES = [
    ("#154273", "o", "-"),
    ("#b3001b", "s", "--"),
    ("#1f6b36", "^", "-."),
    ("#6b3fa0", "D", ":"),
    ("#8a4b00", "v", "-"),
    ("#00617a", "P", "--"),
    ("#4a4a4a", "X", "-."),
    ("#a3005e", "*", ":"),
]


@dataclass(frozen=True)
class Chart:
    """One drawn chart: its title and description, and the drawing."""

    title: str
    description: str
    figure: Figure
    key: str  # unique on a page: the ids of the SVG's title and description

    def svg(self) -> SafeString:
        buffer = io.StringIO()
        self.figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        svg = buffer.getvalue()
        svg = svg[svg.index("<svg") :]
        svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)  # matplotlib's RDF block
        svg = re.sub(r'\swidth="[^"]+"\sheight="[^"]+"', "", svg, count=1)  # the viewBox sizes it
        head, rest = svg.split(">", 1)
        return mark_safe(  # noqa: S308 - matplotlib's own markup; the texts are escaped
            f'{head} role="img" aria-labelledby="{self.key}-title {self.key}-desc" class="kto-chart">'
            f'<title id="{self.key}-title">{escape(self.title)}</title>'
            f'<desc id="{self.key}-desc">{escape(self.description)}</desc>{rest}'
        )

    def png(self, dpi: int = 150) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()


def _axes(width: float = 8, height: float = 3.4):
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#d0d0d0", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def month_label(month: date) -> str:
    """ "jan 18", "mrt 18" ("Mar 18" in English)."""
    return date_format(month, "M y").lower() if get_language() == "nl" else date_format(month, "M y")


def trend_chart(
    series: dict[str, list[tuple[date, float | None]]],
    *,
    title: str,
    description: str,
    key: str,
    narrow: bool = False,
) -> Chart:
    """Lines of monthly means (one per label), gaps where a month has no figure. ``narrow``: for a
    phone-wide mail, taller, with larger text and the legend below the lines."""
    figure, axes = _axes(6, 4.4) if narrow else _axes()
    fontsize = 10 if narrow else 8
    months = sorted({month for points in series.values() for month, _value in points})
    position = {month: index for index, month in enumerate(months)}
    for (label, points), (colour, marker, dash) in zip(series.items(), STYLES * 2, strict=False):
        xs = [position[month] for month, _value in points]
        ys = [value if value is not None else float("nan") for _month, value in points]
        axes.plot(xs, ys, label=label, color=colour, marker=marker, linestyle=dash, linewidth=1.6, markersize=4)
    step = max(1, len(months) // (6 if narrow else 12))
    axes.set_xticks(range(len(months))[::step])
    axes.set_xticklabels([month_label(month) for month in months][::step], fontsize=fontsize)
    axes.tick_params(axis="y", labelsize=fontsize)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: format_score(value)))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6))
    axes.set_ylabel(_("rapportcijfer"), fontsize=fontsize)
    if series and narrow:
        figure.legend(loc="outside lower center", ncols=3, frameon=False, fontsize=fontsize)
    elif series:
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=fontsize)
    return Chart(title=title, description=description, figure=figure, key=key)


def distribution_chart(counts: dict[int, int], *, title: str, description: str, key: str) -> Chart:
    """Bars of how many responses gave each score from 1 to 10; below 6 in a second colour."""
    figure, axes = _axes(width=6, height=3)
    scores = list(range(1, 11))
    values = [counts.get(score, 0) for score in scores]
    colours = ["#b3001b" if score < 6 else "#154273" for score in scores]
    hatches = ["//" if score < 6 else "" for score in scores]
    bars = axes.bar(scores, values, color=colours, edgecolor="white")
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    axes.set_xticks(scores)
    axes.set_xlabel(_("rapportcijfer"))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: format_count(int(value))))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    return Chart(title=title, description=description, figure=figure, key=key)
