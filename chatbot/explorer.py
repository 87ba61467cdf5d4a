"""Explorer: the metrics table → what the "Metrics explorer" tab shows and lets readers download.

In: the metrics table (``Corpus.table``) and the reader's filters. Out: the filtered rows, the
columns a reader needs first (label, value as written, unit, period, source, quote), a CSV of
those columns with the value as written *and* a clean number, and the rows its charts draw
(the Midlands' share of UK totals; FDI against DDI) — always from the filtered rows, so the
charts follow the filters. Pure functions, no Streamlit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import pandas as pd

from chatbot.export import as_text, source_name, spreadsheet_safe

#: A percentage row is a Midlands share of a UK total when its label says so. "share of UK
#: investments" is excluded: that row is the share of investments that were FDI.
UK_SHARE_RE = re.compile(r"share of (?:all in the |innovate )?uk\b(?! investments)|uk total",
                         re.IGNORECASE)
#: The summary section restates the ecosystem figures; charts take each figure once.
SUMMARY_SECTION = "Cluster in context"
#: Investment panel rows: "FDI capex 2017–21", "DDI jobs 2017–2021", ...
INVESTMENT_RE = re.compile(r"^(?P<kind>FDI|DDI) (?P<measure>capex|jobs|projects)\b", re.IGNORECASE)
#: Columns the explorer shows, reader's columns first.
EXPLORER_COLUMNS = ["label", "display", "unit", "period", "source", "quote", "section", "metric_id"]
#: Headings the explorer shows for them.
EXPLORER_HEADINGS = {"label": "Figure", "display": "Value as written", "unit": "Unit",
                     "period": "Period", "source": "Data source", "quote": "The snapshot's words",
                     "section": "Section", "metric_id": "Id"}
#: Columns of the explorer's CSV download, in order.
CSV_COLUMNS = ["label", "value_as_written", "value", "unit", "period", "source", "quote", "section",
               "metric_id"]


def filter_options(table: pd.DataFrame) -> dict[str, list[str]]:
    """Choices for the explorer's section, source and unit filters (table order for sections)."""
    t = as_text(table)
    sources = sorted({source_name(s) for s in t["source"]})
    return {"section": list(dict.fromkeys(t["section"])), "source": sources,
            "unit": sorted(set(t["unit"]) - {""})}


def filter_metrics(table: pd.DataFrame, sections: Iterable[str] = (), sources: Iterable[str] = (),
                   units: Iterable[str] = (), text: str = "") -> pd.DataFrame:
    """Rows matching every filter given (an empty filter keeps all); plain boolean masks only.

    ``text`` matches, case-insensitively and literally, the label, figure, quote, metric id,
    aliases or source. ``sources`` may hold ``NO_SOURCE`` for rows without a data source.
    """
    t = as_text(table)
    mask = pd.Series(True, index=t.index)
    sections, sources, units = list(sections), list(sources), list(units)
    if sections:
        mask &= t["section"].isin(sections)
    if sources:
        mask &= t["source"].map(source_name).isin(sources)
    if units:
        mask &= t["unit"].isin(units)
    text = text.strip()
    if text:
        hit = pd.Series(False, index=t.index)
        for col in ("label", "display", "quote", "metric_id", "aliases", "source"):
            if col in t.columns:
                hit |= t[col].str.contains(text, case=False, regex=False)
        mask &= hit
    return t[mask]


def explorer_view(table: pd.DataFrame) -> pd.DataFrame:
    """The explorer's columns in reading order, with the "no data source named" wording."""
    t = as_text(table)
    view = t[[c for c in EXPLORER_COLUMNS if c in t.columns]].copy()
    view["source"] = view["source"].map(source_name)
    return view.reset_index(drop=True)


def plain_number(value: object) -> str:
    """A clean number for a CSV: ``266300000`` (not ``266300000.0``), ``27.2``; "" when none."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    if math.isnan(x) or math.isinf(x):
        return ""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.12g}"


def table_csv(table: pd.DataFrame) -> str:
    """The explorer's rows as CSV: reader columns, the value as written and as a clean number;
    every text cell ``spreadsheet_safe``."""
    t = as_text(table)
    out = pd.DataFrame({
        "label": t["label"],
        "value_as_written": t["display"],
        "value": t["value"].map(plain_number) if "value" in t else "",
        "unit": t["unit"],
        "period": t["period"],
        "source": t["source"].map(source_name),
        "quote": t["quote"],
        "section": t["section"],
        "metric_id": t["metric_id"],
    }, columns=CSV_COLUMNS)
    for col in out.columns:
        out[col] = out[col].map(spreadsheet_safe)
    return out.to_csv(index=False, lineterminator="\n")


def _restated(table: pd.DataFrame) -> pd.Series:
    """True for summary rows whose value and unit another section states again."""
    other = table[table["section"] != SUMMARY_SECTION]
    seen = set(zip(other["value"], other["unit"], strict=True))
    return (table["section"] == SUMMARY_SECTION) & pd.Series(
        [(v, u) in seen for v, u in zip(table["value"], table["unit"], strict=True)],
        index=table.index, dtype=bool)


def short_label(label: str) -> str:
    """"DDI jobs: share of UK total" → "DDI jobs"; other labels are kept whole."""
    head, _, tail = label.partition(":")
    if tail and re.fullmatch(r"\s*share of (?:all in the )?uk(?: total|\s+\w+)?\s*", tail, re.IGNORECASE):
        return head.strip()
    return label


def is_uk_share(label: str, unit: str) -> bool:
    """Is a row the Midlands' share of a UK total?"""
    return unit == "percent" and bool(UK_SHARE_RE.search(label or ""))


def uk_share_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Percentages that state the Midlands' share of a UK total, each figure once.

    Columns: metric (short label), share (number), display, label, section, source, quote.
    """
    t = as_text(table)
    pct = t[(t["unit"] == "percent") & t["label"].str.contains(UK_SHARE_RE)]
    pct = pct[~_restated(pct)]
    out = pd.DataFrame({
        "metric": pct["label"].map(short_label),
        "share": pd.to_numeric(pct["value"], errors="coerce"),
        "display": pct["display"],
        "label": pct["label"],
        "section": pct["section"],
        "source": pct["source"].map(source_name),
        "quote": pct["quote"],
    })
    return out.dropna(subset=["share"]).sort_values("share", ascending=False).reset_index(drop=True)


def investment_rows(table: pd.DataFrame) -> pd.DataFrame:
    """FDI against DDI capex, jobs and projects: columns kind, measure, value, display, unit,
    period, source, quote (one row per figure, summary restatements dropped)."""
    t = as_text(table)
    t = t[(t["unit"] != "percent") & ~_restated(t)]
    found = t["label"].str.extract(INVESTMENT_RE)
    rows = t[found["kind"].notna()]
    found = found[found["kind"].notna()]
    return pd.DataFrame({
        "kind": found["kind"].str.upper(),
        "measure": found["measure"].str.capitalize(),
        "value": pd.to_numeric(rows["value"], errors="coerce"),
        "display": rows["display"],
        "unit": rows["unit"],
        "period": rows["period"],
        "source": rows["source"].map(source_name),
        "quote": rows["quote"],
    }).reset_index(drop=True)
