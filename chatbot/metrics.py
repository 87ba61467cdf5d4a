"""Metrics: the structured truth — one row per figure the snapshot states.

In: a parsed ``Snapshot`` (and an optional curated overrides CSV of labels and aliases).
Out: a pandas ``DataFrame`` with the columns in ``COLUMNS``, written to ``corpus/metrics.csv``.

Every value, display string, quote, section and source is read from the snapshot text by
code; the overrides file only adds friendlier labels, aliases and a period where the text
gives one the parser cannot place. Quotes are the snapshot's own words (``text.clean``
applied: escapes undone, bold removed, whitespace collapsed).
"""

from __future__ import annotations

import calendar
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chatbot.errors import CorpusError
from chatbot.ingest import (
    DATA_NOTE,
    ECOSYSTEMS,
    Panel,
    Snapshot,
    parse_markers,
    strip_markers,
)
from chatbot.text import NUMBER_WORDS, SCALES, clean, is_year, sentence_spans, year_range_matches, year_words

COLUMNS = [
    "metric_id", "document", "section", "label", "value", "unit", "display", "period",
    "qualifier", "source", "footnote", "quote", "aliases", "concept", "panel", "kind", "start", "end",
    "says",
]

SECTION_SLUGS = {
    "Introduction": "intro", "Cluster in context": "context", "Business Ecosystem": "business",
    "Methodology note": "method", "Innovation Ecosystem": "innovation",
    "Talent Ecosystem": "talent", "Investment Ecosystem": "investment",
    "Commentary": "commentary", "Roundtable": "roundtable", "Data note": "datanote",
}
#: Figures the snapshot writes in words: one to twelve ("eight universities"). Unlike a
#: question, the snapshot's "one" is a figure.
WORD_NUMBERS = {"one": 1} | {w: n for w, n in NUMBER_WORDS.items() if n <= 12}

#: A figure in running text. Thresholds ("£100m+", "20%+", ">3.0") and years are skipped.
_NUM_RE = re.compile(
    r"(?<![\w.>/])(?P<cur>[$£])?(?P<num>\d[\d,]*(?:\.\d+)?)(?P<scale>bn|m|k)?(?P<pct>%)?"
    r"(?P<tail>\+|[A-Za-z]+|/\d+)?"
    r"|\b(?P<word>" + "|".join(WORD_NUMBERS) + r")\b(?=\s+(?:[$£]|\w))",
    re.I,
)
_DATE_RE = re.compile(r"\b(?P<month>" + "|".join(calendar.month_name[1:]) + r") (?P<year>\d{4})\b")


def parse_value(display: str) -> float:
    """Number a display string stands for: "£1.2m" → 1200000.0, "83.8%" → 83.8, "eight" → 8."""
    text = display.strip().replace("\\$", "$")
    if text.lower() in WORD_NUMBERS:
        return float(WORD_NUMBERS[text.lower()])
    m = re.fullmatch(r"[$£]?(\d[\d,]*(?:\.\d+)?)(bn|m|k)?%?", text, re.I)
    if not m:
        raise ValueError(f"not a figure: {display!r}")
    value = float(m.group(1).replace(",", ""))
    if m.group(2):
        value *= SCALES[m.group(2).lower()]
    return round(value, 6)


def unit_of(display: str, after: str = "") -> str:
    """Unit of a figure from its display string and the word after it."""
    d = display.replace("\\$", "$")
    if d.startswith("£"):
        return "GBP"
    if d.startswith("$"):
        return "USD"
    if d.endswith("%"):
        return "percent"
    word = after.strip().split(" ")[0].lower() if after.strip() else ""
    if word in ("jobs", "projects", "investments", "funds", "universities", "companies",
                "businesses", "graduates"):
        return word
    return "count"


def slug(text: str, words: int = 6) -> str:
    tokens = re.findall(r"[a-z0-9]+", text.lower().replace("£", "gbp ").replace("$", "usd "))
    stop = {"the", "of", "in", "a", "an", "to", "and", "for", "have", "has", "are", "is", "be"}
    kept = [t for t in tokens if t not in stop][:words]
    return "-".join(kept) or "figure"


@dataclass(frozen=True)
class _Found:
    display: str  # as the snapshot writes it (escapes undone)
    start: int  # offset in the cleaned text
    end: int
    after: str  # the few words after the figure


def find_figures(text: str) -> list[_Found]:
    """Figures in cleaned text, skipping years, thresholds, ranks and ratios' years."""
    out: list[_Found] = []
    for m in _NUM_RE.finditer(text):
        if m.group("word"):
            after = text[m.end():m.end() + 40]
            out.append(_Found(m.group("word"), m.start(), m.end(), after))
            continue
        tail = m.group("tail") or ""
        num = m.group("num").rstrip(",")
        is_money = bool(m.group("cur"))
        scale = m.group("scale") or ""
        if tail == "+" or (tail and tail[0].isalpha() and not tail.lower().startswith(("bn", "m", "k"))):
            continue  # threshold ("£100m+") or glued unit like "3.0GPA"
        if tail.startswith("/"):
            continue  # "18/19": a school year; "7420/8855" handled as two figures below
        if not is_money and not m.group("pct") and not scale and is_year(num):
            continue  # a year
        if re.match(r"\s+years?\b", text[m.end():]):
            continue  # a duration ("over 3 years"), part of a label
        before = text[max(0, m.start() - 5):m.start()].lower()
        if before.endswith("top "):
            continue  # "top 25": a rank, part of the label
        display = (m.group("cur") or "") + num + scale + (m.group("pct") or "")
        end = m.start() + len(display)
        out.append(_Found(display, m.start(), end, text[end:end + 40]))
    for m in re.finditer(r"(?<![\d.])(\d+)/(\d+)(?![\d/])", text):
        if len(m.group(1)) >= 3:  # a ratio of counts, not a school year
            out.append(_Found(m.group(1), m.start(1), m.end(1), "/" + m.group(2)))
            out.append(_Found(m.group(2), m.start(2), m.end(2), text[m.end():m.end() + 40]))
    return sorted(out, key=lambda f: f.start)


def _clause(text: str, f: _Found) -> str:
    """The clause of ``text`` around figure ``f`` (split on ; ( ) and ", and"/" and" before a number)."""
    seps = r";|\(|\)|,\s|\.\s|\sand\s(?=[$£\d]|eight)|:\s|\s(?=despite\b|while\b)"
    bounds = [0] + [m.end() for m in re.finditer(seps, text)]
    bounds.append(len(text) + 1)
    lo = max(b for b in bounds if b <= f.start)
    hi = min((b for b in bounds if b > f.end), default=len(text) + 1)
    part = text[lo:hi].strip(" ;()")
    part = re.sub(r"(\s+(and|or|while|despite))+\s*$", "", part.rstrip(".,:; "))
    return part.rstrip(".,:; ")


def _auto_label(clause: str, f: _Found) -> str:
    rest = clause.replace(f.display, " ", 1)
    rest = re.sub(r"\s+", " ", rest).strip(" ,.;:")
    rest = re.sub(r"^((there are|over|around|about|more than|just|inc\.|the)\s+)+", "", rest,
                  flags=re.I)
    if f.display.endswith("%") and rest.lower().startswith("of "):
        rest = "share " + rest
    return rest[:1].upper() + rest[1:] if rest else f.display


def _sentence(text: str, pos: int) -> tuple[int, int]:
    """Span of the sentence in cleaned ``text`` containing offset ``pos``."""
    return max((s for s in sentence_spans(text) if s[0] <= pos), default=(0, len(text)))


class _Builder:
    def __init__(self, snap: Snapshot, document: str):
        self.snap = snap
        self.document = document
        self.rows: list[dict] = []
        self.ids: set[str] = set()
        m = _DATE_RE.search(clean(snap.raw[snap.raw.find("contemporary"):]) if
                            "contemporary" in snap.raw else "")
        self.as_of = f"{m.group('month')} {m.group('year')}" if m else ""

    def _id(self, section: str, label: str) -> str:
        base = f"{SECTION_SLUGS.get(section, slug(section, 2))}-{slug(label)}"
        mid, n = base, 2
        while mid in self.ids:
            mid, n = f"{base}-{n}", n + 1
        self.ids.add(mid)
        return mid

    def _period(self, texts: tuple[str, ...]) -> str:
        for t in texts:
            ranges = year_range_matches(t)
            r = next((r for r in ranges if r.sep == "to" and not r.abbreviated
                      and t[:r.start].endswith("from ")), None)
            r = r or next((r for r in ranges if r.dashed), None)
            if r:
                return f"{r.first}–{r.last}"
            m = re.search(r"\bsince (\d{4})\b", t)
            if m:
                return f"since {m.group(1)}"
            m = re.search(r"\b(\d{2})/(\d{2})\b", t)
            if m:
                return f"20{m.group(1)}/{m.group(2)}"
        for t in texts:
            if found := year_words(t):
                return found[0]
        return f"as of {self.as_of}" if self.as_of else ""

    def add(self, *, section: str, label: str, display: str, after: str, quote: str,
            qualifier: str, markers: tuple[int, ...], kind: str, start: int, end: int,
            period_from: tuple[str, ...] = (), panel: str = "") -> str:
        notes = self.snap.sources_for(section, markers)
        source = "; ".join(dict.fromkeys(f.source for f in notes))
        footnote = "; ".join(dict.fromkeys(f.text for f in notes))
        try:
            value = parse_value(display)
        except ValueError as exc:
            line = self.snap.raw.count("\n", 0, start) + 1
            raise CorpusError(f"{self.snap.path}:{line}: unparsable figure {display!r}") from exc
        mid = self._id(section, label)
        self.rows.append({
            "metric_id": mid,
            "document": self.document,
            "section": section,
            "label": label,
            "value": value,
            "unit": unit_of(display, after),
            "display": display,
            "period": self._period(period_from + (footnote,)),
            "qualifier": qualifier,
            "source": source,
            "footnote": footnote,
            "quote": quote,
            "aliases": "",
            "concept": "",
            "panel": panel or mid,
            "kind": kind,
            "start": start,
            "end": end,
        })
        return mid

    def panel(self, p: Panel) -> None:
        whole = clean(self.snap.raw[p.start:p.end])
        qual = clean(strip_markers(p.qualifier)) if p.qualifier else ""
        panel = ""
        if p.value:
            display = clean(p.value)
            label = f"{p.label}: {p.sublabel}" if p.sublabel else p.label
            label = label.rstrip(".")
            panel = self.add(section=p.section, label=label, display=display,
                             after=p.value_post, quote=whole, qualifier=qual, markers=p.markers,
                             kind=p.kind, start=p.start, end=p.end, period_from=(label,))
        if not qual:
            return
        qtext = clean(p.qualifier)
        for f in find_figures(qual):
            clause = _clause(qual, f)
            sub = _auto_label(clause, f)
            label = f"{p.label} — {sub}" if p.label else sub
            mid = self.add(section=p.section, label=label, display=f.display, after=f.after,
                           quote=qtext if p.kind != "table_row" else whole, qualifier=clause,
                           markers=p.markers, kind="qualifier", start=p.qualifier_span[0]
                           if p.qualifier_span else p.start,
                           end=p.qualifier_span[1] if p.qualifier_span else p.end,
                           period_from=(clause, p.label), panel=panel)
            panel = panel or mid

    def prose(self, section: str, raw_start: int, raw_end: int, kind: str) -> None:
        text = clean(strip_markers(self.snap.raw[raw_start:raw_end]))
        text = re.sub(r"^(-|\d+\.)\s+", "", text)
        panel = ""
        for f in find_figures(text):
            s, e = _sentence(text, f.start)
            sentence = text[s:e].strip()
            clause = _clause(text, f)
            mid = self.add(section=section, label=_auto_label(clause, f), display=f.display,
                           after=f.after, quote=sentence, qualifier=clause, markers=(), kind=kind,
                           start=raw_start, end=raw_end, period_from=(clause,), panel=panel)
            panel = panel or mid
        if section == DATA_NOTE:
            m = _DATE_RE.search(text)
            if m:
                s, e = _sentence(text, m.start())
                self.rows.append({
                    "metric_id": self._id(section, "data as of"), "document": self.document,
                    "section": section, "label": "Data as of", "value": float(m.group("year")),
                    "unit": "date", "display": m.group(0), "period": m.group(0),
                    "qualifier": "unless otherwise stated", "source": "", "footnote": "",
                    "quote": text[s:e].strip(), "aliases": "", "concept": "", "panel": "",
                    "kind": "prose",
                    "start": raw_start, "end": raw_end,
                })


def build_table(snapshots: list[Snapshot], overrides_path: Path | None = None) -> pd.DataFrame:
    """The metrics table for one or more parsed snapshots."""
    rows: list[dict] = []
    for snap in snapshots:
        b = _Builder(snap, snap.title)
        panel_starts = {p.start for p in snap.panels}
        items = [(p.start, "panel", p) for p in snap.panels]
        for blk in snap.blocks:
            kind = snap.block_kinds.get(blk.start, "prose")
            if kind in ("prose", "list") and blk.start not in panel_starts \
                    and blk.section not in ECOSYSTEMS:
                items.append((blk.start, kind, blk))
        for fn in snap.footnotes.values():
            if fn.start not in {i[0] for i in items}:
                items.append((fn.start, "footnote", fn))
        for _, kind, obj in sorted(items, key=lambda t: t[0]):
            if kind == "panel":
                b.panel(obj)
            elif kind == "footnote":
                b.prose(obj.section, obj.start, obj.end, "footnote")
            else:
                b.prose(obj.section, obj.start, obj.end, "prose" if kind == "prose" else "bullet")
        rows.extend(b.rows)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["says"] = df["says"].astype(object).where(df["says"].notna(), "")
    if len(snapshots) > 1:
        prefix = doc_prefixes([s.title for s in snapshots])
        df["metric_id"] = [f"{prefix[d]}/{m}" for d, m in zip(df["document"], df["metric_id"],
                                                              strict=True)]
    if overrides_path is not None and Path(overrides_path).exists():
        df = apply_overrides(df, overrides_path)
    return df


def doc_prefixes(titles: list[str]) -> dict[str, str]:
    """A short, unique id prefix per document title (editions of one cluster stay distinct)."""
    out: dict[str, str] = {}
    for t in titles:
        base = slug(t, 12)
        p, n = base, 2
        while p in out.values():
            p, n = f"{base}-{n}", n + 1
        out[t] = p
    return out


def apply_overrides(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Apply curated labels, aliases and periods (keyed by metric_id; ids are matched with or
    without a document prefix). Unknown ids are ignored so other snapshots still build."""
    df = df.copy()
    short = df["metric_id"].str.split("/").str[-1]
    with open(path, newline="", encoding="utf-8") as fh:
        records = {rec["metric_id"]: rec for rec in csv.DictReader(fh)}
    for col in ("label", "aliases", "period", "unit", "concept", "says"):
        curated = [(records.get(mid, {}).get(col) or "").strip() for mid in short]
        df[col] = [c if c else old for c, old in zip(curated, df[col], strict=True)]
    return df


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write the table atomically (a temporary file renamed into place)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)


def read_table(path: Path) -> pd.DataFrame:
    """Read ``metrics.csv``; a missing or malformed file is a ``CorpusError``."""
    try:
        df = pd.read_csv(path, dtype={"period": str, "aliases": str, "source": str, "concept": str,
                                      "panel": str, "says": str,
                                      "footnote": str, "qualifier": str}, keep_default_na=False)
    except FileNotFoundError as exc:
        raise CorpusError(f"{path}: metrics table not found (run `chatbot build`)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CorpusError(f"{path}: metrics table is unreadable ({exc}); run `chatbot build`") from exc
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise CorpusError(f"{path}: metrics table lacks columns {missing}; run `chatbot build`")
    return df


def figure_markers(text: str) -> tuple[int, ...]:
    return parse_markers(text)
