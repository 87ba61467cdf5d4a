"""Plan: one planner per operation, chosen from a dispatch table.

In: a ``Ctx`` (the frame after carry, the verdict, the evidence, the facts, a ``Composer``).
Out: answer lines written into the composer, and the answer's kind. Planners for figures live
here (lookup, compare, provenance, decline); claims in ``claims``; arithmetic in ``derive``; lists, passages,
overviews, definitions and chat in ``narrate``. Each planner is small; a new kind of question
is a new planner and an intent, never a branch elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from chatbot.carry import Context
from chatbot.compose import Composer, says
from chatbot.facts import Facts, Metric
from chatbot.frame import Frame
from chatbot.resolve import Evidence
from chatbot.text import NUMBER_WORDS, sentences, stem, stems
from chatbot.tuning import CHALLENGE_SHARES, CLOSE, CONFLICT_OTHERS, MULTI_DOCUMENTS
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

#: The snapshot's own word for what holds businesses back (a topic in the vocabulary).
FRUSTRATION = stem("frustration")


def first_saying(chunks, word: str):
    """The first sentence of prose or a list item using ``word`` (a stem), with its chunk."""
    return next(((s, c) for c in sorted(chunks, key=lambda c: c.start) if c.kind in ("prose", "list")
                 for s in sentences(c.quote) if word in stems(s)), None)


def scratch(ctx: Ctx) -> Ctx:
    """The same turn writing to a fresh composer: to try an answer's wording without citing."""
    return replace(ctx, out=Composer(ctx.out.chunk_of, ctx.out.chunks, ctx.out.multi))


def restated(ctx: Ctx, m: Metric) -> tuple[Metric, ...]:
    """The same figure, the same value, where another section of the snapshot states it (the
    summary's "62% growth in business numbers" beside the panel's "62% growth since 2013")."""
    return tuple(s for s in ctx.facts.same_concept(m)[1:] if s.value == m.value
                 and s.section != m.section and s.commensurable(m))[:1]


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
    if not head.is_percent and not ctx.frame.stats - {"count", "money", "mean"}:  # what its panel says
        tail = context(ctx, head, figs) or tail
    elif head.is_percent and "share" in head.stats and not parts:  # a share with what it is a share of
        base = next((m for m in ctx.facts.siblings(head) if m.panel == head.panel and not m.is_percent
                     and m not in figs and head in ctx.facts.shares(m)), None)
        tail = f" — {says(base)}" if base is not None else tail
    out.add(out.figure(head, tail=tail, also=restated(ctx, head)))
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
    uk = [m for m in ctx.facts.shares(head) if m.of_uk][:1]
    own = [m for m in ctx.facts.shares(head) if m.panel == head.panel][:1]  # "30% of the cluster's"
    count = [m for m in ctx.facts.siblings(head) if (head.is_money and m.is_count or head.is_count
             and m.is_money) and m.qualifier == head.qualifier][:1]  # one phrase states both
    basis = ctx.facts.basis(head)  # "£1.2m mean — £134m in 108 investments"
    said = [m for m in (uk or own) + ctx.facts.growth(head)[:1] + count + basis if m not in figs]
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


_WORDS = {1: "one"} | {n: w for w, n in NUMBER_WORDS.items()}  # counts said in words


def compare(ctx: Ctx) -> str:
    """Two sides figure by figure (FDI vs DDI, Midlands vs national), the verdict first."""
    pairs = _pairs(ctx)
    if not pairs:
        return lookup(ctx)
    out = ctx.out
    if ctx.frame.direction:  # "given FDI capex was way bigger than DDI capex, …": the claim first
        a, b = pairs[0]
        said = first_named(ctx, a, b)
        other = b if said is a else a
        right = (said.value > other.value) == (ctx.frame.direction == "up")
        size = "larger" if said.value > other.value else "smaller"
        out.add(f"{'Yes' if right else 'No'} — {_side(said)} is {size} than {_side(other)} here:")
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


def first_named(ctx: Ctx, a: Metric, b: Metric) -> Metric:
    """Which of two figures the question names first (by their modifiers or measures)."""
    stems = list(ctx.frame.stems)
    tags = ctx.facts.understanding.tag(stems)

    def pos(m: Metric) -> int:
        own = (m.modifiers - (a.modifiers & b.modifiers)) or (m.measures - (a.measures & b.measures))
        return min((t.start for t in tags if t.concept in own), default=len(stems))

    return a if pos(a) <= pos(b) else b


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


def provenance(ctx: Ctx) -> str:
    out = ctx.out
    for m in ctx.figures[:2]:
        n = out.cite_metric(m)
        if not m.source:  # "how current is the data?": what the snapshot says of it, in its words
            out.add(f"{says(m)[:1].upper()}{says(m)[1:]} — the snapshot names no source for it; it says: "
                    f"“{m.quote}” [{n}].")
            continue
        src = m.source
        period = f", covering {m.period}" if m.period and not m.period.startswith("as of") \
            and set(re.findall(r"\d+", m.period)) <= set(re.findall(r"\d+", m.quote + m.source)) else ""
        note = footnote(ctx, m)
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
        note = footnote(ctx, m)
        if note is not None and note.quote.strip() != m.source:
            out.add(f"Its source is {m.source or 'not named'}; the footnote reads: “{note.quote}” "
                    f"[{out.cite_passage(note.quote, note)}].")
        elsewhere = [o for o in _disagreeing(ctx, m) if o.document == m.document][:CONFLICT_OTHERS]
        if elsewhere:  # "over 200 businesses" in the introduction
            out.add("The snapshot also gives: " + "; ".join(f"{says(o)} [{out.cite_metric(o)}]"
                                                          for o in elsewhere) + ".")
    return "figure"


def footnote(ctx: Ctx, m: Metric):
    """The footnote chunk a figure's footnote text comes from, if the snapshot has it."""
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


def challenges(ctx: Ctx) -> str:
    """"What are the weak spots?", "where is it lagging?": the figures where the Midlands is
    behind — below the national figure, and its smallest shares of the UK total."""
    facts, out = ctx.facts, ctx.out
    behind = [facts.gap(m) or m for m in facts.metrics if "national" not in m.modifiers
              and facts.national(m) is not None and facts.way(m) == "down"]
    shares = sorted((m for m in facts.metrics if m.of_uk and m.is_percent and "share" in m.stats
                     and "national" not in m.modifiers), key=lambda m: (m.value, not m.source, m.metric_id))
    figures = behind[:1]
    for m in shares:  # each thing once ("3% of UK FDI capex" is in two places)
        if len(figures) < len(behind[:1]) + CHALLENGE_SHARES and \
                not set(facts.same_concept(m)) & set(figures):
            figures.append(m)
    out.add("Where the snapshot's figures show the Midlands behind:")
    for m in figures:
        out.add(f"- {out.figure(m)}")
    said = ctx.extras.get("frustration")  # and in words: what holds firms back
    if said is not None:
        out.add(f"What businesses told the roundtable: {said[0]} [{out.cite_passage(*said)}]")
    return "overview"


def matches(ctx: Ctx) -> str:
    """"Which ones come out at 14% of the UK?": every figure stating that number."""
    q = ctx.frame.numbers[0]
    ctx.out.add(f"The snapshot's figures of {q.written}:")
    for m in ctx.verdict.figures:
        ctx.out.add(f"- {ctx.out.figure(m, also=restated(ctx, m))}")
    return "figures"


PLANNERS: dict[str, Planner] = {
    "lookup": lookup, "compare": compare, "provenance": provenance, "more": more,
    "decline": decline, "challenges": challenges, "matches": matches,
}
