"""Chunking: a parsed ``Snapshot`` → section-aware ``Chunk`` records for the index.

A figure chunk carries its label, value, qualifier and resolved source together ("Estimated
Employees: 5,552 — 5% of UK total. (Data City 2023)"), so a figure is never separated from
what it measures. Long prose is split on sentence boundaries with one sentence of overlap so
that nothing passes MiniLM's 256 word-piece limit. Every chunk keeps its span in the raw
corpus text; ``chunk.quote == text.clean(raw[start:end])`` always holds.
"""

from __future__ import annotations

import re

from chatbot.ingest import ECOSYSTEMS, Snapshot, strip_markers
from chatbot.metrics import SECTION_SLUGS, slug
from chatbot.records import Chunk
from chatbot.text import clean, sentence_spans

#: Bump when chunk boundaries or texts change: the index manifest records it.
CHUNKER_VERSION = "4"
#: Words per chunk before prose is split (MiniLM cuts at 256 word pieces ≈ 180 words).
MAX_WORDS = 110
CHART_NOTE = "chart not included in the text extraction; its values are not available"


def _sec(section: str) -> str:
    return SECTION_SLUGS.get(section, slug(section, 2))


def _windows(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence windows of at most MAX_WORDS words, overlapping by one sentence."""
    if len(raw[start:end].split()) <= MAX_WORDS:
        return [(start, end)]
    sents = sentence_spans(raw, start, end)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(sents):
        j, words = i, 0
        while j < len(sents) and (words + len(raw[sents[j][0]:sents[j][1]].split()) <= MAX_WORDS
                                  or j == i):
            words += len(raw[sents[j][0]:sents[j][1]].split())
            j += 1
        out.append((sents[i][0], sents[j - 1][1]))
        if j >= len(sents):
            break
        i = max(j - 1, i + 1)  # one sentence of overlap
    return out


def chunk_snapshot(snap: Snapshot, metric_ids: dict[int, list[str]] | None = None,
                   prefix: str = "") -> list[Chunk]:
    """All chunks of one snapshot. ``metric_ids`` maps a raw start offset to metric ids."""
    raw = snap.raw
    metric_ids = metric_ids or {}
    chunks: list[Chunk] = []
    used: set[str] = set()

    def add(cid: str, text: str, start: int, end: int, section: str, kind: str,
            source: str = "") -> None:
        cid = prefix + cid
        base, n = cid, 2
        while cid in used:
            cid, n = f"{base}-{n}", n + 1
        used.add(cid)
        chunks.append(Chunk(
            chunk_id=cid, text=text, quote=clean(raw[start:end]), section=section, kind=kind,
            source=source, start=start, end=end, document=snap.title,
            metric_ids=tuple(metric_ids.get(start, ())),
        ))

    for p in snap.panels:
        notes = snap.sources_for(p.section, p.markers)
        source = "; ".join(dict.fromkeys(f.source for f in notes))
        body = clean(strip_markers(raw[p.start:p.end]))
        if p.kind in ("figure", "table_row"):
            head = f"{p.label}: {clean(p.sublabel + ' ' + p.value + ' ' + p.value_post)}"
            qual = clean(strip_markers(p.qualifier))
            text = f"{p.section}. {head}" + (f" — {qual}" if qual else "")
            cid = f"{_sec(p.section)}-{slug(p.label + ' ' + p.sublabel)}"
        elif p.kind == "list":
            text = f"{p.section}. {p.label}: " + "; ".join(p.items)
            if p.qualifier:
                text += f" — {clean(strip_markers(p.qualifier))}"
            cid = f"{_sec(p.section)}-{slug(p.label)}"
        else:
            text = f"{p.section}. {body}"
            cid = f"{_sec(p.section)}-{slug(body)}"
        if source:
            text += f" (source: {source})"
        add(cid, text, p.start, p.end, p.section, "list" if p.kind == "list" else
            ("table_row" if p.kind == "table_row" else "figure"), source)

    for fn in snap.footnotes.values():
        users = [p.label for p in snap.panels if p.section == fn.section and fn.number in p.markers]
        text = f"{fn.section} footnote {fn.number}: {clean(fn.text)}"
        if fn.source != clean(fn.text):
            text += f" (data source: {fn.source})"
        if users:
            text += f". Source of: {', '.join(u for u in users if u)}"
        add(f"{_sec(fn.section)}-fn{fn.number}", text, fn.start, fn.end, fn.section,
            "footnote", fn.source)

    heading = ""
    counters: dict[str, int] = {}
    for b in snap.blocks:
        kind = snap.block_kinds.get(b.start, "prose")
        sec = _sec(b.section)
        if kind == "footnote":
            continue  # footnotes are chunked one entry at a time above
        if kind == "heading":
            heading = clean(b.text)
            continue
        if kind == "chart":
            caption = clean(b.text)
            add(f"{sec}-chart-{slug(caption, 8)}",
                f"{b.section}. Chart: {caption} ({CHART_NOTE})", b.start, b.end, b.section,
                "chart")
            continue
        if kind == "list":
            counters[sec + "l"] = counters.get(sec + "l", 0) + 1
            lead = f"{heading} " if heading and b.section not in ECOSYSTEMS else ""
            bullet = re.match(r"[-*•]\s+", b.text)  # the bullet is layout, not the item's words
            start = b.start + (bullet.end() if bullet else 0)
            add(f"{sec}-item{counters[sec + 'l']}",
                f"{b.section}. {lead}{clean(strip_markers(raw[start:b.end]))}", start, b.end,
                b.section, "list")
            continue
        heading = ""
        for ws, we in _windows(raw, b.start, b.end):
            counters[sec] = counters.get(sec, 0) + 1
            add(f"{sec}-p{counters[sec]}", f"{b.section}. {clean(strip_markers(raw[ws:we]))}",
                ws, we, b.section, "prose")
    return chunks
