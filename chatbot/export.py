"""Export: a conversation and the metrics table → what the app shows and lets readers download.

In: the app's messages (dicts, see below) and the metrics table (``Corpus.table``).
Out: safe Markdown for quotes and questions, the conversation as a Markdown audit trail, the
figures it quoted as CSV, and the explorer's views (filtered table, UK-share and investment
chart data; the "About this data" facts are in ``about``). Pure functions, no Streamlit, so
they are tested without a browser and the app stays a thin layer of ``st.*`` calls.

Downloads are safe to open: no CSV cell starts like a spreadsheet formula (``=``, ``+``, ``-``,
``@``, a tab…: such cells get a leading ``'``, plain numbers excepted), and the Markdown file
shows HTML and link syntax from questions as text (``<`` ``>`` ``&`` as entities, ``[``
escaped), so no renderer makes a script, image or frame of them.

A message is a dict: ``{"role": "user", "content": question}`` or
``{"role": "assistant", "content": answer_text, "answer": Answer}``; an assistant message
whose question failed has ``"error"`` (a plain sentence) and no ``"answer"``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import pandas as pd

from chatbot.records import Answer, Citation

#: Shown wherever a citation or metric has no data source.
NO_SOURCE = "no data source named"

#: Characters that mean something to Streamlit's Markdown: CommonMark punctuation, ``$`` (LaTeX)
#: and ``:`` (emoji shortcodes and ``:red[...]`` colour directives). ``<``/``>`` are escaped too,
#: although Streamlit already shows HTML as text when ``unsafe_allow_html`` is off.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")

#: A percentage row is a Midlands share of a UK total when its label says so. "share of UK
#: investments" is excluded: that row is the share of investments that were FDI.
UK_SHARE_RE = re.compile(r"share of (?:all in the |innovate )?uk\b(?! investments)|uk total",
                         re.IGNORECASE)
#: The summary section restates the ecosystem figures; charts take each figure once.
SUMMARY_SECTION = "Cluster in context"
#: Investment panel rows: "FDI capex 2017–21", "DDI jobs 2017–2021", ...
INVESTMENT_RE = re.compile(r"^(?P<kind>FDI|DDI) (?P<measure>capex|jobs|projects)\b", re.IGNORECASE)
#: Characters that make a spreadsheet read a cell as a formula (full-width forms too).
FORMULA_START = ("=", "+", "-", "@", "|", "%", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?[£$]?\d[\d,]*(?:\.\d+)?%?")
#: Columns the explorer shows, in order.
EXPLORER_COLUMNS = ["section", "label", "display", "source", "period", "unit", "quote", "metric_id"]


# --- safe Markdown -----------------------------------------------------------------------------

def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown``: every Markdown special character escaped."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text).replace("\r\n", "\n"))
    return escaped.replace("\n", "  \n")  # keep the reader's line breaks


def answer_markdown(text: str) -> str:
    """The engine's Markdown answer made safe to render: no LaTeX, no images, no raw links.

    The engine writes plain sentences with ``[1]`` markers and ``**bold**``; an answer may
    repeat words from the question, so ``$`` (Streamlit renders ``$…$`` as LaTeX), images and
    inline links are neutralised while bold and lists keep working.
    """
    text = re.sub(r"(?<!\\)\$", r"\\$", text)
    text = text.replace("![", "!\\[")
    return re.sub(r"\]\(", "]\\(", text)


def answer_body(ans: Answer) -> str:
    """The answer's text ready for ``st.markdown``: one line per line, calculation lines left
    out (the app shows ``ans.calculations`` under the answer), unsafe Markdown neutralised."""
    shown = {f"calculation: {c}".lower() for c in ans.calculations}
    lines = [ln.rstrip() for ln in ans.text.strip().splitlines()
             if ln.strip().lower() not in shown]
    return answer_markdown("  \n".join(lines).strip())


def nearest_not_in_text(ans: Answer) -> list[str]:
    """The nearest figures (``ans.nearest``) that the answer's text does not already list."""
    plain = ans.text.replace("**", "")
    return [n for n in ans.nearest if n not in plain]


def highlight_quote(quote: str, highlight: str | None) -> str:
    """The quote as safe Markdown with its figure in bold (every other character escaped)."""
    quote = " ".join(quote.split())
    span = _find_figure(quote, highlight)
    if span is None:
        return escape_markdown(quote)
    a, b = span
    return (escape_markdown(quote[:a]) + "**" + escape_markdown(quote[a:b]) + "**"
            + escape_markdown(quote[b:]))


def _find_figure(quote: str, figure: str | None) -> tuple[int, int] | None:
    """Span of ``figure`` in ``quote``, preferring a match not inside a longer number."""
    if not figure or not figure.strip():
        return None
    figure = figure.strip()
    bounded = re.compile(rf"(?<![\w.,]){re.escape(figure)}(?![\w]|[.,]\d)", re.IGNORECASE)
    m = bounded.search(quote) or re.search(re.escape(figure), quote, re.IGNORECASE)
    return m.span() if m else None


def source_name(source: str | None) -> str:
    """The data source, or the words the app uses when the snapshot names none."""
    return source.strip() if isinstance(source, str) and source.strip() else NO_SOURCE


def citation_label(c: Citation) -> str:
    """A source card's title: ``[1] Talent Ecosystem · ONS ASHE 2021`` (escaped)."""
    return escape_markdown(f"[{c.number}] {c.section} · {source_name(c.source)}")


# --- the conversation as files -----------------------------------------------------------------

def turns(messages: Sequence[dict]) -> list[tuple[str, dict]]:
    """(question, assistant message) pairs in order; a trailing unanswered question is skipped."""
    out: list[tuple[str, dict]] = []
    question: str | None = None
    for msg in messages:
        if msg.get("role") == "user":
            question = str(msg.get("content", ""))
        elif msg.get("role") == "assistant" and question is not None:
            out.append((question, msg))
            question = None
    return out


def markdown_text(text: object) -> str:
    """Text for the Markdown export: HTML shown as text (``<`` ``>`` ``&`` as entities), no link
    or image syntax (``[`` escaped) and no code spans or fences (where entities would show
    literally); bold and line breaks keep working."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\[`~])", r"\\\1", text)


def _quoted(text: str) -> str:
    """A block quote of ``text``; leading spaces dropped (four would start a code block)."""
    lines = [line.lstrip() for line in markdown_text(text).splitlines()] or [""]
    return "\n".join(f"> {line}" if line else ">" for line in lines)


def conversation_markdown(messages: Sequence[dict], title: str,
                          exported_at: datetime | None = None) -> str:
    """The conversation as a Markdown audit trail: every question, answer and citation.

    Questions and quotes are kept word for word (in block quotes) so the file is a faithful
    record; whatever they contain renders as text (``markdown_text``), never as HTML.
    """
    md = markdown_text
    when = (exported_at or datetime.now(UTC)).isoformat(timespec="seconds")
    lines = [f"# Snapshot Q&A: conversation about {md(title)}", "",
             f"- Document: {md(title)}", f"- Exported: {when}",
             "- Every figure below is quoted from the snapshot; sources are listed under each answer.",
             ""]
    for i, (question, msg) in enumerate(turns(messages), start=1):
        lines += [f"## Question {i}", "", _quoted(question), ""]
        ans: Answer | None = msg.get("answer")
        if ans is None:
            lines += [f"**No answer:** {md(msg.get('error') or 'the question could not be answered.')}",
                      ""]
            continue
        heading = "**Answer:**" if ans.answered else "**Not in the snapshot:**"
        lines += [heading, "", md(ans.text.strip()), ""]
        for calc in ans.calculations:
            lines.append(f"- Calculation: {md(calc)}")
        if ans.nearest:
            lines.append("- The nearest figures the snapshot does have:")
            lines += [f"  - {md(n)}" for n in ans.nearest]
        for note in ans.notices:
            lines.append(f"- Note: {md(note)}")
        if ans.calculations or ans.nearest or ans.notices:
            lines.append("")
        if ans.citations:
            lines += ["**Sources**", ""]
            for c in ans.citations:
                where = md(" · ".join(x for x in (c.document, c.section) if x))
                ref = f" · metric `{c.metric_id}`" if c.metric_id else ""
                lines.append(f"{c.number}. {where} · data source: {md(source_name(c.source))}{ref}")
                lines.append(f"   > \"{md(' '.join(c.quote.split()))}\"")
            lines.append("")
    if not turns(messages):
        lines += ["_No questions asked yet._", ""]
    return "\n".join(lines)


FIGURE_COLUMNS = ["turn", "question", "citation", "metric_id", "metric", "value", "unit", "period",
                  "source", "document", "section", "quote"]


def figure_rows(messages: Sequence[dict], table: pd.DataFrame) -> list[dict]:
    """One row per figure an answer quoted (a citation with a metric or a highlighted figure)."""
    by_id = {}
    if table is not None and len(table):
        by_id = {r["metric_id"]: r for r in _as_text(table).to_dict("records")}
    rows: list[dict] = []
    for turn, (question, msg) in enumerate(turns(messages), start=1):
        ans: Answer | None = msg.get("answer")
        if ans is None:
            continue
        for c in ans.citations:
            if not c.metric_id and not c.highlight:
                continue  # a prose citation quotes words, not a figure
            row = by_id.get(c.metric_id or "", {})
            rows.append({
                "turn": turn,
                "question": question,
                "citation": c.number,
                "metric_id": c.metric_id or "",
                "metric": row.get("label", ""),
                "value": row.get("display") or c.highlight or "",
                "unit": row.get("unit", ""),
                "period": row.get("period", ""),
                "source": source_name(c.source or row.get("source", "")),
                "document": c.document or row.get("document", ""),
                "section": c.section,
                "quote": " ".join(c.quote.split()),
            })
    return rows


def figures_csv(messages: Sequence[dict], table: pd.DataFrame) -> str:
    """Every figure quoted in the conversation as CSV (header row even when empty)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIGURE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()}
                     for row in figure_rows(messages, table))
    return buf.getvalue()


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading ``'``
    (plain numbers such as ``-5%`` are left alone); other values pass unchanged. Carriage
    returns become line feeds, which the CSV writer quotes (it leaves a bare ``\\r`` unquoted,
    and a spreadsheet would start a new row, and maybe a formula, there)."""
    if not isinstance(value, str) or not value:
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if value.lstrip(" ").startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value.strip()):
        return "'" + value
    return value


def table_csv(table: pd.DataFrame) -> str:
    """A metrics table (the explorer's rows) as CSV with every text cell ``spreadsheet_safe``."""
    safe = table.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(spreadsheet_safe)
    return safe.to_csv(index=False)


# --- the metrics explorer ----------------------------------------------------------------------

def _as_text(table: pd.DataFrame) -> pd.DataFrame:
    """The table with empty text cells as "" (a CSV read back has NaN there)."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].fillna("").astype(str)
    return out


def filter_options(table: pd.DataFrame) -> dict[str, list[str]]:
    """Choices for the explorer's section, source and unit filters (table order for sections)."""
    t = _as_text(table)
    sources = sorted({source_name(s) for s in t["source"]})
    return {"section": list(dict.fromkeys(t["section"])), "source": sources,
            "unit": sorted(set(t["unit"]) - {""})}


def filter_metrics(table: pd.DataFrame, sections: Iterable[str] = (), sources: Iterable[str] = (),
                   units: Iterable[str] = (), text: str = "") -> pd.DataFrame:
    """Rows matching every filter given (an empty filter keeps all); plain boolean masks only.

    ``text`` matches, case-insensitively and literally, the label, figure, quote, metric id,
    aliases or source. ``sources`` may hold ``NO_SOURCE`` for rows without a data source.
    """
    t = _as_text(table)
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
    """The explorer's columns, with the "no data source named" wording."""
    t = _as_text(table)
    view = t[[c for c in EXPLORER_COLUMNS if c in t.columns]].copy()
    view["source"] = view["source"].map(source_name)
    return view


def _restated(table: pd.DataFrame) -> pd.Series:
    """True for summary rows whose value and unit another section states again."""
    other = table[table["section"] != SUMMARY_SECTION]
    seen = set(zip(other["value"], other["unit"], strict=True))
    return (table["section"] == SUMMARY_SECTION) & pd.Series(
        [(v, u) in seen for v, u in zip(table["value"], table["unit"], strict=True)],
        index=table.index)


def _short_label(label: str) -> str:
    """"DDI jobs: share of UK total" → "DDI jobs"; other labels are kept whole."""
    head, _, tail = label.partition(":")
    if tail and re.fullmatch(r"\s*share of (?:all in the )?uk(?: total|\s+\w+)?\s*", tail, re.IGNORECASE):
        return head.strip()
    return label


def uk_share_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Percentages that state the Midlands' share of a UK total, each figure once.

    Columns: metric (short label), share (number), display, label, section, source, quote.
    """
    t = _as_text(table)
    pct = t[(t["unit"] == "percent") & t["label"].str.contains(UK_SHARE_RE)]
    pct = pct[~_restated(pct)]
    out = pd.DataFrame({
        "metric": pct["label"].map(_short_label),
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
    t = _as_text(table)
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
