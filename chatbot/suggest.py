"""Suggest: two or three follow-up questions an answer invites, each one the engine can answer.

In: the engine, this turn's frame and answer. Out: questions. They are built from relations
that exist for the figures just answered (a UK share, a national comparator, an FDI/DDI
counterpart, a named source), so each is answerable by construction; a test asks every
suggestion back and checks it is answered. Greetings, help and declines get the starters from
the understanding data (one question of each kind the bot answers).
"""

from __future__ import annotations

from chatbot.tuning import MAX_SUGGESTIONS


def suggest(engine, frame, answer, state) -> list[str]:
    starters = engine.understanding.starters
    if answer is None or not answer.answered or answer.kind in ("chat", "overview", "highlights"):
        return starters[:MAX_SUGGESTIONS]
    facts = engine.facts
    figs = [facts.by_id[i] for i in answer.metric_ids if i in facts.by_id]
    out: list[str] = []
    if figs:  # only what the answer has not already shown
        m = figs[0]
        if not m.is_percent and facts.shares(m) and not set(facts.shares(m)) & set(figs):
            out.append("What share of the UK total is that?")
        if facts.national(m) and facts.national(m) not in figs:
            out.append("How does that compare with the national average?")
        twin = facts.counterpart(m)
        if twin is not None and twin not in figs:
            other = sorted(twin.modifiers - m.modifiers)
            if other:  # "And for DDI?", "And for venture?"
                out.append("And for " + (other[0].upper() if len(other[0]) <= 3 else other[0]) + "?")
        if m.source and answer.kind != "provenance":
            out.append("Where does that figure come from?")
    if answer.kind == "list" and len(answer.text.splitlines()) > 2:
        out.append("Give me an overview of the snapshot")
    asked = [t.frame.text.lower() for t in state.turns] + [frame.text.lower() if frame else ""]
    shown = set(answer.metric_ids)
    for s in starters:  # starters not asked already, nor answered by this very answer
        if len(out) >= MAX_SUGGESTIONS:
            break
        if s not in out and not any(s.rstrip("?").lower() in a for a in asked) and \
                not (shown and set(engine.starter_figures(s)) <= shown):
            out.append(s)
    return out[:MAX_SUGGESTIONS]
