"""Answer: route a question, compose the answer from table rows and chunks, ground-check it.

In: a question and the conversation ``State``; the metrics table, a retriever and optionally a
chat model, all passed in. Out: an ``Answer`` (Markdown text with [n] markers, citations whose
quotes are the snapshot's own words, ``answered``) and the next ``State``.

Routes: figure, figures, conflict, derived, verify, provenance, list, prose, not_found, empty.
Figures come from the metrics table, never from paraphrased chunks; derived figures are
computed here and shown with their working; every line is ground-checked before it leaves.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from chatbot import compose
from chatbot.compose import Composer
from chatbot.conversation import State, next_state, plan
from chatbot.ground import check
from chatbot.lookup import MIN_SCORE, Match, MetricMatcher
from chatbot.question import Question, Vocabulary, generic_name, read, sanitize
from chatbot.records import Answer
from chatbot.retrieve import stem
from chatbot.settings import MAX_QUESTION_CHARS

log = logging.getLogger("chatbot.answer")

NEAREST_MIN = 1.0
_SHARE_WORDS = frozenset("share uk total proportion percentage percent slice fraction".split())
EMPTY_TEXT = "Please ask a question about the snapshot — for example, “What is the average salary?”"
_SEG_RE = re.compile(r"\s*(?:,|;|&|\.\s|\band\b|\bor\b|\bplus\b|\bas well as\b|\bversus\b|\bvs\.?|"
                     r"\bcompared? (?:to|with|against)\b|\bagainst\b|\bthan\b)\s*", re.I)
_SECTION_WORDS = {
    "talent": "Talent Ecosystem", "skills": "Talent Ecosystem", "workforce": "Talent Ecosystem",
    "investment": "Investment Ecosystem", "investments": "Investment Ecosystem",
    "innovation": "Innovation Ecosystem", "business": "Business Ecosystem",
    "businesses": "Business Ecosystem",
}


class Engine:
    """The deterministic answer engine (optionally phrased by a chat model)."""

    def __init__(self, table, retriever, chunks, chat_model=None, settings=None,
                 documents: list[str] | None = None):
        self.retriever = retriever
        self.chunks = list(chunks)
        self.chat_model = chat_model
        self.max_chars = settings.max_question_chars if settings else MAX_QUESTION_CHARS
        self.documents = documents or sorted(set(table["document"]))
        texts = [c.text for c in self.chunks] + list(table["label"]) + list(table["aliases"])
        self.vocab = Vocabulary(texts)
        self.matcher = MetricMatcher(table, self.vocab.stems)
        self.chunk_at = {(ch.document, ch.start): ch.chunk_id for ch in self.chunks}
        self.expansions = compose.acronyms(" ".join(ch.quote for ch in self.chunks))
        self._chunk_df: dict[str, int] = {}  # chunks per word, for _rare
        for ch in self.chunks:
            for w in {stem(x) for x in re.findall(r"[a-z]+", ch.text.lower())}:
                self._chunk_df[w] = self._chunk_df.get(w, 0) + 1
        self._chunks_by_doc: dict[str, list] = {}
        for ch in self.chunks:
            self._chunks_by_doc.setdefault(ch.document, []).append(ch)

    # ------------------------------------------------------------------ entry point

    def answer(self, question: object, state: State | None = None) -> tuple[Answer, State]:
        state = state or State()
        text, notices = sanitize(question, self.max_chars)
        if not re.search(r"\w", text):
            return Answer(EMPTY_TEXT, False, [], "empty", text, notices=notices), state
        q = read(text, self.vocab)
        c = Composer(self.multi)
        kind, rows, section = self._route(q, state, c)
        ans = self._finish(q, c, kind, notices)
        if self.chat_model is not None and ans.answered:
            from chatbot.generate import rephrase

            ans = rephrase(self.chat_model, ans)
        return ans, next_state(state, q, rows if ans.answered else [], section, ans.kind)

    @property
    def multi(self) -> bool:
        return len(self.documents) > 1

    # ------------------------------------------------------------------ routing

    def _route(self, q: Question, state: State, c: Composer) -> tuple[str, list[dict], str]:
        if q.future and not q.provenance:
            return compose.not_found(c, self._nearest(q), "it reports past data and makes no "
                                     "forecasts"), [], ""
        if q.date:
            rows = [r for r in self.matcher.rows if r["unit"] == "date"][:1]
            rest = [p for p in _SEG_RE.split(q.text) if p and not read(p, self.vocab).date]
            if rows and rest:  # "how current is it and what geography does it cover?"
                other = read(rest[0], self.vocab)
                best = self.matcher.rank(other, 1)
                if best and best[0].confident and best[0].row not in rows:
                    rows.append(best[0].row)
            if rows:
                return compose.figures(c, rows, self.matcher), rows, rows[0]["section"]
        if (q.define or q.why) and not q.quantity and not state.turns:
            done = self._define(q, c) if q.define else ""
            if not done:
                done = self._prose(q, c, [], strict=True)[0]
            if done:
                return done, [], c.citations[0].section if c.citations else ""
        matches = self._segment_matches(q)
        own = [m for m in matches if self._confident(m, q)]
        if own and (q.define or not state.turns and re.search(
                r"\b(calculated|underlying|worked out|derived)\b", q.text, re.I)):
            rows = [self._sourced(own[0].row)]
            return compose.provenance(c, rows, self._footnote_chunk), rows, rows[0]["section"]
        if q.conflict and not q.derived:
            rows = self._conflicting_rows(q, matches)
            if len(rows) >= 2:
                return compose.figures(c, rows, self.matcher, compare=True), rows, rows[0]["section"]
        if len(q.numbers) >= 2 and not q.derived:
            rows = self._rows_for_numbers(q)
            if len(rows) >= 2:
                return compose.figures(c, rows, self.matcher, compare=True), rows, rows[0]["section"]
        p = plan(q, state, bool(own))
        if p.move == "provenance":
            rows = [self.matcher.by_id[i] for i in p.base if i in self.matcher.by_id]
            return compose.provenance(c, rows, self._footnote_chunk), rows, rows[0]["section"]
        if p.move == "national":
            return self._national(c, p.base)
        if p.move == "share":
            rows = self._share_rows(p.base)
            if rows:
                return compose.figures(c, rows, self.matcher), rows, rows[0]["section"]
        if p.rewritten:
            q2 = read(p.text, self.vocab)
            if p.move == "same":
                q2 = _merge(q, q2)
            matches = self._segment_matches(q2) if p.move != "same" else self.matcher.rank(q2, 10)
            if p.move == "same":  # prefer a row the new words point at, not the last answer
                new = set(q.key)
                # coverage is diluted by the borrowed words: judge by the new words instead
                fresh = [replace(m, coverage=1.0) for m in matches if m.metric_id not in p.base
                         and m.score >= MIN_SCORE and m.label_hit and not m.uncovered
                         and new & self.matcher.label_tokens(m.metric_id)]
                matches = fresh or [m for m in matches if m.metric_id not in p.base] or matches
            own = [m for m in matches if self._confident(m, q2)]
            q = _carry_intents(q, q2) if own else q
        rows = [m.row for m in own]
        if self.multi and rows and not self._named_documents(q):
            rows = self._across_documents(rows)
        if q.provenance and rows:
            rows = [self._sourced(r) for r in rows]
            return compose.provenance(c, rows, self._footnote_chunk), rows, rows[0]["section"]
        if rows and re.search(r"\b(not|n't) (stay|remain|stayed|remained|retained)|\b(left|leave|"
                              r"moved away)\b", q.text, re.I):
            pair = self._ratio_pair(rows[0])
            if pair:
                return compose.complement(c, *pair), list(pair), pair[0]["section"]
        if (q.verify or q.why or q.premise) and q.numbers and rows and any(
                compose.same_value(v, u, r) for v, u in q.numbers for r in rows):
            hit = next(r for r in rows for v, u in q.numbers if compose.same_value(v, u, r))
            return compose.verify(c, q, hit, self.matcher), [hit], hit["section"]
        if q.derived and q.share and not q.numbers and len(rows) >= 2:  # "…lower, in percent?"
            stated = [r for r in rows if r["unit"] == "percent"] + [
                r for r in self.matcher.siblings(rows[0]["metric_id"])
                + self.matcher.siblings(rows[1]["metric_id"]) if r["unit"] == "percent"]
            gap = [r for r in stated if re.search(r"lower|higher|gap", r["label"], re.I)]
            if gap:
                return compose.figures(c, gap[:1], self.matcher), gap[:1], gap[0]["section"]
        if rows and re.search(r"\b(average|mean|typical|per)\b.*\b(size|deal|investment|each)\b|"
                              r"\bper (deal|investment)\b", q.text, re.I):
            per = [r for r in self.matcher.siblings(rows[0]["metric_id"])
                   if r["qualifier"] == rows[0]["qualifier"] and r is not rows[0]
                   and r["unit"] not in ("GBP", "USD", "percent")]
            if rows[0]["unit"] in ("GBP", "USD") and per:
                return compose.per_unit(c, rows[0], per[0]), [rows[0], per[0]], rows[0]["section"]
        if q.derived and len(rows) >= 2:
            a, b = self._align(rows[0], rows[1])
            done = compose.derived(c, q, a, b) if a is not b else None
            if done:
                return done, rows[:2], rows[0]["section"]
        if q.derived and len(rows) == 1 and state.metric_ids and is_comparison(q):
            prev = self.matcher.by_id.get(state.metric_ids[0])
            if prev and prev["metric_id"] != rows[0]["metric_id"]:
                done = compose.derived(c, q, prev, rows[0])
                if done:
                    return done, [prev, rows[0]], rows[0]["section"]
        if q.listing and not q.quantity and not q.derived:
            listed = self._list_answer(q, c)
            if listed:
                rows = [self.matcher.by_id[m] for m in dict.fromkeys(c.metric_ids)]
                return listed, rows, c.citations[0].section if c.citations else ""
        if q.breakdown and rows and not q.derived:  # cluster-wide figures have no splits
            return compose.not_found(c, rows[:1], "it gives only the cluster-wide figure, with no "
                                     "breakdown"), [], ""
        if q.names and rows and not q.derived:  # a count is no list of names
            return compose.not_found(c, rows[:1], "it gives the number but no names"), [], ""
        if (q.verify or q.why or q.premise) and rows and (q.numbers or q.down or q.up):
            return compose.verify(c, q, rows[0], self.matcher), rows[:1], rows[0]["section"]
        if rows:
            return compose.figures(c, rows, self.matcher), rows, rows[0]["section"]
        section = self._section_named(q)
        names = [n for n in q.proper if not generic_name(n)]
        if section and len(q.key) <= 2 and not q.listing and not q.quantity and not names:
            rows = [r for r in self.matcher.rows if r["section"] == section
                    and r["kind"] in ("figure", "table_row")]
            if rows:
                return compose.figures(c, rows, self.matcher, overview=section), rows, section
        if (q.quantity or q.types or q.measures or q.explicit_money) and not q.listing:
            return compose.not_found(c, self._nearest(q), self._why_not(q, matches)), [], ""
        return self._prose(q, c, matches)

    def _list_answer(self, q: Question, c: Composer) -> str:
        every = bool(re.search(r"\b(all|every|both|full list)\b", q.text, re.I))
        hits = self.retriever.search(q.text, k=10 if every else 6, mode="bm25")
        picked = compose.best_sentences(replace(q, proper=()) if every else q,
                                        [h for h in hits if h.chunk.kind == "list"],
                                        self.vocab, every=every, expand=self.expansions)
        if picked and picked[0][2] >= 0.5:
            kind = compose.prose(c, q, picked)
            for _s, ch, _c in picked:  # the list's own figures, for "so how many is that?"
                c.metric_ids.extend(r["metric_id"] for r in self.matcher.rows
                                    if r["document"] == ch.document and ch.start <= r["start"] < ch.end)
            return kind
        return ""

    def _segment_matches(self, q: Question) -> list[Match]:
        """Confident matches for each part of a question that asks for several figures."""
        parts = [s for s in _SEG_RE.split(q.text) if s and re.search(r"\w", s)]
        whole = self.matcher.rank(q, 5)
        whole = whole[:1] + [m for m in whole[1:] if not m.confident]  # one figure unless asked
        two_asks = q.share and (q.count or q.quantity)  # "how many …, and what share is that?"
        if len(parts) < 2 or (whole and whole[0].confident and whole[0].coverage >= 0.8
                              and not q.derived and not two_asks
                              and not (len(q.types) > 1 or len(q.measures) > 1)):
            return whole
        found: list[Match] = []
        for part in parts:
            pq = read(part, self.vocab)
            if found and pq.share and not [k for k in pq.key if k not in _SHARE_WORDS]:
                shares = self._share_rows((found[-1].metric_id,))  # "…, and their UK share?"
                if shares and all(shares[0] is not f.row for f in found):
                    found.append(Match(shares[0], found[-1].score, True, (), 1.0))
                continue
            if not pq.key and not (pq.types or pq.measures):
                continue
            pq = _fill_slots(pq, q)
            if found:  # "…foreign-owned firms than the national average": the same panel first
                sib = [self.matcher.score_row(self.matcher.index_of(r), pq)
                       for r in self.matcher.siblings(found[0].metric_id) if r is not found[0].row]
                sib = [m for m in sib if m.label_hit and m.coverage >= 0.5 and m.score > 0]
                if sib:
                    best = max(sib, key=lambda m: m.score)
                    if all(best.metric_id != f.metric_id for f in found):
                        found.append(best)
                        continue
            for m in self.matcher.rank(pq, 3):
                if self._confident(m, pq) and all(m.metric_id != f.metric_id for f in found):
                    found.append(m)
                    break
        if len(found) >= 2:
            return found
        return whole

    def _confident(self, m: Match, q: Question) -> bool:
        """A row answers the question: stricter when the question does not ask for a figure."""
        if not m.confident:
            return False
        figure_intent = (q.quantity or q.share or q.money or q.numbers or q.verify or q.derived
                         or q.types or q.measures or q.provenance or q.count or q.national
                         or q.define)
        return bool(figure_intent) or (m.coverage >= 0.75 and m.score >= 4.0)

    def _chunk_of(self, row: dict) -> str | None:
        """The chunk whose span holds a row's figure (its panel, bullet or sentence)."""
        start, end = int(row["start"]), int(row["end"])
        exact = self.chunk_at.get((row["document"], start))
        if exact:
            return exact
        holders = [ch for ch in self._chunks_by_doc.get(row["document"], [])
                   if ch.start < end and ch.end > start and ch.kind != "chart"]
        stating = [ch for ch in holders if row["display"] in ch.quote] or holders
        stating.sort(key=lambda ch: ch.end - ch.start)
        return stating[0].chunk_id if stating else None

    def _named_documents(self, q: Question) -> list[str]:
        """Documents the question names by their cluster ("… in the Robotics cluster")."""
        low = q.text.lower()
        return [d for d in self.documents
                if re.search(rf"\b{re.escape(d.split(' — ')[0].lower())}\b", low)]

    def _across_documents(self, rows: list[dict], cap: int = 5) -> list[dict]:
        """With several snapshots and none named, the same figure from each (up to ``cap``)."""
        if len(rows) != 1:
            return rows
        short = rows[0]["metric_id"].split("/")[-1]
        same = [r for r in self.matcher.rows if r["metric_id"].split("/")[-1] == short]
        same.sort(key=lambda r: r is not rows[0])
        return same[:cap]

    def _rare(self, word: str) -> bool:
        """Does ``word`` occur in at most a few chunks per document (so it says what a chunk is
        about)?"""
        n = self._chunk_df.get(word, 0) / max(len(self.documents), 1)
        return 0 < n <= 6

    def _ratio_pair(self, row: dict) -> tuple[dict, dict] | None:
        """Two counts the snapshot states as a/b (7420/8855) in the same words as ``row``."""
        cands = [r for r in self.matcher.rows if r["quote"] == row["quote"]
                 and r["unit"] not in ("percent", "GBP", "USD")]
        for a in cands:
            for b in cands:
                if f"{a['display']}/{b['display']}" in a["quote"]:
                    return a, b
        return None

    def _conflicting_rows(self, q: Question, matches: list[Match]) -> list[dict]:
        """For "the numbers don't agree": every confident row for the topic, concepts expanded."""
        ranked = self.matcher.rank(q, 6)
        if not ranked or not ranked[0].confident:
            return []
        lead = ranked[0]
        top = [m for m in ranked if m.label_hit and not m.uncovered and m.score >= 0.4 * lead.score
               and (m.row["unit"] == "percent") == (lead.row["unit"] == "percent")]
        rows: list[dict] = []
        for m in top:
            for r in self.matcher.concept_rows(m.row):
                if r not in rows:
                    rows.append(r)
        return rows[:8]

    def _rows_for_numbers(self, q: Question) -> list[dict]:
        """For "is it X or Y?": the best-matching row stating each number."""
        ranked = self.matcher.rank(q, len(self.matcher.rows))
        out: list[dict] = []
        for value, unit in q.numbers:
            for m in ranked:
                if m.score > 0 and compose.same_value(value, unit, m.row) and m.row not in out:
                    out.append(m.row)
                    break
        return out

    def _define(self, q: Question, c: Composer) -> str:
        """"What does FDI stand for?": the words the snapshot spells the acronym out with."""
        for acro in re.findall(r"\b[A-Z]{2,6}\b", q.text):
            pattern = r"\b" + r"[\s-]+".join(f"{ch}[a-z]+" for ch in acro) + r"\b"
            for ch in self.chunks:
                m = re.search(pattern, ch.quote)
                if m:
                    sentence = next(s for s in compose._sentences(ch.quote) if m.group(0) in s)
                    n = c.cite(sentence, ch.section, ch.source, None, ch.chunk_id, m.group(0),
                               ch.document)
                    c.retrieved.append(ch.chunk_id)
                    c.add(f"In the snapshot, {acro} stands for **{m.group(0)}**: “{sentence}” [{n}]")
                    return "prose"
        return ""

    def _share_rows(self, base: tuple[str, ...]) -> list[dict]:
        """The percentage stated with each figure: its concept's share if it has one, else the
        next percentage in the same panel or sentence."""
        out = []
        for mid in base:
            row = self.matcher.by_id[mid]
            concept = row.get("concept") or ""
            named = list(self.matcher.by_concept.get((concept + "-share", row["document"]), []))
            named.sort(key=lambda r: not r["source"])
            sibs = [r for r in self.matcher.siblings(mid) if r["unit"] == "percent"
                    and r["metric_id"] != mid]
            primary = [r for r in sibs if r["kind"] in ("figure", "table_row")]
            after = [r for r in sibs if self.matcher.index_of(r) > self.matcher.index_of(row)
                     and "national" not in r["label"].lower()]
            pick = (named or primary or after or sibs)[:1]
            out.extend(r for r in pick if r not in out)
        return out

    def _align(self, a: dict, b: dict) -> tuple[dict, dict]:
        """Compare like with like: a count against a percentage becomes its percentage."""
        if (a["unit"] == "percent") == (b["unit"] == "percent"):
            return a, b
        if a["unit"] != "percent":
            alt = self._share_rows((a["metric_id"],)) or [a]
            return alt[0], b
        alt = self._share_rows((b["metric_id"],)) or [b]
        return a, alt[0]

    def _sourced(self, row: dict) -> dict:
        """The same figure as stated with its data source, where the snapshot gives one."""
        if row["source"]:
            return row
        same = [r for r in self.matcher.concept_rows(row) if r["source"] and r["value"] == row["value"]]
        return same[0] if same else row

    def _national(self, c: Composer, base: tuple[str, ...]) -> tuple[str, list[dict], str]:
        row = self.matcher.by_id[base[0]]
        sibs = self.matcher.siblings(base[0])
        nat = [r for r in sibs if "national" in r["label"].lower() and r["unit"] == row["unit"]]
        if nat:
            gap = [r for r in sibs if r["unit"] == "percent" and r is not row and r not in nat]
            kind = compose.national(c, row, nat[0], gap[0] if gap else None)
            return kind, [row, nat[0]], row["section"]
        shares = self._share_rows(base)
        if shares:
            return compose.figures(c, shares, self.matcher), shares, shares[0]["section"]
        return compose.not_found(c, [row], "it gives no national comparison for this "
                                 "figure"), [], ""

    def _section_named(self, q: Question) -> str:
        for t in q.key:
            if t in _SECTION_WORDS:
                return _SECTION_WORDS[t]
        return ""

    def _footnote_chunk(self, row: dict):
        """The footnote chunk(s) that state a row's source; else the data note's sentence on
        how figures were compiled."""
        own = self._chunks_by_doc.get(row["document"], [])
        notes = [ch for ch in own if ch.kind == "footnote" and ch.section == row["section"]
                 and ch.quote and ch.quote in str(row["footnote"])]
        if notes or row["source"]:
            return notes
        from chatbot.records import Chunk

        for ch in own:
            if ch.section == "Data note":
                for s in compose._sentences(ch.quote):
                    if "calculated via" in s or "otherwise stated" in s:
                        return [Chunk(ch.chunk_id, s, s, ch.section, ch.kind, "", ch.start, ch.end,
                                      ch.document)]
        return []

    # ------------------------------------------------------------------ prose

    def _prose(self, q: Question, c: Composer, matches: list[Match],
               strict: bool = False) -> tuple[str, list[dict], str]:
        hits = self.retriever.search(q.text, k=8)
        picked = compose.best_sentences(q, hits, self.vocab, expand=self.expansions)
        if not picked and q.proper and not q.names:
            loose = compose.best_sentences(replace(q, proper=()), hits, self.vocab,
                                           expand=self.expansions)
            missing = [n for n in q.proper if not generic_name(n)]
            if loose and loose[0][2] >= 0.75 and missing:
                c.add(f"The snapshot says nothing about {', '.join(_plain(m) for m in missing)} "
                      "here. What it does say:")
                return compose.prose(c, q, loose), [], loose[0][1].section
        if strict and (not picked or picked[0][2] < 0.6):
            return "", [], ""
        role = re.search(r"(?i)\bwho (?:is|are|was|were|runs|leads|heads) (?:the )?(\w+)", q.text)
        if picked and role and not any(stem(role.group(1).lower()) in
                                       {stem(w) for w in re.findall(r"[a-z]+", s.lower())}
                                       for s, _ch, _c in picked):
            return compose.not_found(c, [], f"it does not name the {_plain(role.group(1))}"), [], ""
        if picked and q.names and not any(ch.kind == "list" or ch.kind == "prose"
                                          and _names_beyond(s, q) for s, ch, _c in picked):
            return compose.not_found(c, [], "it does not name them"), [], ""
        if not picked:
            return compose.not_found(c, self._nearest(q, matches),
                                     self._why_not(q, matches)), [], ""
        kind = compose.prose(c, q, picked)
        return kind, [], picked[0][1].section

    # ------------------------------------------------------------------ not found

    def _nearest(self, q: Question, matches: list[Match] | None = None) -> list[dict]:
        if matches is None:  # nearest by topic words alone: units and names do not filter
            matches = self.matcher.rank(replace(q, money=False, share=False, proper=(),
                                                years=(), types=frozenset()), 5)
        rows = [m.row for m in matches if m.score >= NEAREST_MIN and m.label_hit][:3]
        return rows

    def _why_not(self, q: Question, matches: list[Match]) -> str:
        top = matches[0] if matches else None
        if top and top.uncovered:
            names = [_plain(u) for u in top.uncovered if not u.isdigit()]
            if names:
                return "it has no figure for " + ", ".join(names)
            return "it has no figure for that year"
        # A chart explains the gap only when the question is about what the chart showed:
        # a chart whose title shares a telling word (one few chunks use) with it.
        for ch in self.chunks:
            if ch.kind != "chart":
                continue
            title = ch.quote.split("\n")[0].split(" - ")[-1]
            caption = {stem(w) for w in re.findall(r"[a-z]+", title.lower())}
            if any(k in caption and self._rare(k) for k in q.key):
                return (f"its figures for this were in a chart (“{_plain(title)}”) that did "
                        "not survive the text extraction")
        return ""

    # ------------------------------------------------------------------ finishing

    def _finish(self, q: Question, c: Composer, kind: str, notices: list[str]) -> Answer:
        kept, dropped = check(c.lines, c.citations, c.calculations)
        answered = kind not in ("not_found", "empty")
        if answered and not any(re.search(r"\w", ln) for ln in kept if not ln.startswith("Calc")):
            log.warning("every line failed the grounding check; answering not_found")
            c2 = Composer(self.multi)
            compose.not_found(c2, [], "")
            kept, kind, answered, c = c2.lines, "not_found", False, c2
        body = "\n".join(kept).strip()
        used = c.used_citations(body)
        retrieved = list(c.retrieved)
        retrieved += [cit.chunk_id for cit in used if cit.chunk_id and cit.chunk_id not in retrieved]
        for mid in c.metric_ids:  # the chunks that hold the figures used, for retrieval scores
            row = self.matcher.by_id.get(mid)
            cid = self._chunk_of(row) if row else None
            if cid and cid not in retrieved:
                retrieved.append(cid)
        return Answer(
            text=body, answered=answered, citations=used, kind=kind, question=q.text,
            metric_ids=list(dict.fromkeys(c.metric_ids)), calculations=list(c.calculations),
            nearest=list(c.nearest), notices=notices, retrieved=retrieved,
            dropped=dropped,
        )


def is_comparison(q: Question) -> bool:
    return bool(re.search(r"\b(compare|compared|difference|gap|more|less|higher|lower|bigger|"
                          r"smaller|larger|times|ratio)\b", q.text, re.I))


def _names_beyond(sentence: str, q: Question) -> bool:
    """Does ``sentence`` name something (a capitalised name) the question did not?"""
    asked = " ".join(q.proper).lower()
    names = re.findall(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|of|and))*", sentence)
    return any(n.lower() not in asked and not generic_name(n) for n in names)


def _plain(text: str) -> str:
    """User words made safe to repeat in Markdown (letters, digits, spaces and dashes only)."""
    return re.sub(r"[^\w\s\-']", "", text)[:60]


def _fill_slots(part: Question, whole: Question) -> Question:
    """A segment borrows the entity slots it lacks from the whole question."""
    types = part.types or (whole.types if len(whole.types) == 1 or not part.types else part.types)
    named = re.findall(r"\b(capex|jobs?|projects?)\b", whole.text.lower())
    head_only = len(whole.measures) == 1 and len({m.rstrip("s") for m in named}) > 1
    measures = whole.measures if head_only else (part.measures or whole.measures)
    # the head measure replaces a segment's other one ("…investment projects" asks for jobs)
    part = replace(part, key=tuple(k for k in part.key if not head_only
                                   or k not in ("capex", "job", "project")))
    stems = {"capex": "capex", "jobs": "job", "projects": "project"}
    key = part.key + tuple(stems[m] for m in sorted(measures) if stems[m] not in part.key)
    return replace(part, types=types, measures=measures, key=key,
                   tokens=part.tokens + tuple(k for k in key if k not in part.tokens),
                   share=part.share or whole.share and not part.key,
                   money=part.money or whole.money, count=part.count or whole.count,
                   explicit_money=part.explicit_money or whole.explicit_money)


def _merge(q: Question, q2: Question) -> Question:
    """The follow-up's own intents and names on the words borrowed from the last turn."""
    return replace(q2, verify=q.verify, derived=q.derived, provenance=q.provenance,
                   numbers=q.numbers, down=q.down, up=q.up, listing=q.listing, proper=q.proper,
                   years=q.years, share=q.share, money=q.money, count=q.count,
                   explicit_money=q.explicit_money)


def _carry_intents(q: Question, q2: Question) -> Question:

    return replace(q2, verify=q.verify, derived=q.derived, provenance=q.provenance,
                   numbers=q.numbers, down=q.down, up=q.up, text=q.text, followup=q.followup)
