"""Facts: every figure of the snapshot as a frozen ``Metric`` with its facets, and the relations
between figures, built once from the metrics table.

In: the metrics table (rows from ``metrics``) and the ``Understanding`` vocabulary. Out: a
``Facts`` store. Facets come from each figure's label read with the same vocabulary as
questions (so "how much do people earn" and "Average salary" meet on ``salary``). Relations
are found from the snapshot's layout and arithmetic, not listed by hand:

- siblings: figures stated in one panel or sentence;
- shares, growth and gaps: the percentages stated with a count or an amount;
- national comparators: a sibling with the ``national`` modifier and the same measure;
- counterparts: the same measure with the other modifier of a group (FDI ↔ DDI);
- parts: an amount or count split by a modifier (seed and venture of all fundraising);
- ratio parts: two counts whose quotient is a stated percentage (7,420 / 8,855 = 83.8%);
- same concept: one thing stated in several places (``concept`` in the overrides file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from chatbot.text import STOPWORDS, quantities, stem, words
from chatbot.tuning import RATIO_TOLERANCE
from chatbot.understanding import Understanding

MONEY = frozenset({"GBP", "USD"})


@dataclass(frozen=True)
class Metric:
    """One figure the snapshot states, with what it measures."""

    metric_id: str
    document: str
    section: str
    label: str
    value: float
    unit: str  # GBP | USD | percent | count | jobs | projects | … | date
    display: str  # as the snapshot writes it
    period: str
    qualifier: str
    source: str
    footnote: str
    quote: str
    concept: str
    panel: str
    kind: str
    start: int
    measures: frozenset[str]
    modifiers: frozenset[str]
    stats: frozenset[str]
    label_stems: frozenset[str]
    says: str = ""  # a sentence with {value} (curated in the overrides file)
    direction: str = ""  # up | down: which way the figure goes ("… lower in the Midlands", growth)

    @property
    def is_percent(self) -> bool:
        return self.unit == "percent"

    @property
    def is_money(self) -> bool:
        return self.unit in MONEY

    @property
    def is_count(self) -> bool:
        return not (self.is_percent or self.is_money or self.unit == "date")

    @property
    def of_uk(self) -> bool:
        """Is it a share of a UK total ("14% of UK total"), not of the cluster's own?"""
        return "share" in self.stats and "uk" in words(self.label)

    def names_number(self, q) -> bool:
        """Does the label name this number as something other than the figure's value
        (the "£100m" of "£100m+ turnover companies", the "3.0" of "more than 3.0 GPA")?"""
        return any(abs(x.value - q.value) < 1e-6 * max(1.0, q.value) and x.unit == q.unit
                   and abs(x.value - self.value) > 1e-9
                   for x in quantities(f"{self.label} {self.footnote}"))

    def commensurable(self, other: Metric) -> bool:
        """Can the two be added or set against each other: one currency, both shares, or
        counts of a shared measure (313 funds with offices, 200 funds HQ'd here)?"""
        return self.unit == other.unit or (self.is_count and other.is_count
                                           and bool(self.measures & other.measures))

    def as_row(self) -> dict:
        """The figure as a metrics-table row (for the UI and exports)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__
                if f not in ("measures", "modifiers", "stats", "label_stems")}


def _stats(label_tags: set[str], unit: str) -> frozenset[str]:
    if unit == "percent":
        kinds = label_tags & {"growth", "gap"}
        return frozenset(kinds or {"share"})
    if unit in MONEY:
        return frozenset({"money"} | (label_tags & {"mean"}))
    if unit == "date":
        return frozenset({"date"})
    return frozenset({"count"} | (label_tags & {"mean"}))


def make_metric(row: dict, understanding: Understanding) -> Metric:
    text = " ".join(str(row.get(k) or "") for k in ("label", "aliases"))
    tags = understanding.tag([stem(w) for w in words(str(row["label"]))])
    alias_tags = understanding.tag([stem(w) for w in words(text)])
    # what a footnote says is counted ("High growth companies utilised accelerators") is measured
    alias_tags += [t for t in understanding.tag([stem(w) for w in words(str(row.get("footnote") or ""))])
                   if t.category == "measures"]
    text += " " + str(row.get("source") or "")  # a source's words match ("Data City numbers")
    by = {c: {t.concept for t in tags + alias_tags if t.category == c}
          for c in ("measures", "modifiers", "stats")}
    return Metric(
        metric_id=row["metric_id"], document=row["document"], section=row["section"],
        label=row["label"], value=float(row["value"]), unit=row["unit"], display=row["display"],
        period=str(row["period"] or ""), qualifier=str(row["qualifier"] or ""),
        source=str(row["source"] or ""), footnote=str(row["footnote"] or ""), quote=row["quote"],
        concept=str(row.get("concept") or ""), panel=str(row["panel"] or row["metric_id"]),
        kind=row["kind"], start=int(row["start"]), measures=frozenset(by["measures"]),
        modifiers=frozenset(by["modifiers"]), stats=_stats(by["stats"], row["unit"]),
        label_stems=frozenset(stem(w) for w in words(text)), says=str(row.get("says") or ""),
        direction="up" if row["unit"] == "percent" and "growth" in by["stats"] else _way(tags) or
        _way(understanding.tag([stem(w) for w in words(str(row["qualifier"] or ""))])))


def _way(tags) -> str:
    """The direction words say, if any ("… lower in Midlands", "more … than any other region")."""
    return next(iter(sorted({t.concept for t in tags if t.category == "direction"})), "")


def kind(m: Metric) -> str:
    """The kind of number: count, money (GBP and USD apart) or percent."""
    return m.unit if m.is_money or m.is_percent else "count"


class Facts:
    """The figures and their relations."""

    def __init__(self, rows: list[dict], understanding: Understanding) -> None:
        self.understanding = understanding
        self.metrics = [make_metric(r, understanding) for r in rows]
        self.by_id = {m.metric_id: m for m in self.metrics}
        self.position = {m.metric_id: i for i, m in enumerate(self.metrics)}
        self.by_short: dict[str, list[Metric]] = {}  # one figure across several snapshots
        for m in self.metrics:
            self.by_short.setdefault(m.metric_id.split("/")[-1], []).append(m)
        self.by_panel: dict[str, list[Metric]] = {}
        self.by_concept: dict[tuple[str, str], list[Metric]] = {}
        self.by_measure: dict[str, list[Metric]] = {}
        self.documents = list(dict.fromkeys(m.document for m in self.metrics))
        for m in self.metrics:
            self.by_panel.setdefault(m.panel, []).append(m)
            if m.concept:
                self.by_concept.setdefault((m.concept, m.document), []).append(m)
            for measure in m.measures or {""}:
                self.by_measure.setdefault(measure, []).append(m)
        self._ratio: dict[str, tuple[Metric, Metric]] = {}
        for p in self.metrics:
            if p.is_percent:
                pair = self._find_ratio(p)
                if pair:
                    self._ratio[p.metric_id] = pair

    # ---------------------------------------------------------------- relations

    def siblings(self, m: Metric) -> list[Metric]:
        return [s for s in self.by_panel.get(m.panel, []) if s is not m]

    def fits(self, measures: frozenset[str], modifiers: frozenset[str]) -> bool:
        """Has the snapshot, for each modifier, a figure of one of these measures with it?"""
        return all(any(x in m.modifiers for y in measures for m in self.by_measure.get(y, ()))
                   for x in modifiers)

    @cached_property
    def section_words(self) -> frozenset[str]:
        """Stems that name a section ("talent", "investment"), not the whole document's title."""
        title = {stem(w) for m in self.metrics[:1] for w in words(m.document)}  # "cluster", "data"
        return frozenset({stem(w) for m in self.metrics for w in words(m.section)} - title - STOPWORDS
                         - {"ecosystem"})

    def names_sections(self, stems: tuple[str, ...], content: tuple[str, ...] = ()) -> frozenset[str]:
        """The section words a question names: its own words and topic words ("skills" is
        talent), and a section's head word that the title shares ("innovation") when it stands
        apart from the title's other words ("the innovation front", not "health(care) innovation")."""
        title, heads = self._title_heads
        apart = {s for i, s in enumerate(stems) if s in heads and not any(
            t.startswith(n) for n in (*stems[max(0, i - 1):i], *stems[i + 1:i + 2]) for t in title)}
        return frozenset((set(stems) | set(content)) & self.section_words | apart)

    @cached_property
    def _title_heads(self) -> tuple[frozenset[str], frozenset[str]]:
        """The title's stems, and the head words of figure sections it shares ("innovation")."""
        title = frozenset(stem(w) for m in self.metrics[:1] for w in words(m.document))
        return title, frozenset(stem(words(m.section)[0]) for m in self.metrics
                                if m.section and m.kind == "figure") & title

    def same_concept(self, m: Metric) -> list[Metric]:
        """Figures stating the same thing elsewhere (``m`` first)."""
        if not m.concept:
            return [m]
        return [m] + [s for s in self.by_concept.get((m.concept, m.document), []) if s is not m]

    def shares(self, m: Metric) -> list[Metric]:
        """Percentages of the UK total stated with ``m`` (its own share first)."""
        sibs = [s for s in self.siblings(m) if s.is_percent and "share" in s.stats
                and "national" not in s.modifiers]
        if m.concept:
            named = self.by_concept.get((m.concept + "-share", m.document), [])
            sibs = [s for s in named if s is not m] + [s for s in sibs if s not in named]
        return sibs

    def growth(self, m: Metric) -> list[Metric]:
        return [s for s in self.siblings(m) if "growth" in s.stats]

    def national(self, m: Metric) -> Metric | None:
        """The national comparator stated with ``m`` (same measure and unit)."""
        for s in self.siblings(m):
            if "national" in s.modifiers and "national" not in m.modifiers and s.unit == m.unit:
                return s
        return None

    def paired(self, m: Metric) -> Metric | None:
        """The figure ``m`` is compared with: its national comparator, the local figure a
        national one is the comparator of, or its FDI/DDI counterpart."""
        local = next((s for s in self.siblings(m) if "national" in m.modifiers
                      and "national" not in s.modifiers and s.unit == m.unit), None)
        return self.national(m) or local or self.counterpart(m)

    def way(self, m: Metric, first: str = "") -> str:
        """Which way a figure goes, for a claim about it: its own direction, else against the
        figure it is paired with — the national comparator, or its FDI/DDI counterpart, the one
        named ``first`` being the claim's subject ("FDI capex was double DDI's"). "" if neither."""
        if m.direction:
            return m.direction
        other = self.paired(m)
        if other is None or other.unit != m.unit:
            return ""
        if "national" in m.modifiers | other.modifiers:
            subject, rest = (other, m) if "national" in m.modifiers else (m, other)
        else:
            subject, rest = (other, m) if first and first in other.modifiers else (m, other)
        return "up" if subject.value > rest.value else "down"

    def gap(self, m: Metric) -> Metric | None:
        return next((s for s in self.siblings(m) if "gap" in s.stats), None)

    def counterpart(self, m: Metric) -> Metric | None:
        """The same measure under the other modifier of its group (FDI ↔ DDI)."""
        for mod in m.modifiers:
            for other in self.understanding.concepts["modifiers"]:
                if not self.understanding.exclusive(mod, other):
                    continue
                want = (m.modifiers - {mod}) | {other}
                for c in self.by_measure.get(next(iter(m.measures), ""), []):
                    if c.modifiers == want and c.measures == m.measures and c.stats == m.stats \
                            and c.document == m.document:
                        return c
        return None

    def parts(self, m: Metric) -> list[Metric]:
        """Siblings measuring the same thing under a narrowing modifier (seed, venture)."""
        return [s for s in self.siblings(m) if s.measures == m.measures and s.stats == m.stats
                and kind(s) == kind(m) and m.modifiers < s.modifiers]

    def basis(self, m: Metric) -> list[Metric]:
        """What an average is the average of: the total stated with it and the count of that
        total ("£1.2m mean" → "£134m", "108 investments")."""
        if "mean" not in m.stats:
            return []
        total = next((s for s in self.siblings(m) if s.unit == m.unit and s.measures == m.measures
                      and s.modifiers == m.modifiers and "mean" not in s.stats), None)
        if total is None:
            return []
        return [total] + [c for c in self.siblings(m) if c.is_count and c.qualifier == total.qualifier
                          and c.modifiers == total.modifiers][:1]

    def whole(self, m: Metric) -> Metric | None:
        return next((s for s in self.siblings(m) if m in self.parts(s)), None)

    def divisors(self, m: Metric) -> list[Metric]:
        """Counts that ``m`` (an amount or count) can be divided by, nearest first: the count
        of the same panel and modifiers, then counts of other panels with the same modifiers."""
        same = [s for s in self.siblings(m) if s.is_count and s.modifiers == m.modifiers
                and s.measures & m.measures]
        near = [c for c in self.metrics if c.is_count and c.document == m.document and c is not m
                and c.modifiers == m.modifiers and c.section == m.section and c not in same
                and c.modifiers]
        return same + near

    def ratio_parts(self, m: Metric) -> tuple[Metric, Metric] | None:
        """Two counts whose quotient is the percentage ``m`` (numerator, denominator)."""
        return self._ratio.get(m.metric_id)

    def _find_ratio(self, p: Metric) -> tuple[Metric, Metric] | None:
        counts = [c for c in self.by_panel.get(p.panel, []) if c.is_count]
        counts += [c for c in self.metrics if c.is_count and c.kind == "footnote"
                   and c.section == p.section and c.document == p.document and c not in counts]
        for a in counts:
            for b in counts:
                if a is not b and b.value > a.value > 0 and \
                        math.isclose(100 * a.value / b.value, p.value, abs_tol=RATIO_TOLERANCE) and \
                        b.display in a.quote:  # stated together ("7420/8855"), not by chance
                    return a, b
        return None
