"""About: the "About this data" facts of the loaded snapshots — title, publisher, data date,
coverage, the data sources named, and the snapshot's own caveats, quoted.

In: the metrics table, chunks and snapshots (``engine.Corpus``) and ``corpus/ORIGIN.md``.
Out: an ``About`` value the app renders. Pure functions, no Streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chatbot.export import _as_text
from chatbot.ingest import clean

#: Corpus words that flag the snapshot's own warnings about its figures.
CAVEAT_RE = re.compile(r"underestimat|overestimat|exaggerat|disregard|caution|discrepanc",
                       re.IGNORECASE)
#: The section holding the snapshot's note on how jobs were counted.
METHOD_SECTION = "Methodology note"


@dataclass(frozen=True)
class About:
    """Facts about the loaded snapshot, all read from the corpus and its table."""

    titles: tuple[str, ...]
    publisher: str
    data_as_of: str
    coverage: str
    sources: tuple[str, ...]
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


def about_snapshot(table: pd.DataFrame, chunks: Sequence, snapshots: Sequence,
                   origin_text: str = "") -> About:
    """Title, publisher, data date, coverage, sources and caveats of the loaded snapshots.

    The data date is the ``datanote-data-as`` row; coverage the row counting local
    authorities; caveats are the methodology note and any passage warning about a figure,
    quoted from the corpus text.
    """
    t = _as_text(table)
    date_row = t[t["metric_id"] == "datanote-data-as"]
    if date_row.empty:
        date_row = t[t["unit"] == "date"]
    data_as_of = date_row["display"].iloc[0] if len(date_row) else "not stated"
    la = t[t["label"].str.contains("local authorit", case=False, regex=False)]
    coverage = f"{la['display'].iloc[0]} local authorities" if len(la) else "not stated"
    sources = tuple(sorted(s for s in set(t["source"]) if s.strip()))
    return About(titles=tuple(s.title for s in snapshots),
                 publisher=publisher_from_origin(origin_text) or "not stated",
                 data_as_of=data_as_of, coverage=coverage, sources=sources,
                 caveats=tuple(_caveat_passages(chunks, snapshots)), figures=len(t))
