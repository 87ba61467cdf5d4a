"""Narrate: planners that answer in the snapshot's sentences — lists, "which of those",
explanations, overviews, highlights — and chat (definitions: ``terms``).

In: a ``Ctx`` (see ``plan``) with ranked passages; ``extras`` carries the glossary, the section
names and the document title. Out: lines in the composer. Passages are quoted word for word;
figures named in an overview come from the figures table.
"""

from __future__ import annotations

import re
from dataclasses import replace

from chatbot.claims import dated
from chatbot.compose import sentence
from chatbot.frame import SETTING
from chatbot.plan import Ctx, decline, lookup
from chatbot.plan import context as panel_context
from chatbot.resolve import Passage
from chatbot.terms import define as _define
from chatbot.text import STOPWORDS, sentences, stem, words
from chatbot.tuning import (
    ALSO_SHARE,
    LIST_COVERAGE,
    MAX_SENTENCES,
    OVERVIEW_FIGURES,
    TOPIC_COVERAGE,
)


def _items(text: str, kind: str = "list", figures: tuple[str, ...] = ()) -> list[str]:
    """The items of a listing panel ("Label: a; b; c"), each ending where a figure the panel
    states begins ("Leicester | 4 universities high ranked"); a sentence is one item."""
    if kind != "list":
        return [text.strip()]
    body = text.split(":", 1)[1] if ":" in text.split(";")[0] else text
    for quote in figures:
        at = body.find(quote[:30]) if len(quote) >= 8 else -1
        body = body[:at] if at > 0 else body
    parts = [p.strip(" .") for p in body.split(";") if p.strip(" .")]
    return parts if len(parts) > 1 else [text.strip()]


def _panel_figures(ctx: Ctx, chunk) -> tuple[str, ...]:
    """The quotes of the figures a passage states."""
    return tuple(ctx.facts.by_id[i].quote for i, c in ctx.out.chunk_of.items()
                 if c.chunk_id == chunk.chunk_id and i in ctx.facts.by_id)


def _relevant(ctx: Ctx, kinds: tuple[str, ...] = (), spread: float = 0.25) -> list[Passage]:
    ps = [p for p in ctx.verdict.passages if not kinds or p.chunk.kind in kinds]
    if not ps:
        return []
    best = ps[0]
    return [p for p in ps if p.score >= best.score - spread and p.coverage >= 0.8 * best.coverage]


def listing(ctx: Ctx) -> str:
    rest = set(ctx.frame.content) - {"source"}
    named = [p for p in ctx.verdict.passages[:2] if p.chunk.kind in ("list", "prose")
             and len(rest & (said := {stem(w) for w in words(p.text)})) >= 2 and "source" not in said]
    if "source" in ctx.frame.content and not named:  # not "the top source countries" a passage lists
        return sources(ctx)
    best = _relevant(ctx)
    if not best:
        return lookup(ctx) if ctx.verdict.figures else decline(ctx)
    ps = [p for p in best if p.chunk.kind in ("list", "prose")]
    if not ps:  # a figure panel is not a list of names
        return decline(ctx)
    out = ctx.out
    panels = [p for p in ps if len(_items(p.text, p.chunk.kind)) > 1][:2]  # two lists alike: both
    for lead in panels:
        n = out.cite_passage(lead.text, lead.chunk)
        label = lead.text.split(":", 1)[0]
        items = _items(lead.text, lead.chunk.kind, _panel_figures(ctx, lead.chunk))
        out.add(f"The snapshot lists these under “{label}” [{n}]:")
        out.add("\n".join(f"- {i}" for i in items))
        out.items.extend(items)
    if panels:
        return "list"
    section = ps[0].chunk.section  # every item of that section the question touches
    kind = ps[0].chunk.kind
    items = [p for p in ctx.verdict.passages if p.chunk.section == section and p.chunk.kind == kind
             and p.coverage >= ps[0].coverage / 2][:6]
    tags, cut = _exclusion(ctx)  # "… rather than the Midlands Engine Partnership": not that heading
    if cut < len(ctx.frame.tokens):
        aside = {stem(t) for t in ctx.frame.tokens[cut:]} - STOPWORDS
        heads = {h for h in map(_heading, (p.chunk for p in items))
                 if len(aside & {stem(w) for w in words(h)}) < 2}
        kept = [Passage(c.quote, c, 0.0, 0.0) for c in ctx.out.chunks if c.section == section
                and c.kind == kind and _heading(c) in heads]  # every item under the headings kept
        items = kept or items
    said = ""
    for p in sorted(items, key=lambda p: p.chunk.start):
        heading = _heading(p.chunk)
        if heading and heading != said:  # "Recommendations for UK policy:" before its items
            out.add(f"{heading}:")
            said = heading
        n = out.cite_passage(p.text, p.chunk, heading)
        out.add(f"- {p.text} [{n}]")
        out.items.append(p.text)
    return "list"


def _exclusion(ctx: Ctx) -> tuple[list, int]:
    """The question's vocabulary tags, and where what it sets aside begins ("rather than …";
    the number of tokens when it sets nothing aside)."""
    tags = ctx.facts.understanding.tag([stem(t) for t in ctx.frame.tokens])
    cut = next((t.start for t in tags if t.category == "exclusion" and t.start > 0), len(ctx.frame.tokens))
    return tags, cut


def _heading(chunk) -> str:
    """The heading a list item sits under, as the snapshot writes it ("Recommendations for UK
    policy"), from the chunk's indexed text (section, heading, then the item)."""
    head = chunk.text[:chunk.text.find(chunk.quote[:30])] if chunk.quote[:30] in chunk.text else ""
    head = head.removeprefix(chunk.section + ".").strip().rstrip(":").strip()
    return head if 0 < len(head) <= 80 else ""


def filtering(ctx: Ctx) -> str:
    """The items of the last list that the follow-up picks: by place, by a word they share
    ("the money one" → Finance), by position ("the second one") or by another list."""
    items = list(ctx.context.items)
    if not items and ctx.context.figures:  # "only the jobs ones": the last figures, narrowed
        figs = [ctx.facts.by_id[i] for i in ctx.context.figures if i in ctx.facts.by_id]
        keep = [m for m in figs if m.measures & f.measures] if (f := ctx.frame).measures else []
        if f.numbers:  # "which of those are 15% or more of the UK total?": a bound on each
            keep = _bounded(ctx, keep or figs, f.numbers[0], f.direction != "down")
            if not keep:
                bound = "at most " if f.direction == "down" else "at least "
                ctx.out.add(f"None of those figures is {bound}{f.numbers[0].written}.")
                return "figures"
        for m in keep or figs:
            ctx.out.add(ctx.out.figure(m))
        return "figures"
    if not items:
        return listing(ctx)
    f = ctx.frame
    u = ctx.facts.understanding
    keep = [items[n - 1 if n > 0 else n] for t in f.tokens
            if (n := u.ordinals.get(t)) and abs(n) <= len(items)]
    heads = {i: next((_heading(c) for c in ctx.out.chunks if c.kind == "list" and c.quote.startswith(i[:40])),
                     "") for i in items}
    full = {i: f"{i} {heads[i]}" for i in items}  # an item with the heading it sits under
    shared = {w for w in _item_words(list(full.values()))
              if sum(w in _item_words([x]) for x in full.values()) * 2 > len(items)}
    tags, cut = _exclusion(ctx)  # "… rather than the Midlands Engine": not those words
    asked = {stem(t) for t in f.tokens[:cut]} | {t.concept for t in tags if t.category == "topics"
                                                  and t.start < cut}
    others = {_heading(c) for c in ctx.out.chunks if c.kind == "list"} - set(heads.values()) - {""}
    mine = _item_words([h for h in heads.values() if h])
    if not keep and not set(f.places) - {"midlands"} and \
            any((asked - STOPWORDS - mine) & _item_words([h]) for h in others):
        return listing(ctx)  # "and for national policy?": another list's heading, not a filter
    want = (asked - STOPWORDS) & (_item_words(list(full.values())) - shared)
    by_head = [i for i in items if want & _item_words([heads[i]])]  # a group the question names
    keep = keep or (by_head if len(by_head) < len(items) else [])
    places = set(f.places) - {"midlands"}
    corpus = ctx.extras.get("corpus_text", "")
    other = [p for p in ctx.verdict.passages[:3] if p.coverage >= LIST_COVERAGE
             and not all(i in p.text for i in items)]  # another passage, not the list itself
    said_by: list[Passage] = []
    if not keep and other and not places:  # "which of those also …": the items another list shares
        also = {stem(w) for p in other for w in words(p.text)}
        keep = [i for i in items if (own := _item_words([i]) - STOPWORDS - {"university"})
                and len(own & also) >= ALSO_SHARE * len(own)]  # "Birmingham Health Campus" too
        said_by = [p for p in other if any(_item_words([i]) & _item_words([p.text]) for i in keep)]
    for item in items if not keep else []:
        windows = [_around(corpus, m.start(), m.end()) for m in re.finditer(re.escape(item), corpus)] \
            or [item.lower()]
        if places and any(p in w for p in places for w in windows) or \
                not places and want and want & {stem(w) for w in words(full[item])}:
            keep.append(item)
    out = ctx.out
    source = _source_of(ctx, keep or items)
    refs = [out.cite_passage(source.quote, source)] if source is not None else []
    refs += [out.cite_passage(p.text, p.chunk) for p in said_by]  # where the match is said
    placed = [(s, c) for c in out.chunks if c is not source for s in sentences(c.quote) if any(
        i in s and p in s.lower() and p not in i.lower()  # "Charnwood Campus, Leicestershire":
        for i in keep for p in places)]  # the sentence that places an item
    refs += [out.cite_passage(s, c) for s, c in placed[:1]]
    ref = "".join(f" [{n}]" for n in dict.fromkeys(refs))
    if not keep:
        out.add(f"None of those match{ref}. They were: " + "; ".join(items) + ".")
        return "list"
    out.add(f"Of those, this one matches{ref}:" if len(keep) == 1 else f"Of those, these match{ref}:")
    out.add("\n".join(f"- {i}" for i in keep))
    out.items.extend(keep)
    return "list"


def _bounded(ctx: Ctx, figs, q, up: bool) -> list:
    """The figures at or beyond a bound; a percentage bound on counts or money reads each
    figure's share of the UK total (the share is listed with it)."""
    out = []
    for m in figs:
        shares = ctx.facts.shares(m) if q.unit == "percent" and not m.is_percent else ()
        v = shares[0].value if shares else m.value if (q.unit == "percent") == m.is_percent else None
        if v is not None and (v >= q.value if up else v <= q.value):
            out += [m, *shares[:1]]
    return out


def _around(corpus: str, start: int, end: int) -> str:
    """An item where the snapshot names it, with what it says right after it up to the next
    item ("Medilink (Nottingham);"), never its neighbours in the list."""
    after = corpus[end:end + 40]
    cut = min((i for i in (after.find(";"), after.find("\n")) if i >= 0), default=len(after))
    return corpus[start:end + cut].lower()


def _source_of(ctx: Ctx, items: list[str]):
    """The passage the items were quoted from."""
    return next((c for c in ctx.out.chunks if all(i in c.quote for i in items)), None)


def _provider(name: str) -> bool:
    """Does a footnote name a data provider ("Wavteq 2022"), not define ("20%+ growth …")?"""
    ws = [w for w in re.findall(r"[A-Za-z][\w']*", name) if w.lower() not in ("and", "for", "of", "the")]
    caps = [w for w in ws if w[0].isupper()]
    return bool(ws) and len(caps) * 2 >= len(ws) and not re.search(r"[%>]", name)


def sources(ctx: Ctx) -> str:
    """The data sources the snapshot's footnotes name, each with a footnote that names it."""
    out = ctx.out
    seen: dict[str, object] = {}
    for c in sorted(out.chunks, key=lambda c: c.start):
        named = _provider(c.source)
        if c.kind == "footnote" and named and c.source not in seen:
            seen[c.source] = c
    out.add("The snapshot's footnotes name these data sources:")
    for name, chunk in seen.items():
        out.add(f"- {name} [{out.cite_passage(chunk.quote, chunk)}]")
    return "list"


def _item_words(items: list[str]) -> set[str]:
    return {stem(w) for i in items for w in words(i)}


def explain(ctx: Ctx) -> str:
    ps = [p for p in _relevant(ctx, spread=0.15)[:MAX_SENTENCES]]
    if not ps:
        return lookup(ctx) if ctx.verdict.figures else decline(ctx)
    top, said = ps[0].chunk, sentences(ps[0].chunk.quote)
    if top.kind == "prose" and (said[:1] == [ps[0].text] and {stem(w) for w in words(top.section)}
                                & set(ctx.frame.content) or 1 < len(said) <= MAX_SENTENCES):
        # a question naming a paragraph's heading that lands on its opening, or one landing in a
        # short paragraph ("what's going on with North Lincolnshire?"), gets the paragraph
        ps = [replace(ps[0], text=" ".join(said[:MAX_SENTENCES]))] + \
            [p for p in ps[1:] if p.chunk is not top][:MAX_SENTENCES - min(len(said), MAX_SENTENCES)]
    if len(ps) > 1 and all(p.chunk.kind == "list" for p in ps):  # "what does it recommend?"
        return listing(ctx)  # items of a list: every one the question touches, in order
    ps += _reasons(ctx, ps)[:MAX_SENTENCES - len(ps) + 1]
    out = ctx.out
    for p in sorted(ps, key=lambda p: (p.chunk.start, p.chunk.quote.find(p.text), p.text)):
        out.add(f"{p.text} [{out.cite_passage(p.text, p.chunk)}]")
    return "prose"


def _reasons(ctx: Ctx, ps: list[Passage]) -> list[Passage]:
    """For a why-question, the sentences of the same paragraphs that give a reason ("… is
    likely due to the method for allocating jobs …") the chosen ones do not already give."""
    u = ctx.facts.understanding
    tags = u.tag(list(ctx.frame.stems))
    if not any(t.category == "asks_reason" for t in tags):
        return []
    shown = {p.text for p in ps}
    out = []
    for p in ps:  # the paragraph may run over several chunks of its section
        for chunk in [c for c in ctx.out.chunks if c.section == p.chunk.section and c.kind == "prose"]:
            for text in sentences(chunk.quote):
                cue = any(t.category == "reasons" for t in u.tag([stem(w) for w in words(text)]))
                if cue and text not in shown and not any(q.text in text or text in q.text for q in ps):
                    shown.add(text)
                    out.append(replace(p, text=text, chunk=chunk))
    return out


def overview(ctx: Ctx) -> str:
    out = ctx.out
    facts = ctx.facts
    section = _section(ctx)
    figs = [m for m in facts.metrics if m.section == section and m.kind in ("figure", "table_row")] \
        if section else []
    if section and not figs:  # a section of words ("sum up the roundtable"): what it says, in order
        out.add(f"What the snapshot's {section} section says:")
        said = ""
        for c in sorted((c for c in out.chunks if c.section == section and c.kind in ("prose", "list")),
                        key=lambda c: c.start)[:OVERVIEW_FIGURES]:
            heading = _heading(c) if c.kind == "list" else ""
            if heading and heading != said:
                out.add(f"{heading}:")
                said = heading
            out.add(f"- {c.quote} [{out.cite_passage(c.quote, c, heading)}]")
        return "overview"
    if section:
        return _in_figures(ctx, f"The {section} in figures:", figs)
    mods = ctx.frame.modifiers if ctx.frame.tabulate else frozenset()  # "… the FDI figures"
    faceted = [m for m in facts.metrics if mods and mods <= m.modifiers and m.kind != "date"
               and not ctx.frame.measures - SETTING]
    if faceted:  # "an overview of the FDI figures": every figure of that kind
        named = " and ".join(a for a in ctx.frame.acronyms if a.lower() in mods) or " and ".join(sorted(mods))
        return _in_figures(ctx, f"The snapshot's {named} figures:", faceted)
    # a topic beyond the snapshot's own subject ("the recommendations", not "the health cluster")
    subject = {stem(w) for w in words(ctx.extras.get("title", ""))} | \
        {w for p in ctx.frame.places for key in facts.understanding.phrases_of("places", p) for w in key}
    known = {stem(w) for c in ctx.out.chunks for w in words(c.text)}
    telling = [c for c in ctx.frame.content if c not in subject and c in known]
    topical = [p for p in ctx.verdict.passages if p.coverage >= TOPIC_COVERAGE] if telling else []
    if topical:  # "an overview of the recommendations": the passages on that topic
        return listing(ctx) if any(p.chunk.kind == "list" for p in topical[:2]) else explain(ctx)
    intro = sorted((c for c in out.chunks if c.section == "Introduction" and c.kind == "prose"),
                   key=lambda c: c.start)
    brief = any(t.category == "brief" for t in facts.understanding.tag(list(ctx.frame.stems)))
    for c in intro[:1] if brief else intro:  # what each paragraph of the introduction opens with
        first = sentences(c.quote)[0] if sentences(c.quote) else c.quote
        out.add(f"{first} [{out.cite_passage(first, c)}]")
    if brief:  # "in a sentence": that one
        return "overview"
    context = sorted((c for c in out.chunks if c.section == "Cluster in context"),
                     key=lambda c: c.start)
    if context:
        out.add("The snapshot's headline figures:")
        for c in context:
            out.add(f"- {c.quote} [{out.cite_passage(c.quote, c)}]")
    return "overview"


def _in_figures(ctx: Ctx, title: str, figs: list) -> str:
    """Figures as a short list under ``title``: each panel's headline first, an FDI figure and
    its DDI twin on one line, at most ``OVERVIEW_FIGURES`` lines in the snapshot's order."""
    out, facts = ctx.out, ctx.facts
    heads = list({m.panel or m.metric_id: m for m in reversed(figs)}.values())[::-1]
    figs = heads + [m for m in figs if m not in heads]
    groups: list[list] = []
    for m in figs:
        if not any(m in g for g in groups):
            twin = facts.counterpart(m)
            groups.append([m] + ([twin] if twin in figs and not any(twin in g for g in groups) else []))
    out.add(title)
    told = ""
    for g in sorted(groups[:OVERVIEW_FIGURES], key=lambda g: facts.position[g[0].metric_id]):
        if all(f"**{m.display}**" in told for m in g):
            continue  # already given with a figure before it ("£107m … 62 seed investments")
        said = " ".join(sentence(m, out.cite_metric(m), tail=panel_context(ctx, m, g)) for m in g)
        out.add("- " + said)
        told += said
    return "overview"


def _section(ctx: Ctx) -> str:
    asked = set(ctx.frame.stems) | set(ctx.frame.content)  # "skills": the talent section
    for name in ctx.extras.get("sections", ()):
        key = {stem(w) for w in words(name)} - {"ecosystem"}
        if key and key <= asked:
            return name
    return ""


def highlights(ctx: Ctx) -> str:
    out = ctx.out
    notes = sorted((c for c in out.chunks if c.section == "Commentary" and c.kind == "list"),
                   key=lambda c: c.start)
    out.add("Some things that stand out in the snapshot:")
    for c in notes:
        out.add(f"- {c.quote} [{out.cite_passage(c.quote, c)}]")
    return "highlights"


def define(ctx: Ctx) -> str:
    return _define(ctx) or explain(ctx)


def chat(ctx: Ctx) -> str:
    kind = ctx.frame.chat or "help"
    title = re.sub(r"\s*\d{4}$", "", ctx.extras.get("title", "the snapshot"))
    out = ctx.out
    subject = ctx.extras.get("subject")  # the snapshot's opening sentence and its chunk
    text = {
        "greeting": f"Hello! I answer questions about the {title}: figures with their sources, "
                    "summaries, comparisons, calculations and checks of claims.",
        "thanks": "You're welcome. Ask me anything else about the snapshot.",
        "bye": "Goodbye. Come back any time with another question about the snapshot.",
        "help": f"I answer questions about the {title} from its own words: a figure with its "
                "source and period, an overview of a section, a comparison (FDI vs DDI), a "
                "calculation (an average per deal), a check of a claim, or what the report "
                "recommends. Every figure comes with a quote you can check.",
    }.get(kind)
    if kind == "about":
        note = ctx.extras.get("about")
        if note is not None:
            quote, chunk = note
            said = dated(ctx.frame, quote)  # "it's current as of December 2022, correct?"
            if said:  # "current as of December 2022?": the verdict, then the data note's words
                out.add(f"{said} — “{quote}” [{out.cite_passage(quote, chunk)}]")
            cover = ctx.extras.get("cover")
            named = f" [{out.cite_passage(*cover)}]" if cover else ""
            topic = "about" in ctx.frame.tokens and not said  # what it is about: how it opens;
            what = f" It opens: “{subject[0]}” [{out.cite_passage(*subject)}]" if subject and topic else ""
            out.add(f"This is the Midlands Engine's {title}{named}.{what}")
            if not (topic or said):  # who, when, how current: its data note
                out.add(f"“{quote}” [{out.cite_passage(quote, chunk)}]")
            return "chat"
        text = f"This is the {title}."
    if kind in ("greeting", "help") and subject:  # what the snapshot is, in its opening words
        text = f"{text} [{out.cite_passage(*subject)}]"
    out.add(text or "Hello!")
    return "chat"


NARRATORS = {"define": define, "list": listing, "filter": filtering, "explain": explain, "overview": overview,
             "sources": sources, "highlights": highlights, "chat": chat}
