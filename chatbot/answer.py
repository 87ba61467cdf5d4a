"""Answer: the pipeline for one turn — read → carry → resolve → verdict → plan → ground.

In: a message and the conversation ``State``. Out: an ``Answer`` (Markdown with [n] markers,
citations quoting the snapshot, ``answered``, ``kind``, ``suggestions``) and the next state.
Data flows one way through the stages; the engine holds only what is built once (the
understanding data, the intent model, the facts, the resolver, the glossary).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from chatbot import glossary
from chatbot.carry import Context, State, Turn, carry
from chatbot.classify import IntentModel
from chatbot.compose import Composer
from chatbot.derive import derive, rank
from chatbot.derive import verify as verify_derived
from chatbot.facts import Facts
from chatbot.frame import Frame
from chatbot.ground import check
from chatbot.inputs import clean_question
from chatbot.narrate import NARRATORS
from chatbot.plan import FRUSTRATION, PLANNERS, Ctx, first_saying
from chatbot.read import Reader
from chatbot.records import Answer, Chunk
from chatbot.resolve import Resolver
from chatbot.suggest import suggest
from chatbot.understanding import Understanding
from chatbot.verdict import decide

log = logging.getLogger("chatbot.answer")

EMPTY_TEXT = "Please ask a question about the snapshot — for example, “What is the average salary?”"
DISPATCH = {**PLANNERS, "derive": derive, "rank": rank, "verify": verify_derived, **NARRATORS}


class Engine:
    """The deterministic answer engine (optionally phrased by a chat model)."""

    def __init__(self, corpus, retriever, *, model: IntentModel, understanding: Understanding,
                 max_chars: int, chat_model=None) -> None:
        self.understanding = understanding
        self.model = model
        self.retriever = retriever
        self.max_chars = max_chars
        self.chat_model = chat_model
        self.facts = Facts(corpus.table.to_dict("records"), understanding)
        self.documents = [s.title for s in corpus.snapshots]
        self.resolver = Resolver(self.facts, corpus.chunks, retriever)
        terms = glossary.build(corpus.chunks)
        self.reader = Reader(understanding, model, self.documents if len(self.documents) > 1 else [],
                             self.resolver.df, frozenset(terms),
                             sources=frozenset(w.lower() for m in self.facts.metrics
                                               for w in m.source.split() if w[:1].isupper()))
        self.extras = {
            "glossary": terms,
            "sections": list(dict.fromkeys(c.section for c in corpus.chunks)),
            "title": corpus.snapshots[0].title if corpus.snapshots else "snapshot",
            "corpus_text": "\n".join(c.quote for c in corpus.chunks),
            "about": _about(corpus.chunks),
            "cover": _cover(corpus.snapshots[0], corpus.chunks) if corpus.snapshots else None,
            "frustration": first_saying(corpus.chunks, FRUSTRATION),  # for weak spots
            "subject": next(((c.quote, c) for c in sorted(corpus.chunks, key=lambda c: c.start)
                             if c.kind == "prose"), None),  # its opening sentence says what it is
        }

    @property
    def multi(self) -> bool:
        return len(self.documents) > 1

    def starter_figures(self, question: str) -> tuple[str, ...]:
        """The figures a starter question is answered with (worked out once)."""
        cache = self.__dict__.setdefault("_starter_figures", {})
        if question not in cache:
            cache[question] = ()  # a starter's own suggestions do not recurse
            cache[question] = tuple(self.answer(question)[0].metric_ids)
        return cache[question]

    def answer(self, question: object, state: State | None = None) -> tuple[Answer, State]:
        state = state or State()
        text, notices = clean_question(question, self.max_chars)
        if not re.search(r"\w", text):
            if text:  # "?" — a shrug: say what the bot can do
                frame = Frame(text=text, op="chat", chat="help")
                out = Composer(self.resolver.chunk_of, self.resolver.chunks, self.multi)
                DISPATCH["chat"](Ctx(frame, decide(frame, self.resolver.empty, self.facts),
                                     self.resolver.empty, self.facts, out, extras=self.extras))
                return replace(self._finish(frame, out, "chat", notices),
                               suggestions=suggest(self, frame, None, state)), state
            return Answer(EMPTY_TEXT, False, [], "empty", text, notices=notices,
                          suggestions=suggest(self, None, None, state)), state
        frame = self.reader.read(text)
        frame, context = carry(frame, state, self.understanding.exclusive, self.facts.fits)
        out = Composer(self.resolver.chunk_of, self.resolver.chunks, self.multi)
        kinds, ops = [], []
        for part in frame.parts or (frame,):
            kind, op = self._plan(part if not frame.parts else carry(part, state,
                                  self.understanding.exclusive, self.facts.fits)[0], context, out)
            kinds.append(kind)
            ops.append(op)
        kind = next((k for k in kinds if k != "not_found"), kinds[0])
        if frame.glossed:
            language, english = frame.glossed.split(": ", 1)
            notices.append(f"I read your question word by word from {language} as “{english}”; "
                           "I answer in English.")
        if frame.injected:
            notices.append("I ignored an instruction in your message: I only report what the "
                           "snapshot says.")
        ans = self._finish(frame, out, kind, notices)
        if self.chat_model is not None and ans.answered and kind not in ("chat", "not_found"):
            from chatbot.generate import rephrase

            ans = rephrase(self.chat_model, ans)
        ans = replace(ans, suggestions=suggest(self, frame, ans, state))
        figs = [self.facts.by_id[i] for i in ans.metric_ids[:1] if i in self.facts.by_id]
        turn = Turn(frame, ops[0], tuple(ans.metric_ids) if ans.answered else (),
                    tuple(out.items), ans.answered,
                    figs[0].measures if figs else frozenset(), figs[0].modifiers if figs else frozenset())
        return ans, state.add(turn) if kind != "empty" else state

    def _plan(self, frame: Frame, context: Context, out: Composer) -> tuple[str, str]:
        ev = self.resolver.evidence(frame)
        verdict = decide(frame, ev, self.facts)
        ctx = Ctx(frame, verdict, ev, self.facts, out, context, self.extras)
        if context.figures and verdict.action == "decline" and frame.op in ("provenance", "derive",
                                                                             "verify", "compare"):
            verdict = replace(verdict, action="answer", op=frame.op)
            ctx = replace(ctx, verdict=verdict)
        for cid in ev.retrieved[:5]:
            if cid not in out.retrieved:
                out.retrieved.append(cid)
        return DISPATCH[verdict.op](ctx), verdict.op

    def _finish(self, frame: Frame, out: Composer, kind: str, notices: list[str]) -> Answer:
        kept, dropped = check(out.lines, out.citations, out.calculations)
        answered = kind not in ("not_found", "empty")
        if answered and not any(re.search(r"\w", ln) for ln in kept if not ln.startswith("Calc")):
            log.warning("every line failed the grounding check; declining")
            kept, kind, answered = ["The snapshot doesn't give that."], "not_found", False
        body = "\n".join(kept).strip()
        return Answer(text=body, answered=answered, citations=out.used_citations(body), kind=kind,
                      question=frame.text, metric_ids=list(dict.fromkeys(out.metric_ids)),
                      calculations=list(out.calculations), nearest=list(out.nearest),
                      notices=notices, retrieved=list(out.retrieved), dropped=dropped)


def _cover(snapshot, chunks) -> tuple[str, Chunk] | None:
    """The cover's title lines ("DATA DRIVEN HEALTHCARE INNOVATION … SNAPSHOT 2023"), citable
    though no chunk holds them (they are not searched)."""
    first = min((c.start for c in chunks if c.document in ("", snapshot.title)), default=0)
    cover = snapshot.raw[:first]
    lines = [line for line in cover.splitlines() if line.strip("* ").isupper()]  # in capitals
    if not lines:
        return None
    start, end = cover.index(lines[0]), cover.rindex(lines[-1]) + len(lines[-1])
    quote = " ".join(cover[start:end].replace("*", "").split())  # Markdown bold undone
    return quote, Chunk("cover", quote, quote, "Cover", "title", "", start, end, snapshot.title)


def _about(chunks) -> tuple[str, object] | None:
    """The data note's sentence on coverage and date, for "who published this / how current"."""
    for c in chunks:
        if c.section == "Data note":
            for s in re.split(r"(?<=\.)\s+", c.quote):
                if "as of" in s:
                    return s, c
    return None
