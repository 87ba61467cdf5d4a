"""Claims: a number or a name someone states, checked against the snapshot, the verdict first.

In: a ``Ctx`` whose frame states something ("IC memo says 300+ VC funds", "the 9% is UK jobs,
right?", "BHIC and BioCity are the opportunity zones?"). Out: "Yes —", "No —" or "Not quite —"
and the figures or passage that decide it. Claims about a calculated figure are checked in
``derive.verify`` first.
"""

from __future__ import annotations

import calendar
import math
import re

from chatbot.facts import Metric
from chatbot.frame import SETTING, Frame
from chatbot.plan import Ctx, candidates, context, decline, footnote, restated
from chatbot.text import STOPWORDS, Quantity, best_clause, stem, words, year_range_matches, year_words
from chatbot.tuning import CLAIM_WINDOW, CLOSE

_RANK = {"No": 0, "Not quite": 1, "Yes": 2}
MONTHS = frozenset(m.lower() for m in calendar.month_name[1:])


def dated(f: Frame, text: str) -> str:
    """A date the message claims ("current as of December 2022") against the date the snapshot
    gives in ``text`` ("as of May 2023"): "Yes" or "No"; "" when it claims none."""
    months = [t.lower() for t in f.tokens if t.lower() in MONTHS]
    if not f.years and not months:
        return ""
    low = text.lower()
    return "Yes" if all(str(y) in text for y in f.years) and all(m in low for m in months) else "No"


def verify(ctx: Ctx) -> str:
    """A claim checked against the figures: the verdict first, then what the snapshot says."""
    f, out = ctx.frame, ctx.out
    pool = candidates(ctx)
    if pool and pool[0].unit == "date" and (said := dated(f, pool[0].quote)):  # "as of Dec 2022?"
        out.add(f"{said} — {out.figure(pool[0])}")
        return "verify"
    claims = [q for q in f.numbers if not (pool and pool[0].names_number(q))]
    if not claims and _named(f) and ctx.verdict.passages:
        return verify_passage(ctx)
    checks: list[tuple[str, Metric]] = []
    abbreviations = {a.lower() for a in f.acronyms}  # "OLS" names a source; a footnote's
    providers = {w for m in pool for w in _proper(m) if w.isalpha() and (  # "growth" does not
        w in abbreviations or not ctx.facts.understanding.tag([stem(w)]))} - STOPWORDS
    cased = f.text not in (f.text.lower(), f.text.upper())  # case says which words are names
    capitals = {w for n in f.names + f.acronyms for w in words(n)}  # "Data City estimates 32,000":
    named = [t for t in f.tokens if t in providers and (t in capitals or not cased) and t not in
             ("data", "uk", "midlands", "nhs", "jobs", "health", "life", "sciences")]  # its figure
    score = {c.metric.metric_id: c.score for c in ctx.evidence.figures}
    for q in claims:
        same = [m for m in pool[:12] if _same_kind(q, m) and (not q.noun or q.noun in m.measures
                                                              or q.unit == "percent")]
        kind = [m for m in same if q.noun in m.measures] or same  # "16.9% of HG businesses"
        said = f.stats & {"mean", "growth", "share"}  # "isn't the mean £12m?" is about a mean
        kind = [m for m in kind if said <= m.stats] or kind
        kind = [m for m in kind if not m.measures - f.measures] or kind  # not "HGC grants"
        kind = [m for m in kind if any(n in _proper(m) for n in named)] or kind
        if kind:  # the claim is about a figure that fits the question; the nearest value of those
            best = max(score.get(m.metric_id, 0.0) for m in kind)
            near = [m for m in kind if score.get(m.metric_id, best) >= best - CLAIM_WINDOW] or kind
            pairs = {p for m in near if (p := ctx.facts.paired(m)) is not None  # "30% against a 24%
                     and p.modifiers - m.modifiers <= f.modifiers}  # national average": named
            kind = near + [m for m in same if m in pairs and m not in near]
        m = min(kind, key=lambda m: abs(m.value - q.value) / max(abs(m.value), 1e-9)) if kind else None
        if m is not None:
            checks.append((_judge(q, m, f), m))
            if q.modifier and any(ctx.facts.understanding.exclusive(q.modifier, x) for x in m.modifiers) \
                    and (twin := ctx.facts.counterpart(m)) is not None:  # "FDI capex ($544.21m)":
                checks.insert(len(checks) - 1, ("No", twin))  # DDI's figure credited to FDI
    checked = [m for _v, m in checks]
    for m in checked:  # "30% is below the 24% national average?": right numbers, wrong way round;
        pair = ctx.facts.paired(m)  # "below the 24% national average" names only the comparator
        if f.direction and pair is not None and (pair in checked or "national" in m.modifiers):
            subject = pair if "national" in m.modifiers else m
            checks.insert(0, (_direction(ctx, subject), subject))
    either = f.conflict or any("or" in words(f.text[a.end:b.start])  # "5,500 or 32,000 jobs?", not
                               for a, b in zip(claims, claims[1:], strict=False))  # "true or false"
    if either and len(claims) >= 2:  # "5,500 or 32,000 jobs?": each one where the snapshot states it
        stated = [min((m for m in ctx.facts.metrics if _same_kind(q, m) and _judge(q, m, f) == "Yes"),
                      key=lambda m: abs(m.value - q.value), default=None) for q in claims]
        if all(stated) and len({m.metric_id for m in stated}) >= 2:
            lines = [out.figure(m) for m in dict.fromkeys(stated)]
            out.add("Both figures are in the snapshot, for different things: " + " ".join(lines))
            return "conflict"
    when = ""
    for year in f.years:  # "since 2015" against a figure "since 2005"; "2021 data?" against 18/19
        m = pool[0] if pool else None
        held = _period_years(m) if m is not None else set()
        if held and year not in held and not any(a <= year <= b for a, b in f.ranges):
            checks.append(("No" if not claims else "Not quite", m))
            note = footnote(ctx, m) if not claims else None  # "that's 2021 data?": its footnote dates it
            when = f"its footnote reads “{note.quote}” [{out.cite_passage(note.quote, note)}]. " \
                if note is not None else when
    if not checks and pool:
        head = pool[0]
        if not head.source:  # a headline bullet ("62% growth in business numbers"): the panel
            head = next((s for s in ctx.facts.same_concept(head) if s.source), head)  # with a source
        if "national" in head.modifiers and ctx.facts.paired(head) is not None:
            head = ctx.facts.paired(head)  # the claim is about the Midlands figure
        checks.append((_direction(ctx, head), head))
        other = ctx.facts.paired(head)
        if other is not None and ctx.frame.direction:
            checks.append(("Yes", other))
    if not checks:
        return verify_passage(ctx)
    verdict = min((v for v, _m in checks), key=_RANK.get)
    shown = list(dict.fromkeys(m for _v, m in checks))
    for m in list(shown):  # a gap is read with the figures it compares; a share with its whole
        related = [r for r in ctx.facts.siblings(m) if not r.is_percent] if m.is_percent else []
        if not m.is_percent and ctx.facts.gap(m) is not None:
            related.append(ctx.facts.gap(m))
        shown += [r for r in related if r not in shown]
    if verdict != "Yes" and f.op == "verify" and shown[0].is_percent and not shown[0].stats & {"growth"}:
        whole = [w for w in pool if w.panel == shown[0].panel and not w.is_percent][:1]
        shown += [w for w in whole if w not in shown]
    if verdict != "Yes":  # the number claimed may be another figure of the panel ("313 have
        twin = ctx.facts.counterpart(shown[0])  # offices") or its FDI/DDI twin's ("15% is DDI's")
        near = [r for q in claims for r in ctx.facts.metrics if (r.panel == shown[0].panel or r is twin)
                and r not in shown and _same_kind(q, r) and _judge(q, r, f) != "No"]
        shown[2:2] = near[:1]  # after the figure that answers the claim
    lines = [out.figure(m, tail=context(ctx, m, shown) if "mean" in m.stats else "",  # a mean with
                        also=restated(ctx, m))  # the total and count it averages ("£134m in 108 …")
             for m in shown[:3]]
    way = _way(ctx, shown[0]) if verdict != "Yes" and ctx.frame.direction else ""
    out.add(f"{verdict} — {way or when}" + " ".join(lines))
    return "verify"


def _proper(m: Metric) -> list[str]:
    """Who a figure is credited to: its source and its label's aside ("Jobs … (Data City
    estimate)"), not the label's own words ("Jobs in the cluster")."""
    aside = m.label.partition("(")[2].partition(")")[0]
    return words(" ".join([m.source, *(w for w in aside.split() if w[:1].isupper())]))  # not "(over)"


def _period_years(m: Metric) -> set[int]:
    """The years a figure's period and label name: "2017–2021", "since 2005", "2018/19"."""
    text = f"{m.period} {m.label}"
    return {int(y) for y in year_words(text)} | \
        {y for r in year_range_matches(text) for y in range(r.first, r.last + 1)}


def _way(ctx: Ctx, m: Metric) -> str:
    """"it is higher: " — which way the figure really goes, when a claim had it wrong."""
    actual = ctx.facts.way(m, ctx.frame.first_modifier)
    if actual == ctx.frame.direction:
        return ""  # the claim had the way right; what it got wrong is the number
    grew = "growth" in m.stats
    said = {"up": "they grew" if grew else "it is higher", "down": "they fell" if grew else "it is lower"}
    return f"{said[actual]}: " if actual in said else ""


def _same_kind(q: Quantity, m: Metric) -> bool:
    if q.unit == "percent":
        return m.is_percent
    if q.unit in ("GBP", "USD"):
        return m.is_money
    return m.is_count or (m.is_money and q.value >= 1000)


def _named(f: Frame) -> bool:
    return any(n.lower() not in ("midlands", "uk", "nhs", "the") for n in f.names) or \
        bool(set(f.places) - {"midlands"})


def _judge(q: Quantity, m: Metric, f: Frame) -> str:
    if f.direction and m.direction and f.direction != m.direction:
        return "No"  # "fell by 62%" against growth of 62%
    value = m.value
    if "complement" in f.derive and m.is_percent:
        value = 100 - value  # "84% leave" checks the share who did not stay
    unit_ok = q.unit == m.unit or q.unit == "count" or m.is_count
    if abs(q.value - value) <= 1e-9 * max(1.0, abs(value)):
        return "Yes" if unit_ok else "Not quite"
    if abs(q.value - value) <= CLOSE * abs(value):
        return "Yes" if unit_ok and _rounds_to(q, value, loose=_approximate(f)) else "Not quite"
    return "No"


def _rounds_to(q: Quantity, value: float, loose: bool = False) -> bool:
    """Is the claim the figure rounded to the claim's own precision ("27%" for 27.2%,
    "£34.1k" for £34,131)? Trailing zeros of a whole number are not precision ("5,500").
    ``loose`` ("about 5,500", "roughly 5,600" for 5,552): rounded, or rounded down as "over
    5,500" does, at the claim's last non-zero digit; "about 5,700" is not quite."""
    digits = re.sub(r"[^\d.]", "", q.written.split("e")[0])
    if not digits:
        return False
    scale = q.value / float(digits) if float(digits) else 1.0
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    step = scale * 10 ** -decimals
    if loose and not decimals:
        whole = digits.rstrip("0") or "0"
        step *= 10 ** (len(digits) - len(whole))
    near = (round(value / step), math.floor(value / step)) if loose else (round(value / step),)
    return any(abs(n * step - q.value) <= 1e-6 * max(1.0, abs(q.value)) for n in near)


def _approximate(f: Frame) -> bool:
    return any(t in f.tokens for t in ("about", "around", "roughly", "approximately", "approx",
                                       "some", "nearly", "almost", "circa", "ish")) or \
        any(q.written.startswith("~") or q.unit == "percent" and q.written.isalpha() for q in f.numbers)


def _direction(ctx: Ctx, m: Metric) -> str:
    """A claim with no number: its direction (higher, fell) against the figure's."""
    said = ctx.frame.direction
    actual = ctx.facts.way(m, ctx.frame.first_modifier) if said else ""
    return "No" if actual and said != actual else "Yes"


def verify_passage(ctx: Ctx) -> str:
    """A claim about names or places, checked against the passage that speaks to it."""
    ps = ctx.verdict.passages
    if not ps:
        return decline(ctx)
    p = ps[0]
    claimed = [n for n in ctx.frame.names + tuple(ctx.frame.places) if n.lower() not in
               ("midlands", "uk", "nhs")]
    said = best_clause(p.text, [c for c in ctx.frame.content if c not in ctx.frame.places]) \
        if ctx.frame.wh else ""  # "why was Nottingham picked for …": the clause that answers it
    wrong = [n for n in claimed if n.lower() not in (said or p.text).lower()]
    ctx.out.add(f"{'No' if wrong else 'Yes'} — {p.text} [{ctx.out.cite_passage(p.text, p.chunk)}]")
    f, figures = ctx.frame, ctx.evidence.figures
    if f.stats & {"share", "count", "money", "percent"} and figures and not f.numbers and \
            f.measures & figures[0].metric.measures - SETTING:
        ctx.out.add(ctx.out.figure(figures[0].metric))  # "seeing as China tops …, what share …?"
    return "verify"


