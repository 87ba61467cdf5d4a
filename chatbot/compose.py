"""Compose: answer lines with numbered citations, the sentence first and the evidence after.

In: figures (``Metric``), passages and calculations chosen by a planner. Out: a ``Composer``
holding Markdown lines, citations (quotes are the snapshot's own words: the whole panel or
sentence that states a figure, so a reader sees what it is), calculations with their working,
suggested follow-up questions and the figures used. Every number written here is a figure's
display value, a quote's own words, or the result of a labelled calculation.
"""

from __future__ import annotations

import re

from chatbot.facts import Metric
from chatbot.records import Chunk, Citation
from chatbot.text import SIGNS, citation_numbers, scaled, years


class Composer:
    """Collects the lines of one answer and the citations they point to."""

    def __init__(self, chunk_of: dict[str, Chunk], chunks: list[Chunk] = (), multi: bool = False) -> None:
        self.chunk_of = chunk_of  # metric id → the passage that states it
        self.chunks = list(chunks)
        self.multi = multi
        self.lines: list[str] = []
        self.citations: list[Citation] = []
        self.calculations: list[str] = []
        self.metric_ids: list[str] = []
        self.retrieved: list[str] = []
        self.suggestions: list[str] = []
        self.nearest: list[str] = []
        self.items: list[str] = []  # list items shown, for "which of those …" follow-ups

    def add(self, line: str) -> None:
        if line not in self.lines:  # two clauses asking the same thing get one answer
            self.lines.append(line)

    def _cite(self, quote: str, section: str, source: str, metric_id: str | None,
              chunk_id: str | None, highlight: str | None, document: str) -> int:
        for c in self.citations:
            if c.quote == quote and c.document == document:
                return c.number
        n = len(self.citations) + 1
        self.citations.append(Citation(n, source, section, quote, metric_id, chunk_id, highlight,
                                       document))
        if chunk_id and chunk_id not in self.retrieved:
            self.retrieved.append(chunk_id)
        return n

    def cite_metric(self, m: Metric) -> int:
        """Cite a figure with the passage that states it (a panel, or its sentence)."""
        if m.metric_id not in self.metric_ids:
            self.metric_ids.append(m.metric_id)
        chunk = self.chunk_of.get(m.metric_id)
        panel = chunk is not None and chunk.kind in ("figure", "table_row") and m.display in chunk.quote
        quote = chunk.quote if panel else m.quote
        return self._cite(quote, m.section, m.source, m.metric_id,
                          chunk.chunk_id if chunk else None, m.display, m.document)

    def figure(self, m: Metric, *, lead: str = "", tail: str = "", also: tuple[Metric, ...] = ()) -> str:
        """One figure as a cited sentence; its period is named when the citation shows it.
        ``also``: the same figure where another section states it, cited beside it."""
        n = self.cite_metric(m)
        shown = self.citations[n - 1].quote + " " + m.source
        text = sentence(m, n, lead=lead, tail=tail, multi=self.multi, shown=shown)
        extra = "".join(dict.fromkeys(f"[{k}]" for a in also if (k := self.cite_metric(a)) != n
                                      and f"[{k}]" not in text))
        return text[:-1] + extra + "." if extra else text

    def cite_passage(self, text: str, chunk: Chunk, heading: str = "") -> int:
        """Cite a sentence or list item; ``heading`` names the list it is under."""
        section = f"{chunk.section} — {heading}" if heading else chunk.section
        return self._cite(text, section, chunk.source, None, chunk.chunk_id, None, chunk.document)

    def calculation(self, working: str) -> str:
        """Record a calculation ("£107m ÷ 62 = £1.73m") and return its line."""
        self.calculations.append(working)
        return f"Calculation: {working}"

    def used_citations(self, body: str) -> list[Citation]:
        refs = set(citation_numbers(body))
        return [c for c in self.citations if c.number in refs]


def says(m: Metric) -> str:
    """What the figure says, as a sentence fragment with the value in bold."""
    template = m.says
    value = f"**{m.display}**"
    if template and "{value}" in template:
        return template.replace("{value}", value)
    return f"{m.label[:1].lower()}{m.label[1:]}: {value}"


def sentence(m: Metric, n: int, *, lead: str = "", tail: str = "", multi: bool = False,
             shown: str = "") -> str:
    """One figure as a sentence: "The cluster has **222** businesses (Data City 2023) [1]."."""
    body = says(m)
    body = lead + body if lead else body[:1].upper() + body[1:]
    period = _period(m)
    if period and not set(re.findall(r"\d+", period)) <= set(re.findall(r"\d+", shown or m.quote)):
        period = ""  # a period the cited words do not show is left to the provenance answer
    if period and period in body:
        period = ""  # "as of **May 2023**" says it already
    source = m.source
    numbers = set(re.findall(r"\d+%?", source))
    if numbers and numbers <= set(re.findall(r"\d+%?", body)):
        source = ""  # a footnote restating the label's qualifier ("20%+ growth a year") is not a source
    where = [p for p in (period, source) if p]
    if multi:
        where.append(m.document)
    note = f" ({'; '.join(where)})" if where else ""
    return f"{body}{tail}{note} [{n}]."


def _period(m: Metric) -> str:
    """The figure's period when the sentence does not already state it."""
    period = m.period.strip()
    if not period or period.startswith("as of") or period in m.says:
        return ""
    digits = [str(y) for y in years(period)]
    text = m.label + " " + m.says
    if digits and all(d in text or d[2:] in text for d in digits):
        return ""
    return period


def money(value: float, unit: str) -> str:
    """A calculated amount written as the snapshot writes amounts (£1.73m, $9.86m, £12,763)."""
    sign = SIGNS.get(unit, "")
    size, suffix = scaled(value)
    if suffix:
        return f"{sign}{_short(size)}{suffix}"
    if abs(value) >= 1e4:
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:,.2f}" if sign else f"{value:,.1f}"


def _short(x: float) -> str:
    """Two decimals at most, no trailing zeros (80.20 → 80.2, 2.00 → 2)."""
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def number(value: float, unit: str) -> str:
    """A calculated value in the figure's unit."""
    if unit in ("GBP", "USD"):
        return money(value, unit)
    if unit == "percent":
        return f"{value:.1f}%"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
