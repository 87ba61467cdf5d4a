"""Read: a user message → a frozen ``Frame`` (what is asked, about what, under which
constraints). Once per turn; nothing is looked up or answered here.

In: cleaned text (``inputs``), the ``Understanding`` data and the intent classifier. Out: a
``Frame``. The message is cut into clauses (sentences, a short lead-in before a colon, and
"… and how/what …" sub-questions); each clause is classified. Greetings, thanks, filler and
injected instructions are set aside when a real question remains; what a clause leaves out
(its measure, its modifier) it borrows from the other clauses of the same message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from chatbot import slots
from chatbot.classify import FALLBACK, IntentModel
from chatbot.frame import Frame
from chatbot.text import STOPWORDS, canonical, proper_names, quantities, stem, words, year_ranges
from chatbot.tuning import ASKING_INTENTS, LEAD_WORDS, SHORT_CLAUSE, STORY_WORDS, TOPIC_DF, UNREADABLE
from chatbot.understanding import CONTENT, Understanding

#: Intents that do not ask anything of the snapshot on their own ("who published this?" does).
ASIDE = ("chat.greeting", "chat.thanks", "chat.bye", "chat.help", "filler", "injection")
# HTML in a question is markup, not words (a script's body included); a link is not a question
_TAG_RE = re.compile(r"<(script|style)\b.{0,2000}?</\1\s*>|<[^>]{0,200}>|\b(?:https?://|www\.)\S+",
                     re.I | re.S)
# a sentence ends at . ! ? (not the "No." of "No. of spinouts", nor "vs.") or a line break
_SENTENCE_RE = re.compile(r"(?<=[.!?])(?<!\b[Nn][Oo]\.)(?<!\b[Vv][Ss]\.)\s+|(?<=[?!])(?=[A-Z])|\n+")
_LEAD_RE = re.compile(r"^\s*([^:?]{1,40}):\s+(?=\S)")  # "Quick question: …"
# "… and how many …", "…, but anyway what …" start a sub-question; "… but are not HQ'd" goes on
_SUBQ_RE = re.compile(r",?\s+(?:and|also|but(?:\s+[a-z]+,?)?)\s+(?=(?:how|what|which|where|who|when|why|is|"
                      r"are|does|did)\b(?!\s+not\b))", re.I)
_ACRONYM_RE = re.compile(r"\b[A-Z][A-Z&]{1,5}s?\b")
#: Operations a clause that names nothing passes on to the next ("Confirm: …", "Source? …").
SETS_UP = ("verify", "provenance", "compare", "derive", "define", "overview")
#: Vocabulary categories that ask for a number ("the [population] of", "the [value] of").


class Reader:
    """Reads messages with one understanding and one classifier."""

    def __init__(self, understanding: Understanding, model: IntentModel,
                 documents: list[str] | None = None, corpus_df: dict[str, float] | None = None,
                 terms: frozenset[str] = frozenset(), sources: frozenset[str] = frozenset()) -> None:
        self.u = understanding
        self.sources = sources  # words of the figures' sources: "Beauhurst 2022" names, not dates
        self.terms = terms  # abbreviations the snapshot spells out ("OLS"), in any case
        self.model = model
        self.documents = documents or []
        # Words many intents use say how something is asked, not what about — unless the
        # snapshot uses them in a few passages only (then they name a topic: "universities").
        uses: Counter[str] = Counter()
        for examples in understanding.intents.values():
            uses.update({stem(w) for e in examples for w in understanding.tokens(e)})
        df = corpus_df or {}
        self.asking = frozenset(w for w, n in uses.items()
                                if n >= ASKING_INTENTS and not 0 < df.get(w, 0) < TOPIC_DF)

    def read(self, text: str) -> Frame:
        text = canonical(_TAG_RE.sub(" ", text))
        if not text.isupper():  # "US-owned" is the USA; "us" (and "US" in a shouted message) is not
            for short, full in self.u.cased.items():
                text = re.sub(rf"\b{re.escape(short)}\b", full, text)
        if found := self.u.gloss(text):  # "¿Cuántos proyectos …?": read word by word in English
            language, english = found
            return replace(self._read(english), glossed=f"{language.title()}: {english}")
        return self._read(text)

    def _read(self, text: str) -> Frame:
        clauses = self._clauses(text)
        polite = [c for c in clauses if self._all_courtesy(c)]
        rest = [c for c in clauses if c not in polite]
        if polite and not any(w not in STOPWORDS for c in rest for w in words(c)):
            clauses = polite  # "hello there": nothing but courtesy
        elif rest:  # "Hi! … Thanks": the courtesies go, the question stays
            clauses = rest
        frames = [self._clause(c) for c in clauses] or [self._clause(text)]
        if polite and clauses == polite:  # only courtesies: the first one's kind says which
            kind = next((f for f in frames if f.op == "chat"), None)
            frames = [replace(f, op="chat", chat=kind.chat if kind else "greeting") for f in frames]
        frames = _confirmed(frames)
        asking = [f for f in frames if not _aside(f)]
        asked = next((i for i, f in enumerate(asking) if _asks(f) and f.measures), None)
        if asked:  # "so i was at this event in Leicester … , but anyway what i want to know is …":
            asking = [f for i, f in enumerate(asking) if i >= asked or _asks(f) or f.numbers  # a story
                      or f.direction or f.conflict or len(f.tokens) <= STORY_WORDS]  # told first is set aside
        asking = [f for f in asking if f.readable] or asking  # "=cmd|' /C calc'! What is …?"
        aside = tuple(f.op if f.op != "chat" else "chat." + f.chat for f in frames if f not in asking)
        injected = any(f.op == "injection" for f in frames)
        if not asking:
            lead = max(frames, key=lambda f: (f.op == "injection", f.op == "chat", f.confidence))
            if lead.op == "injection" and (lead.measures or lead.stats):
                asking = [replace(lead, op="lookup", numbers=())]  # the question inside it
            elif lead.op == "filler" and lead.measures:
                asking = [replace(lead, op="lookup")]
            elif lead.op in ("filler", "fallback") and not lead.content:
                return replace(lead, op="chat", chat="help", aside=aside, injected=injected,
                               clauses=tuple(clauses))  # nothing asked: say what the bot can do
            else:
                return replace(lead, aside=aside, injected=injected, clauses=tuple(clauses))
        folded: list[Frame] = []
        for f in asking:  # a fragment ("I've seen different numbers") continues the clause before
            if folded and folded[-1].op != "chat" and (_empty(folded[-1]) or _label(folded[-1])):
                lead = folded.pop()  # "Check this: …" sets up what follows; "venture: £26.8m across
                # 62 deals?" names its topic; "who put this out" (chat) stands on its own
                f = replace(_merge([f, lead]), op=lead.op if lead.op in SETS_UP and _empty(lead) else f.op)
            if folded and (f.elliptical and not (f.stats or f.modifiers or f.derive)
                           or _empty(f) and not _asks(f) or _restates(f, folded[-1])):
                # "… I'm seeing both in the snapshot.", "How many …? Need the count."
                folded[-1] = _merge([folded[-1], f])
            elif folded and folded[-1].conflict and not _asks(folded[-1]) and _asks(f):
                folded[-1] = _merge([f, folded[-1]])  # "one page says 5,500, elsewhere …. How many?"
            else:
                folded.append(f)
        # what is left out is borrowed from the message's other clauses — not from a persona ("I'm
        # putting together a pitch for investors"), yes from "say there are 900 businesses. How many?"
        told = [g for g in frames if not _aside(g) or g.op == "injection" or g.numbers]
        asking = [_borrow(f, told) for f in folded]
        head = asking[0] if len(asking) == 1 else _merge(asking)
        return replace(head, aside=aside, injected=injected, clauses=tuple(clauses),
                       parts=tuple(asking) if len(asking) > 1 else ())

    def _stat_noun(self, tag, tags, stems: list[str]) -> bool:
        """Is a defining phrase's first word the noun of a measure ("the project [count as] a
        share", not "what [counts as] a spinout")?"""
        return any(t.category == "measures" and t.end == tag.start for t in tags) and \
            bool(self.u.tag(stems[tag.start:tag.start + 1], frozenset({"stats"})))

    def _readable(self, toks: list[str], text: str) -> bool:
        """Are most words English or the snapshot's (a question in another language is not:
        a word written with accents counts as foreign even when mended to an English one)?"""
        alpha = [t for t in toks if t.isalpha()]
        accented = [w for w in words(text) if not w.isascii() and w.isalpha()]
        foreign = [t for t in alpha if not self.u.knows(t) and t not in self.u.corrector.lexicon
                   and t not in accented] + accented
        return len(foreign) <= UNREADABLE * max(1, len(alpha))

    def _clauses(self, text: str) -> list[str]:
        out: list[str] = []
        for sentence in _SENTENCE_RE.split(text):
            polite = self._courtesies(sentence)  # "Please, journalist on deadline: …"
            if len(polite) > 1 and self._all_courtesy(polite[0]):
                out.append(polite[0])
                sentence = sentence[len(polite[0]):].lstrip(" ,")
            while (lead := _LEAD_RE.match(sentence)) and len(lead.group(1).split()) <= LEAD_WORDS:
                out.append(lead.group(1))  # "Quick question: VC analyst question: …"
                sentence = sentence[lead.end():]
            for part in _SUBQ_RE.split(sentence):
                out.extend(self._courtesies(part))
        return [c.strip() for c in out if re.search(r"\w", c)]

    def _all_courtesy(self, clause: str) -> bool:
        toks = words(clause)
        lead, trail = self.u.courtesy_split(toks)
        return bool(toks) and lead + trail >= len(toks)

    def _courtesies(self, text: str) -> list[str]:
        """A clause with its courtesies ("Hi", "thanks", "can you tell me") split off."""
        raw = text.split()
        toks = [words(w) for w in raw]
        flat = [t for ws in toks for t in ws]
        lead, trail = self.u.courtesy_split(flat)
        if lead + trail == 0 or lead + trail >= len(flat):
            return [text]
        # map token counts back onto the raw words (each raw word holds len(words(w)) tokens)
        cut_lead = cut_trail = 0
        count = 0
        while cut_lead < len(raw) and count + len(toks[cut_lead]) <= lead:
            count += len(toks[cut_lead])
            cut_lead += 1
        count = 0
        while cut_trail < len(raw) - cut_lead and count + len(toks[-1 - cut_trail]) <= trail:
            count += len(toks[-1 - cut_trail])
            cut_trail += 1
        parts = [" ".join(raw[:cut_lead]), " ".join(raw[cut_lead:len(raw) - cut_trail]),
                 " ".join(raw[len(raw) - cut_trail:])]
        return [p for p in parts if p.strip()]

    def _clause(self, text: str) -> Frame:
        toks = self.u.tokens(text)
        stems = [stem(t) for t in toks]
        tags = self.u.tag(stems)
        by: dict[str, set[str]] = {}
        tagged: set[int] = set()
        named = {t.start: t for t in tags if t.category in ("measures", "modifiers")}
        opens = {p.split()[0].lower() for p in slots.PARTS_RE.split(text)[1:] if p.split()}
        negated = next((i for i, s in enumerate(stems) if s == "not" and "not" in opens  # ", not FE"
                        and i > 0 and i + 1 in named), len(toks))
        cut = next((t.start for t in tags if t.category == "exclusion" and t.start > 0), negated)
        kept = any(t.category == "measures" and t.end <= cut for t in tags)
        aside: set[str] = set()
        for t in tags:
            if t.start > cut and (t.category == "modifiers" or t.category == "measures" and kept):
                aside.add(t.concept)  # "venture deals, ex seed", "the HE number only, not FE":
                continue  # what is set aside is not asked for
            by.setdefault(t.category, set()).add(t.concept)
            tagged.update(range(t.start, t.end))
        ranges = tuple(year_ranges(text))
        in_range = {str(y)[-2:] for r in ranges for y in r} | {str(y) for r in ranges for y in r}
        # stray words before the question proper that name nothing ("=CENTER what is …",
        # "=A QUARTER how many …") say nothing, and claim nothing
        at = slots.opening(toks, tags)
        begin = at if not any(t.start < at and t.category in CONTENT for t in tags) else 0
        pieces = slots.PARTS_RE.split(text)
        parts = [(p, pt[0]) for p in pieces  # the parts that ask: their opening
                 if slots.wh_question(pt := self.u.tokens(" ".join(p.split()[:2])), p)]
        pred = self.model.predict(" ".join(toks) or text)  # typos and shorthand already mended
        asks_at = text.find(parts[0][0]) if parts and parts[0][0] != pieces[0] else 0
        if not pred.confident and asks_at > 0:  # unsure of the whole: the asking part's operation
            pred = self.model.predict(" ".join(self.u.tokens(text[asks_at:])))  # ("Apart from B, which …")
        intent = pred.intent if pred.intent != FALLBACK else FALLBACK
        op, chat = (("chat", intent.split(".", 1)[1]) if intent.startswith("chat.") else (intent, ""))
        brief = [t for t in tags if t.category == "brief"]
        if brief and not any(s not in STOPWORDS and s not in self.u.courtesy_words and not any(
                t.start <= i < t.end for t in brief) for i, s in enumerate(stems)):
            op, chat = "filler", ""  # "keep it short pls" asks nothing of its own
        found = re.search(rf"\b{re.escape(toks[begin])}\b", text, re.I) if begin else None
        cut = found.start() if found else 0
        nums = [slots.noun(q, toks, tags, text, self.u.joins) for q in quantities(text)
                if not q.is_year and q.start >= cut
                and not (q.unit == "count" and q.written.strip() in in_range)
                and stems[:1] != ["not"]]  # "not 'over 200', the actual #" sets a figure aside
        yrs = tuple(int(q.value) for q in quantities(text) if q.is_year and not (
            (before := words(text[:q.start])) and before[-1] in self.sources))  # not "Beauhurst 2022"
        content = tuple(s for s in stems[begin:] if s not in self.asking and s not in STOPWORDS
                        and not s.isdigit() and len(s) > 1)
        content += tuple(stem(t.concept) for t in tags if t.category == "topics")
        unknown = tuple(t for t in toks if t.isalpha() and len(t) > 2 and not self.u.knows(t))
        acronyms = tuple(a.rstrip("s") if a[:-1].isupper() and a.endswith("s") else a
                         for a in _ACRONYM_RE.findall(text[cut:])) if not text.isupper() else ()
        acronyms += tuple(dict.fromkeys(t.upper() for t in toks
                                        if t.upper() in self.terms and t.upper() not in acronyms))
        low = text.lower()
        docs = tuple(d for d in self.documents if d.split(" — ")[0].lower() in low)
        measures = frozenset(by.get("measures", ()))
        asked, asked_measure, phrase, value_ask = slots.asked(toks, tags)
        head = slots.heads(toks, tags, slots.AMOUNTS)  # "GVA per head?", "value of …"
        if head is not None and head.category == "quantities" and not asked:
            phrase = tuple(toks[head.start:head.end])
            asked, asked_measure = phrase[-1], False
        unheard = [toks[t.start] for t in tags if t.category == "quantities"
                   and stem(toks[t.start]) not in self.u.corpus_stems]
        if unheard:  # "what's the [median] salary": a quantity the snapshot never gives
            asked, asked_measure, phrase, value_ask = unheard[0], False, (unheard[0],), True
        elliptical = not measures and (len(toks) <= SHORT_CLAUSE or bool(by.get("references")))
        return Frame(
            text=text, op=op, chat=chat, confidence=pred.probability, tokens=tuple(toks),
            stems=tuple(stems), measures=measures,
            modifiers=frozenset(by.get("modifiers", ())), stats=frozenset(by.get("stats", ())),
            # a gap in money is a difference: the snapshot states gaps in per cent ("pay gap in £?")
            derive=frozenset(by.get("derive", ())) | (
                {"difference"} if {"gap", "money"} <= set(by.get("stats", ())) else set()),
            breakdown=bool(by.get("breakdowns")),
            places=frozenset(by.get("places", ())), numbers=tuple(nums), years=yrs, ranges=ranges,
            acronyms=acronyms, names=tuple(proper_names(text)), content=content,
            unknown=unknown, documents=docs, elliptical=elliptical,
            # the way a claim says a figure goes; words before the question proper are not it
            direction=next(iter(sorted(t.concept for t in tags if t.category == "direction"
                                       and t.start >= slots.opening(toks, tags))), ""),
            joined=slots.joined(toks, tags),
            refers=bool(by.get("references")), conflict=bool(by.get("conflicts")),
            asked=asked, asked_known=len(asked) < 3 or asked_measure or any(
                stem(t) in self.u.corpus_stems for t in phrase),
            value_ask=value_ask or head is not None or any(  # "how much does the NHS spend …"
                t.category == "stats" and t.concept == "money" and t.start == 0 for t in tags),
            wh=bool(parts) or any(t.category == "requests" and t.start == 0 for t in tags),
            questions=tuple(p.lower() for p, first in parts if first != "why"),
            readable=self._readable(toks, text),
            defining=any(t.category == "defining" and t.start >= begin and not self._stat_noun(
                t, tags, stems) for t in tags),
            compares=bool(by.get("comparison")), outside=bool(by.get("outside")),
            lead=next((t.concept for t in tags if t.category == "measures"), ""),
            first_modifier=next((t.concept for t in tags if t.category == "modifiers"), ""),
            compound=slots.compound(tags), tabulate=bool(by.get("figure_words")),
            excludes=bool(by.get("exclusion")),
            set_aside=frozenset(aside - by.get("measures", set()) - by.get("modifiers", set())),
            extreme=min(by.get("extremes", ()), default=""),
            currency=bool({"pounds", "dollars", "gbp", "usd"} & set(toks))
            or bool(re.search(r"(?:^|\s)[£$](?=\s+[a-z]|[\s?.!,]*$)", low))  # "in £?", "£ raised"
            or any(q.unit in ("GBP", "USD") for q in nums))


def _aside(f: Frame) -> bool:
    """A clause that asks nothing: a courtesy, filler, an injection, or "VC analyst here"."""
    intent = f"chat.{f.chat}" if f.op == "chat" else f.op
    persona = 1 < len(f.tokens) <= 4 and f.tokens[-1] == "here" and not f.numbers
    return intent.startswith(ASIDE) or persona


def _empty(f: Frame) -> bool:
    """Does the clause name nothing to look for (no number, measure, place or kind of number)?"""
    return not (f.numbers or f.measures or f.modifiers or f.stats or f.derive or f.places
                or f.acronyms or f.names)


def _label(f: Frame) -> bool:
    """A few words that name a topic and ask nothing ("venture:", "Grad retention:")."""
    return not (_asks(f) or f.numbers or f.derive or f.compares) and len(f.tokens) <= LEAD_WORDS


def _confirmed(frames: list[Frame]) -> list[Frame]:
    """"8 firms, 11% of the UK. Right?": a bare "right?" after a statement of numbers makes it
    a claim to check, and goes."""
    out: list[Frame] = []
    for f in frames:
        before = out[-1] if out else None
        if before is not None and _empty(f) and f.text.rstrip().endswith("?") and not f.wh and \
                before.numbers and not _asks(before) and len(f.tokens) <= LEAD_WORDS:
            out[-1] = replace(before, op="verify", text=f"{before.text} {f.text}",
                              conflict=before.conflict or f.conflict)  # "… Conflict?"
            continue
        out.append(f)
    return out


def _asks(f: Frame) -> bool:
    """Is the clause a question (rather than a statement that sets one up)?"""
    return f.wh or f.text.rstrip().endswith("?")


def _restates(f: Frame, before: Frame) -> bool:
    """Does a clause without a question word only say again what the clause before asks
    ("Need the count." after "How many …?")?"""
    return not _asks(f) and _asks(before) and before.op != "chat" and bool(f.stats) and \
        f.stats <= before.stats and f.measures <= before.measures and f.modifiers <= before.modifiers and \
        not (f.numbers or f.derive or f.direction or f.places - before.places or f.years)


def _borrow(f: Frame, frames: list[Frame]) -> Frame:
    """A clause without a measure or modifier takes them from its message's other clauses; a
    modifier only from a clause with a measure of its own (not "…, and what is the national
    average?", which leans on this clause and is its contrast)."""
    others = [g for g in frames if g is not f]
    if not others:
        return f
    measures = f.measures or frozenset().union(*(g.measures for g in others))
    modifiers = f.modifiers or frozenset().union(*(g.modifiers for g in others
                                                   if g.op != "chat" and g.measures))
    if measures == f.measures and modifiers == f.modifiers:
        return f
    return replace(f, measures=measures, modifiers=modifiers,
                   elliptical=f.elliptical and not measures)


def _merge(frames: list[Frame]) -> Frame:
    """One frame for several asking clauses: the first one's intent, every clause's slots."""
    head = frames[0]

    def union(attr: str) -> frozenset:
        return frozenset().union(*(getattr(f, attr) for f in frames))

    return replace(
        head, text=" ".join(f.text for f in frames), measures=union("measures"),
        modifiers=union("modifiers"), stats=union("stats"), derive=union("derive"),
        places=union("places"), breakdown=any(f.breakdown for f in frames),
        numbers=tuple(q for f in frames for q in f.numbers),
        years=tuple(y for f in frames for y in f.years),
        ranges=tuple(r for f in frames for r in f.ranges),
        acronyms=tuple(a for f in frames for a in f.acronyms),
        names=tuple(n for f in frames for n in f.names),
        content=tuple(c for f in frames for c in f.content),
        unknown=tuple(u for f in frames for u in f.unknown),
        tokens=tuple(t for f in frames for t in f.tokens),
        stems=tuple(s for f in frames for s in f.stems),
        elliptical=all(f.elliptical for f in frames),
        direction=next((f.direction for f in frames if f.direction), ""),
        joined=True, compares=any(f.compares for f in frames), outside=any(f.outside for f in frames),
        conflict=any(f.conflict for f in frames), excludes=any(f.excludes for f in frames),
        set_aside=frozenset().union(*(f.set_aside for f in frames)),
        tabulate=any(f.tabulate for f in frames),
        value_ask=any(f.value_ask for f in frames), wh=frames[0].wh,
        questions=tuple(q for f in frames for q in f.questions),
        readable=all(f.readable for f in frames), defining=any(f.defining for f in frames),
        currency=any(f.currency for f in frames))
