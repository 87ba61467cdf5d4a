"""Plan: one planner per operation, chosen from a dispatch table.

In: a ``Ctx`` (the frame after carry, the verdict, the evidence, the facts, a ``Composer``).
Out: answer lines written into the composer, and the answer's kind. Planners for figures live
here (lookup, compare, verify, provenance, decline); arithmetic in ``derive``; lists, passages,
overviews, definitions and chat in ``narrate``. Each planner is small; a new kind of question
is a new planner and an intent, never a branch elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from chatbot.carry import Context
from chatbot.compose import Composer, says
from chatbot.facts import Facts, Metric
from chatbot.read import Frame
from chatbot.resolve import Evidence
from chatbot.text import Quantity
from chatbot.tuning import CLAIM_WINDOW, CLOSE, CONFLICT_OTHERS, MULTI_DOCUMENTS
from chatbot.verdict import Verdict


@dataclass
class Ctx:
    frame: Frame
    verdict: Verdict
    evidence: Evidence
    facts: Facts
    out: Composer
    context: Context = field(default_factory=Context)
    extras: dict = field(default_factory=dict)  # glossary, sections, corpus origin

    @property
    def figures(self) -> list[Metric]:
        """The verdict's figures, or the last answer's when this turn leans on them."""
        if self.context.figures:
            return [self.facts.by_id[i] for i in self.context.figures if i in self.facts.by_id]
        return list(self.verdict.figures)


Planner = Callable[[Ctx], str]


def lookup(ctx: Ctx) -> str:
    """The figure asked for as a sentence; if the snapshot states the same thing differently
    elsewhere, the headline and a caveat naming the figures that disagree."""
    figs = ctx.figures
    head = figs[0]
    exact = [m for m in ctx.facts.same_concept(head)[1:] if _agree(head, m) and not _bound(m)
             and m.kind in ("figure", "table_row")]  # a panel states it exactly
    if _bound(head) and exact and not ctx.context.figures:  # "over 200" → the panel's 222
        figs = [exact[0]] + [m for m in figs if m is not exact[0]]
        head = exact[0]
    out = ctx.out
    parts = ctx.facts.ratio_parts(head) if head.is_percent else None
    tail = f" — {parts[0].display} of {parts[1].display} [{out.cite_metric(parts[0])}]" if parts else ""
    if not head.is_percent and not ctx.frame.stats - {"count", "money"}:  # what the panel says with it
        tail = context(ctx, head, figs) or tail
    elif head.is_percent and "share" in head.stats and not parts:  # a share with what it is a share of
        base = next((m for m in ctx.facts.siblings(head) if m.panel == head.panel and not m.is_percent
                     and m not in figs and head in ctx.facts.shares(m)), None)
        tail = f" — {says(base)}" if base is not None else tail
    out.add(out.figure(head, tail=tail))
    if out.multi and not ctx.frame.documents:  # several snapshots, none named: each one's figure
        short = head.metric_id.split("/")[-1]
        for m in [m for m in ctx.facts.by_short[short] if m is not head][:MULTI_DOCUMENTS]:
            out.add(out.figure(m))
        return "figures"
    for m in figs[1:]:
        if m.concept != head.concept or not m.concept:
            out.add(out.figure(m))
    others = _disagreeing(ctx, head)
    if ctx.frame.conflict:  # "the numbers don't agree": every close figure of that kind
        others += [c.metric for c in ctx.evidence.figures[1:6] if c.metric.commensurable(head)
                   and c.metric not in others and c.metric not in figs and not _agree(head, c.metric)]
    if not others:
        return "figure"
    cited: set[int] = set()
    parts = []
    for m in others:
        n = out.cite_metric(m)
        if n not in cited and len(cited) >= (CONFLICT_OTHERS if ctx.frame.conflict else 1):
            break
        cited.add(n)
        parts.append(f"{says(m)} [{n}]")
    out.add("The snapshot also gives, from other sources or definitions: " + "; ".join(parts) + ".")
    return "conflict"


def context(ctx: Ctx, head: Metric, figs: list[Metric]) -> str:
    """" — 14% of the UK total, up 62% since 2013": the share and growth its panel states, and
    the count an amount is stated with ("£107m across 62 seed investments")."""
    uk = [m for m in ctx.facts.shares(head) if re.search(r"\bUK\b", m.label)][:1]
    own = [m for m in ctx.facts.shares(head) if m.panel == head.panel][:1]  # "30% of the cluster's"
    count = [m for m in ctx.facts.siblings(head) if head.is_money and m.is_count
             and m.qualifier == head.qualifier][:1]  # one phrase states both
    said = [m for m in (uk or own) + ctx.facts.growth(head)[:1] + count if m not in figs]
    own_n = ctx.out.cite_metric(head)
    parts = []
    for m in said:
        n = ctx.out.cite_metric(m)
        parts.append((f"**{m.display}** of the UK total" if m in uk else says(m))
                     + (f" [{n}]" if n != own_n else ""))
    return " — " + "; ".join(parts) if parts else ""


def _disagreeing(ctx: Ctx, head: Metric) -> list[Metric]:
    """Figures stating the same thing as ``head`` with a value it does not agree with ("over
    200" agrees with 222), in the order the question ranks them."""
    rank = {c.metric.metric_id: i for i, c in enumerate(ctx.evidence.figures)}
    out = [m for m in ctx.facts.same_concept(head)[1:] if not _agree(head, m)]
    out.sort(key=lambda m: rank.get(m.metric_id, len(rank)))
    return out


def _bound(m: Metric) -> str:
    """"over" or "around" when the snapshot states the figure as a bound, else ""."""
    text = (m.label + " " + m.says).lower()
    return "over" if "(over)" in text or "over {" in text or "in excess of" in text else \
        "around" if "around" in text else ""


def _agree(a: Metric, b: Metric) -> bool:
    bound = _bound
    if a.value == b.value:
        return True
    for x, y in ((a, b), (b, a)):
        if bound(y) == "over" and x.value >= y.value and x.value <= 1.25 * y.value:
            return True
        if bound(y) == "around" and abs(x.value - y.value) <= CLOSE * y.value:
            return True
    return False


_WORDS = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve".split()))


def compare(ctx: Ctx) -> str:
    """Two sides figure by figure (FDI vs DDI, Midlands vs national), the verdict first."""
    pairs = _pairs(ctx)
    if not pairs:
        return lookup(ctx)
    out = ctx.out
    if len(pairs) > 1:
        a, b = pairs[0]
        ahead = sum(x.value > y.value for x, y in pairs)
        lead, behind = (_side(a), _side(b)) if ahead * 2 >= len(pairs) else (_side(b), _side(a))
        wins = max(ahead, len(pairs) - ahead)
        n = len(pairs)  # counted here, not stated: said in words so it is not read as a figure
        said = ("both" if n == 2 else f"all {_WORDS.get(n, n)}") if wins == n else \
            f"{_WORDS.get(wins, wins)} of the {_WORDS.get(n, n)}"
        out.add(f"{lead} is larger than {behind} on {said} measures the snapshot gives for both:")
    for a, b in pairs:
        line = (f"{_name(a)}: **{a.display}** [{out.cite_metric(a)}]; {_name(b)}: "
                f"**{b.display}** [{out.cite_metric(b)}]")
        line = f"- {line}" if len(pairs) > 1 else line
        gap = ctx.facts.gap(a)
        if gap is not None:  # the snapshot states the difference itself
            out.add(line + f" — {says(gap)} [{out.cite_metric(gap)}].")
        elif a.commensurable(b) and a.value and b.value and not a.is_percent:
            big, small = (a, b) if a.value >= b.value else (b, a)
            ratio = big.value / small.value
            out.add(line + f" — {ratio:.2f} times as much for {_side(big)}.")
            out.add(out.calculation(f"{big.display} ÷ {small.display} = {ratio:.2f}"))
        else:
            out.add(line + ".")
    return "compare"


def _side(m: Metric) -> str:
    return _name(m).split(" ")[0]


def _pairs(ctx: Ctx) -> list[tuple[Metric, Metric]]:
    facts, f = ctx.facts, ctx.frame
    figs = ctx.figures
    if "national" in f.modifiers or not (f.modifiers & {"fdi", "ddi"}):
        for m in candidates(ctx)[:6]:
            other = facts.paired(m)
            if other is not None and "national" in other.modifiers | m.modifiers:
                return [(other, m) if "national" in m.modifiers else (m, other)]
    pairs: list[tuple[Metric, Metric]] = []
    pool = [m for m in facts.metrics if "fdi" in m.modifiers and (not f.measures or m.measures & f.measures)
            and (m.is_percent == ("share" in f.stats)) and m.document == figs[0].document]
    for m in pool or [x for x in figs if "fdi" in x.modifiers]:
        twin = facts.counterpart(m)
        if twin and (m, twin) not in pairs:
            pairs.append((twin, m))
    return pairs[:3]


def _name(m: Metric) -> str:
    mods = [x.upper() for x in ("ddi", "fdi") if x in m.modifiers] or \
        (["National"] if "national" in m.modifiers else ["Midlands"])
    measure = {"capex": "capex", "employees": "jobs", "projects": "projects"}
    what = next((measure[x] for x in m.measures if x in measure), "")
    return f"{mods[0]} {what}".strip()


def candidates(ctx: Ctx) -> list[Metric]:
    """Figures to work with: the last answer's (a follow-up), then the ranked ones."""
    seen = list(ctx.figures)
    return seen + [c.metric for c in ctx.evidence.figures if c.metric not in seen]


_RANK = {"No": 0, "Not quite": 1, "Yes": 2}


def verify(ctx: Ctx) -> str:
    """A claim checked against the figures: the verdict first, then what the snapshot says."""
    f, out = ctx.frame, ctx.out
    pool = candidates(ctx)
    claims = [q for q in f.numbers if not (pool and pool[0].names_number(q))]
    if not claims and _named(f) and ctx.verdict.passages:
        return verify_passage(ctx)
    checks: list[tuple[str, Metric]] = []
    score = {c.metric.metric_id: c.score for c in ctx.evidence.figures}
    for q in claims:
        kind = [m for m in pool[:12] if _same_kind(q, m) and (not q.noun or q.noun in m.measures)]
        said = f.stats & {"mean", "growth", "share"}  # "isn't the mean £12m?" is about a mean
        kind = [m for m in kind if said <= m.stats] or kind
        kind = [m for m in kind if not m.measures - f.measures] or kind  # not "HGC grants"
        if kind:  # the claim is about a figure that fits the question; the nearest value of those
            best = max(score.get(m.metric_id, 0.0) for m in kind)
            kind = [m for m in kind if score.get(m.metric_id, best) >= best - CLAIM_WINDOW] or kind
        m = min(kind, key=lambda m: abs(m.value - q.value) / max(abs(m.value), 1e-9)) if kind else None
        if m is not None:
            checks.append((_judge(q, m, f), m))
    either = f.conflict or "or" in f.tokens
    if either and len(claims) >= 2:  # "5,500 or 32,000 jobs?": each one where the snapshot states it
        stated = [min((m for m in ctx.facts.metrics if _same_kind(q, m) and _judge(q, m, f) == "Yes"),
                      key=lambda m: abs(m.value - q.value), default=None) for q in claims]
        if all(stated) and len({m.metric_id for m in stated}) >= 2:
            lines = [out.figure(m) for m in dict.fromkeys(stated)]
            out.add("Both figures are in the snapshot, for different things: " + " ".join(lines))
            return "conflict"
    for year in f.years:  # "since 2015" against a figure "since 2005"
        m = pool[0] if pool else None
        if m is not None and re.search(r"\d{4}", m.period + m.label) and \
                str(year) not in m.period + m.label and not any(a <= year <= b for a, b in f.ranges):
            checks.append(("Not quite", m))
    if not checks and pool:
        head = pool[0]
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
    lines = [out.figure(m) for m in shown[:3]]
    way = _way(ctx, shown[0]) if verdict != "Yes" and ctx.frame.direction else ""
    out.add(f"{verdict} — {way}" + " ".join(lines))
    return "verify"


def _way(ctx: Ctx, m: Metric) -> str:
    """"it is higher: " — which way the figure really goes, when a claim had it wrong."""
    actual = m.direction
    other = ctx.facts.paired(m)
    if not actual and other is not None:
        local, national = (other, m) if "national" in m.modifiers else (m, other)
        actual = "up" if local.value > national.value else "down"
    if actual == ctx.frame.direction:
        return ""  # the claim had the way right; what it got wrong is the number
    words = {"up": "higher" if "growth" not in m.stats else "they grew",
             "down": "lower" if "growth" not in m.stats else "they fell"}
    return f"{words[actual]}: " if actual in words else ""


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
        return "Yes" if unit_ok and (_approximate(f) or _rounds_to(q, value)) else "Not quite"
    return "No"


def _rounds_to(q: Quantity, value: float) -> bool:
    """Is the claim the figure rounded to the claim's own precision ("27%" for 27.2%,
    "£34.1k" for £34,131)? Trailing zeros of a whole number are not precision ("5,500")."""
    digits = re.sub(r"[^\d.]", "", q.written.split("e")[0])
    if not digits:
        return False
    scale = q.value / float(digits) if float(digits) else 1.0
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    step = scale * 10 ** -decimals
    return abs(round(value / step) * step - q.value) <= 1e-6 * max(1.0, abs(q.value))


def _approximate(f: Frame) -> bool:
    return any(t in f.tokens for t in ("about", "around", "roughly", "approximately", "approx",
                                       "some", "nearly", "almost", "circa", "ish")) or \
        any(q.written.startswith("~") or q.unit == "percent" and q.written.isalpha() for q in f.numbers)


def _direction(ctx: Ctx, m: Metric) -> str:
    """A claim with no number: its direction (higher, fell) against the figure's."""
    said = ctx.frame.direction
    if not said:
        return "Yes"
    own = m.direction
    if own:
        return "Yes" if said == own else "No"
    other = ctx.facts.paired(m)
    if other is None:
        return "Yes"
    local, national = (other, m) if "national" in m.modifiers else (m, other)
    actual = "up" if local.value > national.value else "down"
    return "Yes" if said == actual else "No"


def verify_passage(ctx: Ctx) -> str:
    """A claim about names or places, checked against the passage that speaks to it."""
    ps = ctx.verdict.passages
    if not ps:
        return decline(ctx)
    p = ps[0]
    claimed = [n for n in ctx.frame.names + tuple(ctx.frame.places) if n.lower() not in
               ("midlands", "uk", "nhs")]
    wrong = [n for n in claimed if n.lower() not in p.text.lower()]
    ctx.out.add(f"{'No' if wrong else 'Yes'} — {p.text} [{ctx.out.cite_passage(p.text, p.chunk)}]")
    return "verify"


def provenance(ctx: Ctx) -> str:
    out = ctx.out
    for m in ctx.figures[:2]:
        n = out.cite_metric(m)
        src = m.source or "no named source"
        period = f", covering {m.period}" if m.period and not m.period.startswith("as of") \
            and set(re.findall(r"\d+", m.period)) <= set(re.findall(r"\d+", m.quote + m.source)) else ""
        note = _footnote(ctx, m)
        ref = f"[{n}][{out.cite_passage(note.quote, note)}]" if note is not None else f"[{n}]"
        out.add(f"{m.label} ({m.display}) comes from **{src}**{period} {ref}.")
        if note is not None:
            out.add(f"Its footnote reads: “{note.quote}”.")
    return "provenance"


def more(ctx: Ctx) -> str:
    """"Tell me more" after a figure: what the snapshot says around it — its panel's share and
    growth, the national figure or FDI/DDI twin it is compared with, and its footnote."""
    out, facts = ctx.out, ctx.facts
    for m in ctx.figures[:1]:
        out.add(out.figure(m, tail=context(ctx, m, [])))
        for other in (facts.national(m), facts.counterpart(m)):
            if other is not None and other is not m:
                out.add(out.figure(other))
        note = _footnote(ctx, m)
        if note is not None and note.quote.strip() != m.source:
            out.add(f"Its source is {m.source or 'not named'}; the footnote reads: “{note.quote}” "
                    f"[{out.cite_passage(note.quote, note)}].")
        elsewhere = [o for o in _disagreeing(ctx, m) if o.document == m.document][:CONFLICT_OTHERS]
        if elsewhere:  # "over 200 businesses" in the introduction
            out.add("The snapshot also gives: " + "; ".join(f"{says(o)} [{out.cite_metric(o)}]"
                                                          for o in elsewhere) + ".")
    return "figure"


def _footnote(ctx: Ctx, m: Metric):
    for c in ctx.out.chunks:
        if c.kind == "footnote" and c.section == m.section and c.document == m.document and \
                c.quote and c.quote in m.footnote:
            return c
    return None


def decline(ctx: Ctx) -> str:
    out = ctx.out
    reason = re.sub(r"\s+", " ", re.sub(r"[^A-Za-z' ,;:()-]", " ", ctx.verdict.reason or "")).strip()
    out.add(f"The snapshot doesn't give {reason or 'that'}.")
    for m in ctx.verdict.nearest[:2]:
        out.nearest.append(f"{m.label}: {m.display}")
    return "not_found"


PLANNERS: dict[str, Planner] = {
    "lookup": lookup, "compare": compare, "verify": verify, "provenance": provenance, "more": more,
    "decline": decline,
}
