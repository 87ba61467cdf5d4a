"""Charts: figures → horizontal bar charts with every figure written on its bar.

In: metrics-table rows — the ones behind an answer (``Chatbot.figures(answer.metric_ids)``) or
the explorer's filtered rows (``explorer.uk_share_rows``, ``explorer.investment_rows``).
Out: ``ChartSpec`` values (an Altair chart, a caption and a text alternative) that the app
hands to ``st.altair_chart``. Pure functions, no Streamlit; Altair only builds a Vega-Lite
spec, which Streamlit's own bundled Vega draws (nothing is fetched from another host).

Every chart is readable at 390 px without hovering: each bar has its name on the line above
it (wrapped, never cut by an axis), its value as the snapshot writes it at its end, and no
axis to squeeze the bars. Shares of a UK total are drawn against a pale 100% bar (the UK).
Charts come only where a picture beats text: comparisons (FDI vs DDI capex, jobs, projects;
Midlands vs national salary) and shares of UK totals.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd

from chatbot.about import resolve_source
from chatbot.explorer import is_uk_share, short_label

#: Answer kinds that compare figures (a bar chart per unit).
COMPARE_KINDS = ("compare", "derived", "conflict")
#: Answer kinds that may state a share of a UK total (a share chart).
SHARE_KINDS = ("figure", "figures", "verify", "compare", "derived", "conflict", "provenance")
#: Bar colours: foreign (FDI) light, domestic (DDI) dark, national grey, the Midlands blue.
COLOURS = {"FDI": "#90cdf4", "DDI": "#2b6cb0", "national": "#a0aec0", "Midlands": "#2b6cb0"}
#: The pale bar behind a share: the whole UK.
UK_COLOUR = "#e2e8f0"
#: Characters per line of a bar's name (wrapped, so a 390 px screen shows it whole).
NAME_CHARS = 38
LINE_PX, BAR_PX, GAP_PX = 15, 16, 6
#: Room after the longest bar for its value.
HEADROOM = 1.45
_PERIOD = re.compile(r"\s+(?:19|20)\d\d(?:\s*[–-]\s*\d{2,4})?$")


@dataclass(frozen=True)
class ChartSpec:
    """A chart, what to print under it, and a sentence for screen readers."""

    chart: alt.LayerChart
    caption: str
    alt_text: str


def _number(value: object) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def bar_name(label: str, keep_period: bool = False) -> str:
    """A bar's name: the label without a share suffix, nor a trailing period unless kept (a
    comparison's caption names its periods; a share chart's rows each have their own)."""
    name = short_label(label)
    return name if keep_period else _PERIOD.sub("", name).strip() or label


def colour_key(name: str) -> str:
    """Which colour a bar takes: FDI, DDI, national or the Midlands."""
    head = name.split()[0].upper() if name.split() else ""
    if head in ("FDI", "DDI"):
        return head
    return "national" if "national" in name.lower() else "Midlands"


def _frame(rows: Sequence[Mapping], suffix: str = "", keep_period: bool = False) -> pd.DataFrame:
    names = [bar_name(str(r.get("label", "")), keep_period) for r in rows]
    return pd.DataFrame({
        "name": ["\n".join(textwrap.wrap(n, NAME_CHARS)) or n for n in names],
        "value": [_number(r.get("value")) for r in rows],
        "text": [f"{r.get('display', '')}{suffix}" for r in rows],
        "colour": [colour_key(n) for n in names],
        "order": list(range(len(rows))),
    })


def _bars(df: pd.DataFrame, domain_max: float, whole: float | None = None,
          title: str | None = None) -> alt.LayerChart:
    """Name above, bar below, value at the bar's end; rows laid out in pixels (each as tall as
    its name needs), no axes."""
    name_y, bar_y, top = [], [], 0
    for name in df["name"]:
        name_y.append(top + GAP_PX)
        bar_y.append(top + GAP_PX + LINE_PX * (name.count("\n") + 1) + 4)
        top = bar_y[-1] + BAR_PX + GAP_PX
    df = df.assign(zero=0.0, whole=whole if whole is not None else 0.0, name_y=name_y,
                   bar_y=bar_y)
    df = df.assign(bar_y2=df["bar_y"] + BAR_PX, mid=df["bar_y"] + BAR_PX / 2)
    scale = alt.Scale(domain=[0, domain_max], nice=False, zero=True)
    x0 = alt.X("zero:Q", scale=scale, axis=None)
    bar_y = alt.Y("bar_y:Q", scale=None, axis=None)
    base = alt.Chart(df)
    layers = []
    if whole is not None:
        layers.append(base.mark_bar(color=UK_COLOUR, cornerRadiusEnd=2).encode(
            x=x0, x2="whole:Q", y=bar_y, y2="bar_y2:Q"))
    layers += [
        base.mark_bar(cornerRadiusEnd=2).encode(
            x=x0, x2="value:Q", y=bar_y, y2="bar_y2:Q",
            color=alt.Color("colour:N", legend=None, scale=alt.Scale(
                domain=list(COLOURS), range=list(COLOURS.values())))),
        base.mark_text(align="left", baseline="middle", dx=4, fontSize=13, fontWeight="bold",
                       color="#1a202c").encode(
            x=alt.X("value:Q", scale=scale, axis=None), y=alt.Y("mid:Q", scale=None, axis=None),
            text="text:N"),
        base.mark_text(align="left", baseline="top", fontSize=12, lineBreak="\n",
                       color="#4a5568").encode(
            x=alt.value(0), y=alt.Y("name_y:Q", scale=None, axis=None), text="name:N"),
    ]
    # "fit-x": the width follows the page; the height stays what the rows need (plain "fit"
    # squeezes a titled chart into its height and cuts the last row off)
    chart = alt.layer(*layers).properties(
        height=top, autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    if title:
        chart = chart.properties(title=alt.Title(title, anchor="start", fontSize=13))
    return chart.configure_view(stroke=None)


def _sources(rows: Sequence[Mapping]) -> str:
    """" Source: Wavteq 2022." — the data sources the rows name (footnotes that only define a
    measure are not sources: ``about.resolve_source``)."""
    found = [resolve_source(str(r.get("source") or "")) for r in rows]
    names = list(dict.fromkeys(f[0] for f in found if f))
    if not names:
        return ""
    some = " (some figures name none)" if not all(found) else ""
    return f" Source{'s' if len(names) > 1 else ''}: {', '.join(names)}{some}."


def share_chart(rows: Sequence[Mapping]) -> ChartSpec:
    """The Midlands' share of each UK total, against the whole UK (100%)."""
    df = _frame(rows, " of the UK total", keep_period=True)
    spoken = "; ".join(f"{n}: {t}" for n, t in zip(df["name"].str.replace("\n", " "), df["text"],
                                                     strict=True))
    return ChartSpec(_bars(df, 100.0, whole=100.0), "Pale bar: the whole UK; dark bar: the "
                     "Midlands' share, as the snapshot states it." + _sources(rows),
                     f"Bar chart of the Midlands' share of UK totals. {spoken}.")


def compare_chart(rows: Sequence[Mapping], title: str | None = None) -> ChartSpec:
    """Figures in one unit side by side, each with its value as written."""
    df = _frame(rows)
    top = float(df["value"].max() or 1)
    periods = list(dict.fromkeys(str(r.get("period") or "") for r in rows if r.get("period")))
    when = f" ({', '.join(periods)})" if periods else ""
    spoken = "; ".join(f"{n}: {t}" for n, t in zip(df["name"].str.replace("\n", " "), df["text"],
                                                     strict=True))
    return ChartSpec(_bars(df, top * HEADROOM, title=title),
                     f"Figures as the snapshot writes them{when}.{_sources(rows)}",
                     f"Bar chart comparing {spoken}.")


def _measure(rows: Sequence[Mapping]) -> str:
    """A short title for figures in one unit: "Jobs", "Capex (USD)", "Salary (GBP)"."""
    words = [set(bar_name(str(r.get("label", ""))).lower().split()) for r in rows]
    common = set.intersection(*words) - {"fdi", "ddi", "national", "midlands"} if words else set()
    first = bar_name(str(rows[0].get("label", ""))).split()
    name = " ".join(w for w in first if w.lower() in common) or str(rows[0].get("unit", ""))
    unit = str(rows[0].get("unit", ""))
    return f"{name[:1].upper()}{name[1:]}" + (f" ({unit})" if unit.isupper() else "")


def answer_charts(kind: str, rows: Sequence[Mapping]) -> list[ChartSpec]:
    """The charts an answer of ``kind`` gets from the rows it cites (often none).

    A share of a UK total gets a share chart; a comparison gets one bar chart per unit holding
    two or more figures (capex, jobs and projects apart: their scales differ).
    """
    rows = [r for r in rows if _number(r.get("value")) is not None]
    out: list[ChartSpec] = []
    shares = [r for r in rows if is_uk_share(str(r.get("label", "")), str(r.get("unit", "")))]
    if shares and kind in SHARE_KINDS:
        out.append(share_chart(shares))
    if kind in COMPARE_KINDS:
        groups: dict[str, list[Mapping]] = {}
        for r in rows:
            if r.get("unit") != "percent":
                groups.setdefault(str(r.get("unit", "")), []).append(r)
        many = [g for g in groups.values() if len(g) >= 2]
        out += [compare_chart(g, _measure(g) if len(many) > 1 else None) for g in many]
    return out


def explorer_share_chart(share: pd.DataFrame) -> ChartSpec | None:
    """The explorer's share chart from ``explorer.uk_share_rows`` (None when there are none)."""
    if share.empty:
        return None
    rows = [{"label": m, "value": v, "display": d, "source": s} for m, v, d, s in
            zip(share["metric"], share["share"], share["display"], share["source"], strict=True)]
    return share_chart(rows)


def explorer_investment_charts(inv: pd.DataFrame) -> list[ChartSpec]:
    """One FDI-against-DDI chart per measure from ``explorer.investment_rows``."""
    out = []
    for measure in dict.fromkeys(inv["measure"]):
        part = inv[inv["measure"] == measure]
        rows = [{"label": f"{k} {measure.lower()}", "value": v, "display": d, "unit": u,
                 "period": p, "source": s} for k, v, d, u, p, s in
                zip(part["kind"], part["value"], part["display"], part["unit"], part["period"],
                    part["source"], strict=True)]
        out.append(compare_chart(rows, _measure(rows)))
    return out
