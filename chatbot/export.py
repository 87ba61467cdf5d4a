"""Export: a conversation and the metrics table → what the app shows and lets readers download.

In: the app's messages (dicts, see below) and the metrics table (``Corpus.table``).
Out: safe Markdown for questions and answers, the conversation as a Markdown audit trail and
the figures it quoted as CSV (source cards are in ``cards``, the explorer's views in
``explorer``, "About this data" in ``about``). Pure functions, no Streamlit, so they are tested
without a browser and the app stays a thin layer of ``st.*`` calls.

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
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from chatbot.records import Answer

#: Shown wherever a citation or metric has no data source.
NO_SOURCE = "no data source named"

#: Characters that mean something to Streamlit's Markdown: CommonMark punctuation, ``$`` (LaTeX)
#: and ``:`` (emoji shortcodes and ``:red[...]`` colour directives). ``<``/``>`` are escaped too,
#: although Streamlit already shows HTML as text when ``unsafe_allow_html`` is off.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")

#: Characters that make a spreadsheet read a cell as a formula (full-width forms too).
FORMULA_START = ("=", "+", "-", "@", "|", "%", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?[£$]?\d[\d,]*(?:\.\d+)?%?")


# --- safe Markdown -----------------------------------------------------------------------------

def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown``: every Markdown special character escaped."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text).replace("\r\n", "\n"))
    return escaped.replace("\n", "  \n")  # keep the reader's line breaks


#: Where Markdown renderers start a link of their own (GFM "autolink literals"): a scheme's
#: ``://``, ``www.`` and an e-mail's ``@``. Streamlit finds them even in escaped text.
_AUTOLINK = re.compile(r"(?<=[A-Za-z])(?=\\?://)|(?<=\bwww)(?=\\?\.)|(?=@)", re.IGNORECASE)
#: U+2060 WORD JOINER: invisible, but it breaks the patterns above.
WORD_JOINER = "\u2060"


def unlink(markdown: str) -> str:
    """Markdown in which no URL or e-mail address typed as text becomes a link (a word joiner
    goes before ``://``, after ``www`` and before ``@``); what the reader sees is unchanged."""
    return _AUTOLINK.sub(WORD_JOINER, markdown)


def question_markdown(text: str) -> str:
    """A reader's message for ``st.markdown``: shown literally, links and all, as plain text."""
    return unlink(escape_markdown(text))


def answer_markdown(text: str) -> str:
    """The engine's Markdown answer made safe to render: no LaTeX, no images, no raw links.

    The engine writes plain sentences with ``[1]`` markers and ``**bold**``; an answer may
    repeat words from the question, so ``$`` (Streamlit renders ``$…$`` as LaTeX), images and
    inline links are neutralised while bold and lists keep working.
    """
    text = re.sub(r"(?<!\\)\$", r"\\$", text)
    text = text.replace("![", "!\\[")
    return unlink(re.sub(r"\]\(", "]\\(", text))


def answer_body(ans: Answer) -> str:
    """The answer's text ready for ``st.markdown``: one line per line, calculation lines left
    out (the app shows ``ans.calculations`` under the answer), unsafe Markdown neutralised."""
    return answer_markdown("  \n".join(answer_lines(ans)).strip())


def answer_lines(ans: Answer) -> list[str]:
    """The answer's lines without the calculation lines (shown once, from ``ans.calculations``)."""
    shown = {f"calculation: {c}".lower() for c in ans.calculations}
    return [ln.rstrip() for ln in ans.text.strip().splitlines() if ln.strip().lower() not in shown]


def nearest_not_in_text(ans: Answer) -> list[str]:
    """The nearest figures (``ans.nearest``) that the answer's text does not already list."""
    plain = ans.text.replace("**", "")
    return [n for n in ans.nearest if n not in plain]


def source_name(source: str | None) -> str:
    """The data source, or the words the app uses when the snapshot names none."""
    return source.strip() if isinstance(source, str) and source.strip() else NO_SOURCE


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
            if msg.get("refusal"):
                lines += [f"**Not sent:** {md(msg['refusal'])}", ""]
            else:
                lines += [f"**No answer:** {md(msg.get('error') or 'the question could not be answered.')}",
                          ""]
            continue
        heading = "**Answer:**" if ans.answered else "**Not in the snapshot:**"
        lines += [heading, "", md("\n".join(answer_lines(ans)).strip()), ""]
        notes = [f"- Calculation: {md(calc)}" for calc in dict.fromkeys(ans.calculations)]
        nearest = nearest_not_in_text(ans)
        if nearest:
            notes.append("- The nearest figures the snapshot does have:")
            notes += [f"  - {md(n)}" for n in nearest]
        notes += [f"- Note: {md(note)}" for note in dict.fromkeys([msg.get("notice"), *ans.notices])
                  if note]
        lines += [*notes, ""] if notes else []
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
        by_id = {r["metric_id"]: r for r in as_text(table).to_dict("records")}
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


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """The table with empty text cells as "" (a CSV read back has NaN there)."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].fillna("").astype(str)
    return out
