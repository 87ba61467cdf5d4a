"""Lookup: match a question to rows of the metrics table — exact, explainable, no model.

In: the metrics table and a read ``Question``. Out: ``Match`` rows ranked by score, each with
what it covered. Rows are matched by label, aliases, entities (FDI vs DDI; capex vs jobs vs
projects; share vs count; money), years and names, with typo-corrected words. A match is
*confident* only when a label or alias word matched and nothing the question names (a place,
a year, an organisation) is missing from the row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chatbot.question import Question, generic_name, measure_words, type_words
from chatbot.retrieve import STOPWORDS, stem

MIN_SCORE = 2.2


def _in_range(year: str, period: str) -> bool:
    m = re.match(r"((?:19|20)\d{2})–((?:19|20)\d{2})", period)
    return bool(m) and m.group(1) <= year <= m.group(2)


def _toks(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z0-9£$]+", text.lower()) if w not in STOPWORDS}


def _slots(text: str, table) -> set[str]:
    low = text.lower()
    return {k for k in table if any(re.search(rf"\b{w}\b", low) for w in table[k])}


_TYPES = {k: type_words(k) for k in ("fdi", "ddi")}
_MEASURES = {k: measure_words(k) for k in ("capex", "jobs", "projects")}


#: Share of the question's key words (by rarity) a row must account for to be the answer.
MIN_COVERAGE = 0.5
#: idf mass of a fully matched label/alias that identifies a row on its own (two telling
#: words, or one rare one such as "salary").
PHRASE_MIN = 5.0


@dataclass(frozen=True)
class Match:
    row: dict
    score: float
    label_hit: bool
    uncovered: tuple[str, ...] = ()
    coverage: float = 0.0
    phrase: float = 0.0  # idf mass of a label or alias matched word for word

    @property
    def confident(self) -> bool:
        """Enough of the question is about this row — or one of its names is asked for whole
        (a long question around "FE leavers" still asks for FE leavers)."""
        return (self.score >= MIN_SCORE and self.label_hit and not self.uncovered
                and (self.coverage >= MIN_COVERAGE or self.phrase >= PHRASE_MIN))

    @property
    def metric_id(self) -> str:
        return self.row["metric_id"]


class MetricMatcher:
    """Scores every row of the table against a question."""

    def __init__(self, table, vocabulary: frozenset[str] = frozenset()):
        self.vocabulary = vocabulary  # stems of every word in the corpus
        self.rows: list[dict] = table.to_dict("records")
        self.by_id = {r["metric_id"]: r for r in self.rows}
        self._label: list[set[str]] = []
        self._own: list[set[str]] = []  # words of the label itself (aliases weigh less)
        self._ctx: list[set[str]] = []
        self._phrases: list[list[set[str]]] = []
        self._types: list[set[str]] = []
        self._measures: list[set[str]] = []
        self._full: list[str] = []
        df: dict[str, int] = {}
        for r in self.rows:
            aliases = [a for a in str(r["aliases"]).split("|") if a.strip()]
            phrases = [_toks(p) for p in [r["label"], *aliases]]
            label = set().union(*phrases) if phrases else set()
            ctx = _toks(" ".join(str(r[c]) for c in ("qualifier", "quote", "section", "source",
                                                      "footnote", "period", "document")))
            self._label.append(label)
            self._own.append(phrases[0] if phrases else set())
            self._ctx.append(ctx)
            self._phrases.append([p for p in phrases if p])
            self._types.append(_slots(r["label"] + " " + r["qualifier"], _TYPES)
                               if re.search(r"\b(FDI|DDI|Foreign Direct|Domestic Direct)\b",
                                            r["label"] + " " + r["qualifier"]) else set())
            self._measures.append(_slots(r["label"], _MEASURES) if self._types[-1] else set())
            self._full.append(" ".join(str(r[c]) for c in ("label", "aliases", "quote", "section",
                                                           "source", "footnote", "qualifier",
                                                           "document")).lower())
            for t in label | ctx:
                df[t] = df.get(t, 0) + 1
        n = len(self.rows)
        self.idf = {t: math.log(1 + n / (d + 0.5)) for t, d in df.items()}
        # Indexes so that a question only scores the rows that share a word with it, and
        # panels, concepts and positions are looked up, not searched (many snapshots → many rows).
        self.pos = {r["metric_id"]: i for i, r in enumerate(self.rows)}
        self.postings: dict[str, list[int]] = {}
        for i in range(n):
            for t in self._label[i] | self._ctx[i]:
                self.postings.setdefault(t, []).append(i)
        self.by_panel: dict[str, list[dict]] = {}
        self.by_concept: dict[tuple[str, str], list[dict]] = {}
        for r in self.rows:
            self.by_panel.setdefault(r["panel"] or r["metric_id"], []).append(r)
            if r.get("concept"):
                self.by_concept.setdefault((r["concept"], r["document"]), []).append(r)
        #: A corpus word no row uses says the question is about something else: weigh it fully.
        self.unseen_idf = sorted(self.idf.values())[len(self.idf) // 2] if self.idf else 1.0

    def siblings(self, metric_id: str) -> list[dict]:
        """Rows stated in the same panel (or sentence block) as ``metric_id``."""
        return list(self.by_panel.get(self.by_id[metric_id]["panel"] or metric_id, []))

    def label_tokens(self, metric_id: str) -> set[str]:
        return self._label[self.pos[metric_id]]

    def index_of(self, row: dict) -> int:
        return self.pos[row["metric_id"]]

    def concept_rows(self, row: dict) -> list[dict]:
        if not row.get("concept"):
            return [row]
        return list(self.by_concept.get((row["concept"], row["document"]), [row]))

    def score_row(self, i: int, q: Question) -> Match:
        row = self.rows[i]
        label, ctx = self._label[i], self._ctx[i]
        score, label_hit = 0.0, False
        qset = set(q.tokens)
        covered = total = 0.0
        for t in q.key:
            w = self.idf.get(t, 0.0)
            # A word the snapshot never uses cannot be matched by any row: it weighs less.
            known = not self.vocabulary or t in self.vocabulary
            total += (w or self.unseen_idf) if known else 0.5
            if t in label:
                score += w if t in self._own[i] else 0.8 * w
                covered += w
                label_hit = True
            elif t in ctx:
                score += 0.3 * w
                covered += 0.5 * w
        best = 0.0
        for p in self._phrases[i]:
            if p <= qset:
                best = max(best, 0.5 * sum(self.idf.get(t, 0.0) for t in p))
        phrase = 2 * best
        if best:
            label_hit = True
        score += best
        # Entities: FDI vs DDI, capex vs jobs vs projects.
        if q.types and self._types[i] and not (q.types & self._types[i]):
            score -= 100
        if q.types and not self._types[i]:
            score -= 1.5
        if q.measures and self._measures[i] and not (q.measures & self._measures[i]):
            score -= 100
        # Share vs count, money vs count.
        is_share = row["unit"] == "percent"
        if q.share and not is_share:
            score -= 4.0
        elif not q.share and is_share and row["kind"] not in ("figure", "table_row"):
            score -= 1.0
        if q.money and row["unit"] not in ("GBP", "USD"):
            score -= 100 if q.explicit_money else 2.5
        if q.count and not q.share and is_share:
            score -= 3.0
        for value, unit in q.numbers:  # "did numbers fall by 62%?" names the row's own value
            if math.isclose(value, float(row["value"]), rel_tol=1e-6) and \
                    (unit == "percent") == (row["unit"] == "percent"):
                score += 2.0
                break
        uncovered: list[str] = []
        full = self._full[i]
        stated = " ".join(str(row[c]) for c in ("label", "quote", "period", "qualifier"))
        for y in q.years:
            if y not in stated and not _in_range(y, str(row["period"])):
                uncovered.append(y)
        for name in q.proper + q.narrow:
            low = name.lower()
            if generic_name(name):
                continue
            if not re.search(rf"\b{re.escape(low.rstrip('s'))}", full):
                uncovered.append(name)
        score -= 2.0 * len(uncovered)
        coverage = covered / total if total else 0.0
        return Match(row, round(score, 4), label_hit, tuple(uncovered), round(coverage, 3),
                     round(phrase, 3))

    def rank(self, q: Question, limit: int = 10) -> list[Match]:
        """The best-scoring rows; only rows sharing a word with the question can score."""
        cand: set[int] = set()
        common = len(self.rows) // 2  # words in most rows (document titles) select nothing
        for t in set(q.key) | set(q.tokens):
            hits = self.postings.get(t, ())
            if len(hits) <= common or t in q.key and len(self.rows) < 200:
                cand.update(hits)
        if not cand:
            return []
        scored = [self.score_row(i, q) for i in sorted(cand)]
        scored.sort(key=lambda m: -m.score)  # stable: ties keep table order
        return scored[:limit]

    def best(self, q: Question) -> Match | None:
        ranked = self.rank(q, 1)
        return ranked[0] if ranked else None
