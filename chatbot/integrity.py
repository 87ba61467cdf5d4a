"""Integrity: what was loaded, checked against the snapshot layout and the last build's record.

In: the parsed corpus (``engine.Corpus``), the index manifest, ``metrics.csv``. Out: nothing
when all agree; otherwise a ``CorpusError`` that says what is missing and what to do.

- Layout: every complete snapshot has the four ecosystem sections and closes with the data
  note; a file that stops before them is truncated (the first 2,584 bytes of the snapshot parse
  into 29 of 81 figures and would otherwise be served).
- Manifest: ``chatbot build`` records, per corpus file, its bytes, sections and figures and the
  metrics row count. A file that has since become shorter *and* lost sections or figures is
  refused as truncated (an intended cut is accepted by ``chatbot build --accept-corpus``); any
  other change is an edit, and the stale index is rebuilt as before.
- ``metrics.csv`` is generated: a copy that differs from the table the corpus gives (rows cut,
  a figure edited by hand) is reported, never printed as if it were the snapshot's.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from chatbot.errors import ConfigError, CorpusError
from chatbot.ingest import DATA_NOTE, ECOSYSTEMS, Snapshot

#: Sections every complete snapshot has; the data note closes the document.
REQUIRED_SECTIONS = (*sorted(ECOSYSTEMS), DATA_NOTE)
RESTORE = "restore it (`git checkout corpus/`) or copy the complete text again"


def check_complete(snap: Snapshot) -> None:
    """A ``CorpusError`` when sections of the snapshot layout are missing (a truncated file)."""
    missing = [s for s in REQUIRED_SECTIONS if s not in snap.sections]
    if missing:
        last = snap.sections[-1] if snap.sections else "its introduction"
        raise CorpusError(
            f"{snap.path}: the snapshot stops after {last!r} ({len(snap.raw.encode()):,} bytes, "
            f"{len(snap.panels)} figure panels); sections missing: {', '.join(missing)}. The file "
            f"looks truncated: {RESTORE}")


def _figures(table, title: str) -> int:
    return int((table["document"] == title).sum())


def corpus_record(corpus) -> dict:
    """What a build records about its corpus: bytes, sections and figures per file."""
    files = {Path(s.path).name: {"bytes": len(s.raw.encode()), "sections": list(s.sections),
                                 "figures": _figures(corpus.table, s.title)}
             for s in corpus.snapshots}
    return {"files": files, "metrics_rows": len(corpus.table)}


def check_against_manifest(corpus, manifest: dict | None) -> None:
    """A ``CorpusError`` when a corpus file is shorter than the last build read *and* has lost
    sections or figures; other changes are edits (the index is rebuilt as stale)."""
    record = (manifest or {}).get("corpus") or {}
    hashes = (manifest or {}).get("corpus_sha256") or {}
    for snap in corpus.snapshots:
        name = Path(snap.path).name
        old = record.get("files", {}).get(name)
        data = snap.raw.encode()
        if not old or hashes.get(name) == hashlib.sha256(data).hexdigest():
            continue
        missing = [s for s in old.get("sections", []) if s not in snap.sections]
        figures = _figures(corpus.table, snap.title)
        if len(data) < old.get("bytes", 0) and (missing or figures < old.get("figures", 0)):
            lost = f"; sections missing: {', '.join(missing)}" if missing else ""
            raise CorpusError(
                f"{snap.path}: {len(data):,} of the {old['bytes']:,} bytes and {figures} of the "
                f"{old['figures']} figures the last build read{lost}. The file looks truncated: "
                f"{RESTORE}; if the cut is intended, run `chatbot build --accept-corpus`")


def check_metrics_file(path: Path, corpus) -> None:
    """A ``CorpusError`` when ``metrics.csv`` differs from the table the corpus gives."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"CHATBOT_METRICS points at a folder ({path}); give a file path such as "
                          "corpus/metrics.csv")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = None
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); run `chatbot build`") from exc
    if text == corpus.csv_text:
        return
    raise CorpusError(f"{path} does not match the corpus: {_difference(text, corpus.csv_text)}. It "
                      "was cut short or edited by hand; run `chatbot build` to write it again from "
                      "the snapshot")


def _difference(found: str | None, expected: str) -> str:
    """The first way ``found`` (a metrics CSV) differs from ``expected``, in words."""
    if found is None:
        return "it is not UTF-8 text"
    try:
        have = list(csv.DictReader(io.StringIO(found)))
    except csv.Error as exc:
        return f"it is not valid CSV ({exc})"
    want = list(csv.DictReader(io.StringIO(expected)))
    if len(have) != len(want):
        return f"{len(have)} rows where the corpus gives {len(want)}"
    for h, w in zip(have, want, strict=True):
        for col, value in w.items():
            if h.get(col) != value:
                return (f"{w.get('metric_id', '?')} has {col} {str(h.get(col))[:60]!r} where the "
                        f"corpus says {value[:60]!r}")
    return "its columns or formatting differ"
