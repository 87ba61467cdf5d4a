"""About: the "About this data" facts of the loaded snapshots — title, publisher, data date,
coverage, the data sources its footnotes name (each with what it covers), and the snapshot's
own caveats, quoted.

A footnote is a data source when it names a provider ("Wavteq 2022", "ONS ASHE, 2021 -
relevant sectors"); footnotes that define a measure instead ("20%+ company growth percentage
per year", "Graduates from relevant subjects 2021") are not listed as sources. What a source
covers is read from its footnotes ("relevant sectors") and from the figures that cite it.

In: the metrics table, chunks and snapshots (``engine.Corpus``) and ``corpus/ORIGIN.md``.
Out: an ``About`` value the app renders. Pure functions, no Streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chatbot.export import as_text
from chatbot.ingest import normalise_source
from chatbot.text import clean

#: Corpus words that flag the snapshot's own warnings about its figures.
CAVEAT_RE = re.compile(r"underestimat|overestimat|exaggerat|disregard|caution|discrepanc",
                       re.IGNORECASE)
#: The section holding the snapshot's note on how jobs were counted.
METHOD_SECTION = "Methodology note"
#: Figure labels named for each data source (the rest are counted).
LABELS_SHOWN = 4
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_SMALL_WORDS = {"and", "for", "of", "the"}


@dataclass(frozen=True)
class DataSource:
    """A data source the snapshot's footnotes name, and what it covers."""

    name: str  # "ONS ASHE 2021"
    notes: tuple[str, ...]  # what its footnotes say it covers ("relevant sectors")
    sections: tuple[str, ...]  # snapshot sections whose figures cite it
    labels: tuple[str, ...]  # those figures' labels, in table order

    @property
    def covers(self) -> str:
        """One line: notes, then "N figures in <sections>: label, label, …"."""
        parts = list(self.notes)
        if self.labels:
            shown = ", ".join(self.labels[:LABELS_SHOWN])
            more = f" and {len(self.labels) - LABELS_SHOWN} more" if len(self.labels) > LABELS_SHOWN else ""
            n = len(self.labels)
            parts.append(f"{n} figure{'s' if n != 1 else ''} in {', '.join(self.sections)}: "
                         f"{shown}{more}")
        return "; ".join(parts) or "named in a footnote"


def resolve_source(footnote: str) -> tuple[str, str] | None:
    """(provider, what the footnote adds) for a footnote naming a data source, else None.

    "ONS ASHE, 2021 - relevant sectors" → ("ONS ASHE 2021", "relevant sectors");
    "REF 2021 GPA >3.0 in relevant fields" → ("REF 2021", "GPA >3.0 in relevant fields");
    "20%+ company growth percentage per year" → None (a definition, not a source).
    """
    text = (footnote or "").strip().rstrip(".,; ")
    if not text:
        return None
    name = normalise_source(text)
    m = re.search(r":| - ", text)
    note = text[m.end():].strip() if m else ""
    year = _YEAR.search(name)
    if year and name[year.end():].strip():  # "REF 2021 GPA >3.0 …": the name ends at its year
        note = " ".join(x for x in (name[year.end():].strip(), note) if x)
        name = name[:year.end()]
    words = [w for w in re.findall(r"[A-Za-z][\w']*", name) if w.lower() not in _SMALL_WORDS]
    capitals = [w for w in words if w[0].isupper()]
    if not words or len(capitals) * 2 < len(words) or re.search(r"[%>/]|^\d", name):
        return None
    return name, note


@dataclass(frozen=True)
class About:
    """Facts about the loaded snapshot, all read from the corpus and its table."""

    titles: tuple[str, ...]
    publisher: str
    data_as_of: str
    coverage: str
    sources: tuple[DataSource, ...]
    caveats: tuple[tuple[str, str], ...]  # (section, verbatim quote)
    figures: int


def read_origin(corpus_paths: Sequence) -> str:
    """The ``ORIGIN.md`` next to the first corpus file ("" when there is none)."""
    if not corpus_paths:
        return ""
    try:
        return (Path(corpus_paths[0]).parent / "ORIGIN.md").read_text(encoding="utf-8")
    except OSError:
        return ""


def publisher_from_origin(origin_text: str) -> str:
    """The publisher named in ``corpus/ORIGIN.md`` ("**Publisher:** …"), "" when absent."""
    m = re.search(r"\*\*Publisher:\*\*\s*(.+)", origin_text)
    return m.group(1).strip() if m else ""


def _caveat_passages(chunks: Sequence, snapshots: Sequence) -> list[tuple[str, str]]:
    """(section, verbatim passage) for the methodology note and every chunk warning about a
    figure; overlapping or adjacent chunks of one paragraph are merged back into one passage."""
    raw_by_doc = {s.title: s.raw for s in snapshots}
    spans = sorted(((ch.document, ch.section, ch.start, ch.end) for ch in chunks
                    if ch.section == METHOD_SECTION or CAVEAT_RE.search(ch.quote)),
                   key=lambda s: (s[0], s[2]))  # snapshot order
    merged: list[list] = []
    for doc, section, start, end in spans:
        raw = raw_by_doc.get(doc) or (snapshots[0].raw if len(snapshots) == 1 else "")
        if merged and merged[-1][:2] == [doc, section] and start <= merged[-1][3] + 2 \
                and not raw[merged[-1][3]:start].strip():
            merged[-1][3] = max(merged[-1][3], end)
        else:
            merged.append([doc, section, start, end, raw])
    return [(section, clean(raw[start:end])) for _doc, section, start, end, raw in merged if raw]


def data_sources(table: pd.DataFrame, chunks: Sequence) -> tuple[DataSource, ...]:
    """The data sources the footnotes name, in the snapshot's order, with what each covers."""
    notes: dict[str, list[str]] = {}
    for ch in sorted((c for c in chunks if c.kind == "footnote"), key=lambda c: c.start):
        found = resolve_source(ch.quote)
        if found:
            name, note = found
            notes.setdefault(name, [])
            if note and note not in notes[name]:
                notes[name].append(note)
    sections: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    t = as_text(table)
    for source, section, label in zip(t["source"], t["section"], t["label"], strict=True):
        found = resolve_source(source)
        if not found:
            continue
        notes.setdefault(found[0], [])
        if section not in sections.setdefault(found[0], []):
            sections[found[0]].append(section)
        labels.setdefault(found[0], []).append(label)
    return tuple(DataSource(name, tuple(n), tuple(sections.get(name, ())), tuple(labels.get(name, ())))
                 for name, n in notes.items())


def about_snapshot(table: pd.DataFrame, chunks: Sequence, snapshots: Sequence,
                   origin_text: str = "") -> About:
    """Title, publisher, data date, coverage, sources and caveats of the loaded snapshots.

    The data date is the ``datanote-data-as`` row; coverage the row counting local
    authorities; caveats are the methodology note and any passage warning about a figure,
    quoted from the corpus text.
    """
    t = as_text(table)
    date_row = t[t["metric_id"] == "datanote-data-as"]
    if date_row.empty:
        date_row = t[t["unit"] == "date"]
    data_as_of = date_row["display"].iloc[0] if len(date_row) else "not stated"
    la = t[t["label"].str.contains("local authorit", case=False, regex=False)]
    coverage = f"{la['display'].iloc[0]} local authorities" if len(la) else "not stated"
    sources = data_sources(t, chunks)
    return About(titles=tuple(s.title for s in snapshots),
                 publisher=publisher_from_origin(origin_text) or "not stated",
                 data_as_of=data_as_of, coverage=coverage, sources=sources,
                 caveats=tuple(_caveat_passages(chunks, snapshots)), figures=len(t))
