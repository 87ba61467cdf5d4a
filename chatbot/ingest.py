"""Ingest: snapshot text → sections, blocks, figure panels, footnotes (with exact spans).

In: the raw text of a cluster snapshot (as extracted from the published PDF).
Out: a ``Snapshot`` holding typed pieces, each with its character span ``raw[start:end]``,
so later stages can quote the snapshot word for word.

The parser knows the snapshot *layout* (headings, label lines ending in ":", value lines,
qualifier lines with footnote markers, a footnote line per section), not its numbers, so a
second snapshot in the same layout parses the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.errors import CorpusError
from chatbot.inputs import read_corpus_bytes
from chatbot.text import clean

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_INT = {c: i for i, c in enumerate(SUPERSCRIPTS)}

#: Section headings of the snapshot layout (line text, lower-cased) → section name.
HEADINGS = {
    "cluster in context": "Cluster in context",
    "business ecosystem": "Business Ecosystem",
    "innovation ecosystem": "Innovation Ecosystem",
    "talent ecosystem": "Talent Ecosystem",
    "investment ecosystem": "Investment Ecosystem",
    "commentary": "Commentary",
}
ECOSYSTEMS = {"Business Ecosystem", "Innovation Ecosystem", "Talent Ecosystem", "Investment Ecosystem"}
INTRO = "Introduction"
METHOD = "Methodology note"
DATA_NOTE = "Data note"
ROUNDTABLE = "Roundtable"

#: A chart caption: the cluster's name in capitals, a dash, the chart's title.
_CHART_RE = re.compile(r"^(?P<cluster>[A-Z][A-Z0-9&'\-]{2,}(?:[ -][A-Z0-9&'\-]+)*) - (?P<title>.+)$")
_MARKERS_RE = re.compile(r"\^\{(?P<list>[\d,\s]+)\}|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_TABLE_ROW_RE = re.compile(
    r"^(?P<label>[^:\t]+):\s*(?P<qual>[^\t]*?)\s*(?P<marks>[⁰¹²³⁴⁵⁶⁷⁸⁹]*)\t(?P<value>\S+)\s*$"
)
_LABEL_RE = re.compile(r"^(?P<label>[^:]{2,80}):(?P<marks>[⁰¹²³⁴⁵⁶⁷⁸⁹]*)\s*(?P<rest>.*)$")
#: A value as the snapshot writes one: £34,131  \$266.3m  83.8%  5,552  £1.2m
VALUE = r"(?:\\?\$|£)?\d[\d,]*(?:\.\d+)?(?:m|bn|k)?%?"
_VALUE_LINE_RE = re.compile(
    rf"^(?P<pre>[A-Za-z][A-Za-z .'’]*?)?\s*(?:\*\*)?(?P<value>{VALUE})(?:\*\*)?"
    rf"(?P<post>(?:\s+[a-z][a-z ]*)?)\s*$"
)


def normalise_source(footnote: str) -> str:
    """Short data-source name for grouping and display ("Beaurost, 2022" → "Beauhurst 2022")."""
    text = footnote.strip().rstrip(".,; ")
    text = re.sub(r"\bBeaurost\b", "Beauhurst", text)
    text = re.split(r":| - ", text, maxsplit=1)[0].strip()
    text = re.sub(r",\s*(\d{4})\b", r" \1", text)
    return text


def parse_markers(text: str) -> tuple[int, ...]:
    """Footnote numbers in ``text``: "¹" → (1,), "^{1,2}" → (1, 2), "¹⁰" → (10,)."""
    found: list[int] = []
    for m in _MARKERS_RE.finditer(text):
        if m.group("list"):
            found.extend(int(x) for x in m.group("list").split(",") if x.strip())
        else:
            found.append(int("".join(str(_SUP_TO_INT[c]) for c in m.group("sup"))))
    return tuple(found)


def strip_markers(text: str) -> str:
    return _MARKERS_RE.sub("", text).strip()


@dataclass(frozen=True)
class Block:
    """A paragraph of the snapshot (one or more consecutive non-blank lines)."""

    text: str  # raw text
    start: int
    end: int
    section: str = ""


@dataclass(frozen=True)
class Footnote:
    section: str
    number: int
    text: str  # as written ("Beaurost, 2022")
    source: str  # normalised ("Beauhurst 2022")
    start: int
    end: int


@dataclass(frozen=True)
class Panel:
    """A figure panel: label, optional sub-label, value as written, qualifier line, markers.

    ``kind`` is ``figure`` (label + value), ``table_row`` (a row of the business table),
    ``list`` (label + items, maybe a qualifier) or ``statement`` (a stand-alone sentence
    with a figure and a footnote marker).
    """

    section: str
    kind: str
    label: str
    sublabel: str
    value: str  # raw as written ("\\$266.3m"), "" for lists
    value_post: str  # words after the value ("jobs", "since 2005")
    qualifier: str  # raw qualifier line, markers included
    items: tuple[str, ...]
    markers: tuple[int, ...]
    start: int
    end: int
    value_span: tuple[int, int] | None = None
    qualifier_span: tuple[int, int] | None = None


@dataclass
class Snapshot:
    """One parsed snapshot document."""

    path: Path
    raw: str
    title: str
    sections: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)  # prose, bullets, charts (not panels)
    panels: list[Panel] = field(default_factory=list)
    footnotes: dict[tuple[str, int], Footnote] = field(default_factory=dict)
    block_kinds: dict[int, str] = field(default_factory=dict)  # block start → kind

    def footnote(self, section: str, number: int) -> Footnote | None:
        return self.footnotes.get((section, number))

    def sources_for(self, section: str, markers: tuple[int, ...]) -> list[Footnote]:
        return [f for n in markers if (f := self.footnote(section, n)) is not None]


def read_corpus(path: Path) -> str:
    """Read a snapshot file, turning every failure into a ``CorpusError`` that names it."""
    data = read_corpus_bytes(path)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: binary data (NUL byte) in the corpus; expected UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not valid UTF-8 text ({exc.reason})") from exc
    if not text.strip():
        raise CorpusError(f"{path}: corpus file is empty")
    return text


def _blocks(raw: str) -> list[Block]:
    """Every non-blank line is a block: the extracted PDF puts one paragraph, bullet or table
    row per line."""
    blocks: list[Block] = []
    pos = 0
    for line in raw.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body.strip():
            lead = len(body) - len(body.lstrip())
            blocks.append(Block(body.strip(), pos + lead, pos + lead + len(body.strip())))
        pos += len(line)
    return blocks


def _layout_error(path: Path, raw: str, offset: int, what: str) -> CorpusError:
    """A layout error naming the file and line of ``raw[offset]``."""
    return CorpusError(f"{path}:{raw.count(chr(10), 0, offset) + 1}: {what}")


def _has_digit(text: str) -> bool:
    return re.search(r"\d", text) is not None


def _label_line(text: str) -> re.Match | None:
    """A panel's label line ("Estimated Employees:" or "Label: **value** words"), else None."""
    lab = _LABEL_RE.match(text)
    if lab and "\n" not in text and (text.endswith(":") or "**" in lab.group("rest")):
        return lab
    return None


def _heading(text: str) -> str | None:
    key = text.strip().lower()
    if key in HEADINGS:
        return HEADINGS[key]
    if key.startswith("roundtable"):
        return ROUNDTABLE
    return None


def _is_footnote_line(text: str) -> bool:
    t = text.strip()
    return bool(t) and (t[0] in SUPERSCRIPTS or t.startswith("^{"))


def _parse_footnotes(block: Block, section: str) -> list[Footnote]:
    out: list[Footnote] = []
    matches = list(_MARKERS_RE.finditer(block.text))
    for i, m in enumerate(matches):
        seg_start = m.end()
        seg_end = matches[i + 1].start() if i + 1 < len(matches) else len(block.text)
        seg = block.text[seg_start:seg_end]
        body = seg.strip().rstrip(",").strip()
        if body.endswith(".") and i + 1 == len(matches):
            body = body[:-1]
        if not body:
            continue
        lead = len(seg) - len(seg.lstrip())
        s = block.start + seg_start + lead
        for n in parse_markers(m.group(0)):
            out.append(Footnote(section, n, body, normalise_source(body), s, s + len(body)))
    return out


def parse(raw: str, path: Path | str = "snapshot.txt") -> Snapshot:
    """Parse snapshot text into typed pieces. Raises ``CorpusError`` on an unusable layout."""
    path = Path(path)
    blocks = _blocks(raw)
    if not blocks:
        raise CorpusError(f"{path}: corpus file is empty")
    # Running header: a short line that repeats on every page (the cluster name).
    counts = Counter(b.text.strip() for b in blocks)
    repeats = [t for t, c in counts.items() if c >= 3 and len(t) < 60 and not _heading(t)]
    running_header = repeats[0] if repeats else None
    # Title page: the short blocks before the first paragraph of prose.
    n_title = 0
    while n_title < len(blocks) and len(blocks[n_title].text.strip()) < 60 \
            and not _heading(blocks[n_title].text):
        n_title += 1
    snapshot_line = next((clean(b.text) for b in blocks[:n_title]
                          if re.search(r"snapshot", b.text, re.I)), "")
    title = " — ".join(t for t in (running_header, snapshot_line.title()) if t) or path.stem
    snap = Snapshot(path=path, raw=raw, title=title)
    section = INTRO
    chart_seen: set[str] = set()
    i = n_title

    while i < len(blocks):
        b = blocks[i]
        text = b.text.strip()
        head = _heading(text)
        if head:
            section = head
            snap.sections.append(section)
            i += 1
            continue
        if text == running_header:
            i += 1
            continue
        chart = _CHART_RE.match(text)
        if chart:
            end = b.end
            # One short subtitle line directly under a chart caption belongs to it.
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if nxt and raw.count("\n", b.end, nxt.start) <= 2 and len(nxt.text) < 120 \
                    and not _heading(nxt.text) and not nxt.text.strip().endswith(":"):
                end = nxt.end
                i += 1
            snap.blocks.append(Block(raw[b.start:end], b.start, end, section))
            snap.block_kinds[b.start] = "chart"
            chart_seen.add(section)
            i += 1
            continue
        if section in ECOSYSTEMS:
            if _is_footnote_line(text):
                for fn in _parse_footnotes(b, section):
                    snap.footnotes[(section, fn.number)] = fn
                snap.blocks.append(Block(b.text, b.start, b.end, section))
                snap.block_kinds[b.start] = "footnote"
                i += 1
                continue
            consumed = _parse_panel(blocks, i, section, snap, raw, path)
            if consumed:
                i += consumed
                continue
            # Prose inside an ecosystem: the business section's long note is the methodology.
            is_note = (section == "Business Ecosystem" and any(s == section for s, _n in snap.footnotes)
                       and section not in chart_seen)
            sec = METHOD if is_note else section
            if sec == METHOD and METHOD not in snap.sections:
                snap.sections.append(METHOD)
            snap.blocks.append(Block(b.text, b.start, b.end, sec))
            snap.block_kinds[b.start] = "prose"
            i += 1
            continue
        if section == ROUNDTABLE and text.startswith("This data has been compiled"):
            snap.sections.append(DATA_NOTE)
            section = DATA_NOTE
        kind = "list" if re.match(r"^(-|\d+\.)\s", text) else "prose"
        if kind == "prose" and text.endswith(":") and len(text) < 100:
            kind = "heading"
        snap.blocks.append(Block(b.text, b.start, b.end, section))
        snap.block_kinds[b.start] = kind
        i += 1
    if not snap.panels:
        raise CorpusError(f"{path}: no figure panels found; is this a cluster snapshot text?")
    _check_markers(snap, path)
    return snap


def _check_markers(snap: Snapshot, path: Path) -> None:
    for p in snap.panels:
        for n in p.markers:
            if snap.footnote(p.section, n) is None:
                raise _layout_error(path, snap.raw, p.start,
                                    f"footnote marker {n} in {p.section} has no footnote line")


def _parse_panel(blocks: list[Block], i: int, section: str, snap: Snapshot, raw: str,
                 path: Path) -> int:
    """Parse the panel starting at ``blocks[i]``; return how many blocks it used (0 if none)."""
    b = blocks[i]
    text = b.text.strip()
    row = _TABLE_ROW_RE.match(text)
    if row:
        value = row.group("value")
        if not re.fullmatch(VALUE, value):
            raise _layout_error(path, raw, b.start, f"unparsable figure value {value!r}")
        vstart = b.start + b.text.rindex(value)
        qstart = b.start + b.text.index(row.group("qual"))
        snap.panels.append(Panel(
            section, "table_row", row.group("label").strip(), "", value, "",
            row.group("qual").strip(), (), parse_markers(row.group("marks")), b.start, b.end,
            (vstart, vstart + len(value)), (qstart, qstart + len(row.group("qual"))),
        ))
        return 1
    lab = _label_line(text)
    if lab:
        label = strip_markers(text[:-1]) if text.endswith(":") else lab.group("label").strip()
        markers = list(parse_markers(lab.group("marks")))
        sublabel = value = post = qualifier = ""
        items: list[str] = []
        vspan = qspan = None
        rest = "" if text.endswith(":") else lab.group("rest").strip()
        if rest:
            m = re.search(rf"\*\*(?P<v>{VALUE})\*\*(?P<post>.*)$", rest)
            if not m:
                raise _layout_error(path, raw, b.start, f"unparsable figure value in {text!r}")
            value, post = m.group("v"), m.group("post").strip()
            vs = b.start + b.text.index(value)
            vspan = (vs, vs + len(value))
        j = i + 1
        end = b.end
        while j < len(blocks):
            nb = blocks[j]
            nt = nb.text.strip()
            if _heading(nt) or _CHART_RE.match(nt) or _is_footnote_line(nt) or _TABLE_ROW_RE.match(nt):
                break
            if _label_line(nt):
                break
            vm = _VALUE_LINE_RE.match(nt) if not value and "\n" not in nt else None
            if vm:
                value = vm.group("value")
                sublabel = sublabel or (vm.group("pre") or "").strip()
                post = (vm.group("post") or "").strip()
                vs = nb.start + nb.text.index(value)
                vspan = (vs, vs + len(value))
            elif parse_markers(nt) and (value or items):
                qualifier = nt
                qspan = (nb.start, nb.end)
                markers.extend(parse_markers(nt))
                end = nb.end
                j += 1
                break
            elif ";" in nt and not _has_digit(nt):
                items = [x.strip() for x in nt.split(";") if x.strip()]
            elif not value and not _has_digit(nt) and len(nt) < 80:
                sublabel = nt
            else:
                break
            end = nb.end
            j += 1
        if not value and not items:
            raise _layout_error(path, raw, b.start, f"figure panel {label!r} has no value or items")
        kind = "figure" if value else "list"
        snap.panels.append(Panel(section, kind, label, sublabel, value, post, qualifier,
                                 tuple(items), tuple(markers), b.start, end, vspan, qspan))
        return j - i
    # A stand-alone sentence stating a figure with a footnote marker.
    if parse_markers(text) and _has_digit(strip_markers(text)) and "\n" not in text:
        snap.panels.append(Panel(section, "statement", "", "", "", "", text, (),
                                 parse_markers(text), b.start, b.end, None, (b.start, b.end)))
        return 1
    return 0


def load_snapshot(path: Path) -> Snapshot:
    """Read and parse one snapshot file."""
    return parse(read_corpus(path), path)

