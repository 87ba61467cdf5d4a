"""App: the Streamlit edge — a conversation with cited answers, charts and source cards, kept
across reloads; a metrics explorer; what the data is.

In: messages typed or clicked by a reader. Out: answers from
``Chatbot().conversation().ask()`` with their source cards and charts. Only ``st.*`` calls live
here: what a message becomes is ``chatbox``, source cards ``cards``, charts ``charts``, the
stored conversations ``history``, feedback ``feedback``, the explorer ``explorer``, downloads
``export``, "About this data" ``about``; answers come from the engine. Text from readers and
from the snapshot is always escaped Markdown: no ``unsafe_allow_html``, no ``st.html``, no
script (an answer's [n] opens its card as a plain fragment link). Readers see errors in plain
words (``ChatbotError.for_readers``); details go to the server log.

Run: ``streamlit run chatbot/app.py`` (or ``make run``).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import streamlit as st

from chatbot import about, cards, charts, chatbox, explorer, export, history
from chatbot.engine import Chatbot
from chatbot.errors import ChatbotError
from chatbot.export import escape_markdown as esc
from chatbot.feedback import FeedbackRecord, FeedbackStore
from chatbot.history import ConversationStore, HistoryError
from chatbot.inputs import MAX_COMMENT_CHARS, MAX_FILTER_CHARS, clean_comment
from chatbot.settings import Settings

log = logging.getLogger("chatbot.app")

#: An emoji, not ":material/…:": a Material icon as favicon is fetched from a public font host.
PAGE_ICON = "📊"
GENERIC_ERROR = ("Something went wrong while answering. Try rephrasing the question, or start a "
                 "new conversation.")
APP_ERROR = "Something went wrong showing this page. Reload it; the details are in the server log."
#: Engines kept per process (one per distinct settings; every session shares it).
MAX_ENGINES = 2
#: Answered turns replayed into the engine when a stored conversation is reopened.
REPLAY_TURNS = 12


@st.cache_resource(show_spinner="Loading the snapshot and its index (first visit only)…",
                   max_entries=MAX_ENGINES)
def load_bot(engine_key: str, _settings: Settings) -> Chatbot:
    """One engine per process, shared by every session; ``engine_key`` names its settings."""
    return Chatbot(_settings)


# --- the session: which conversation, its messages, its engine state -------------------------

def _start(bot: Chatbot, store: ConversationStore, conv_id: str | None = None) -> None:
    """Make ``conv_id`` (a stored conversation) or a new one the session's conversation."""
    state = st.session_state
    messages: list[dict] = []
    if history.valid_id(conv_id):
        try:
            messages = store.messages(conv_id)
        except HistoryError as exc:
            log.error("reading conversation failed: %s", exc)
    else:
        conv_id = history.new_id()
    conversation = bot.conversation()
    for question in history.asked_questions(messages, REPLAY_TURNS):
        conversation.ask(question)  # follow-ups after a reload keep their context
    state.conv_id, state.messages, state.conversation = conv_id, messages, conversation
    st.query_params["c"] = conv_id


def _queue(question: str) -> None:
    """Button callback: ask ``question`` in this run."""
    st.session_state.pending = question


def _reply(turn: chatbox.Typed) -> dict:
    """The assistant's message for a turn; failures become a plain message, never a traceback."""
    msg: dict = {"role": "assistant", "id": uuid.uuid4().hex, "content": ""}
    if turn.notice:
        msg["notice"] = turn.notice
    if turn.refusal:
        msg["refusal"] = turn.refusal
        return msg
    if turn.question != turn.shown:
        msg["asked"] = turn.question
    try:
        answer = st.session_state.conversation.ask(turn.question)
        msg.update(content=answer.text, answer=answer)
    except ChatbotError as exc:
        log.error("answering failed: %s", exc)
        msg["error"] = exc.for_readers
    except Exception:
        log.exception("answering %r failed", turn.question)
        msg["error"] = GENERIC_ERROR
    return msg


def _save(store: ConversationStore, question: str, msg: dict) -> None:
    try:
        store.add_turn(st.session_state.conv_id, question, msg)
    except HistoryError as exc:
        log.error("saving the conversation failed: %s", exc)
        st.caption(esc(exc.for_readers))


# --- one message -----------------------------------------------------------------------------

def _show_user(text: str) -> None:
    with st.chat_message("user"):
        st.markdown(export.question_markdown(text))


def _show_cards(msg: dict, answer, bot: Chatbot) -> None:
    ids = [c.metric_id for c in answer.citations if c.metric_id]
    rows = {r["metric_id"]: r for r in bot.figures(ids)}
    chunks = {ch.chunk_id: ch.quote for ch in bot.corpus.chunks}
    st.caption("Sources: click a number in the answer, or a card, to read the snapshot's words.")
    for c in answer.citations:
        row = rows.get(c.metric_id or "")
        key = cards.card_key(msg["id"], c.number)
        with st.expander(cards.card_title(c, row), key=key):
            st.subheader(cards.card_heading(c, row), anchor=key)  # what [n] links to
            st.markdown(cards.quote_markdown(c, chunks.get(c.chunk_id or "")))
            st.caption(cards.details_markdown(c, row))
            st.code(cards.copy_text(c, row), language=None, wrap_lines=True)


def _show_suggestions(msg: dict, answer) -> None:
    if not answer.suggestions:
        return
    st.caption("Ask next:")
    with st.container(horizontal=True, gap="small"):
        for i, q in enumerate(answer.suggestions):
            st.button(esc(q), key=f"suggest-{msg['id']}-{i}", on_click=_queue, args=(q,), wrap=True)


def _show_feedback(msg: dict, question: str, store: FeedbackStore) -> None:
    rating = st.feedback("thumbs", key=f"rating-{msg['id']}")
    if rating is None:
        return
    typed = st.text_input("Comment (optional, press Enter to send)", key=f"comment-{msg['id']}",
                          placeholder="What was right or wrong with this answer?",
                          max_chars=MAX_COMMENT_CHARS)
    comment, notices = clean_comment(typed)
    if msg.get("feedback") == (rating, comment):
        return  # already saved
    try:
        store.add(FeedbackRecord.for_answer(question, msg["answer"], rating, comment,
                                            st.session_state.conv_id, msg["id"]))
        msg["feedback"] = (rating, comment)
        st.caption(" ".join(["Thanks: feedback saved.", *notices]))
    except ChatbotError as exc:
        log.error("saving feedback failed: %s", exc)
        st.error(exc.for_readers)


def _show_answer(msg: dict, question: str, bot: Chatbot, store: FeedbackStore, last: bool) -> None:
    if msg.get("refusal"):
        st.warning(esc(msg["refusal"]), icon=":material/block:")
        return
    if "answer" not in msg:
        st.error(msg.get("error") or GENERIC_ERROR)
        return
    answer = msg["answer"]
    if msg.get("notice"):
        st.caption(esc(msg["notice"]))
    body = cards.link_markers(export.answer_body(answer), msg["id"],
                              [c.number for c in answer.citations])
    if answer.answered:
        st.markdown(body)
    else:
        nearest = export.nearest_not_in_text(answer)
        extra = ("\n\nThe nearest figures the snapshot does have:\n"
                 + "\n".join(f"- {esc(n)}" for n in nearest)) if nearest else ""
        st.info(f"**Not in the snapshot.** {body}{extra}", icon=":material/search_off:")
    for spec in charts.answer_charts(answer.kind, bot.figures(answer.metric_ids)):
        st.altair_chart(spec.chart, width="stretch", alt=spec.alt_text)
        st.caption(esc(spec.caption))
    for calc in dict.fromkeys(answer.calculations):
        st.caption(f"Calculation: {esc(calc)}")
    for note in answer.notices:
        st.caption(esc(note))
    if answer.citations:
        _show_cards(msg, answer, bot)
    if last:
        _show_suggestions(msg, answer)
    _show_feedback(msg, question, store)


# --- the tabs --------------------------------------------------------------------------------

def _welcome(bot: Chatbot) -> None:
    title = bot.corpus.snapshots[0].title if bot.corpus.snapshots else "snapshot"
    with st.chat_message("assistant"):
        st.markdown(chatbox.WELCOME.format(title=esc(title)))
        st.caption("Try one of these:")
        with st.container(horizontal=True, gap="small"):
            for i, (kind, q) in enumerate(chatbox.STARTERS):
                st.button(esc(q), key=f"starter-{i}", help=kind, on_click=_queue, args=(q,), wrap=True)


def _downloads(bot: Chatbot) -> None:
    messages = st.session_state.messages
    title = bot.corpus.snapshots[0].title if bot.corpus.snapshots else "the snapshot"
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "Download conversation (Markdown)", export.conversation_markdown(messages, title),
            file_name="snapshot-qa-conversation.md", mime="text/markdown", on_click="ignore",
            icon=":material/description:")
        st.download_button(
            "Download quoted figures (CSV)", export.figures_csv(messages, bot.corpus.table),
            file_name="snapshot-qa-figures.csv", mime="text/csv", on_click="ignore",
            icon=":material/table:")


def chat_tab(bot: Chatbot, settings: Settings, feedback: FeedbackStore,
             store: ConversationStore) -> None:
    """The conversation: welcome and starters, every turn, the chat box at the bottom."""
    state = st.session_state
    limit = settings.max_question_chars
    area = st.container()
    typed = st.chat_input(chatbox.placeholder(limit), key="chat-box")
    raw = typed if typed is not None else state.pop("pending", None)
    turn = chatbox.read_typed(raw, limit) if raw is not None else None
    if turn is not None and not turn.sent:
        st.toast("Type a question first: empty messages are not sent.", icon=":material/edit:")
    new = turn is not None and turn.sent
    with area:
        if not state.messages and not new:
            _welcome(bot)
        last_id = None if new or not state.messages else state.messages[-1]["id"]
        question = ""
        for msg in state.messages:
            if msg["role"] == "user":
                question = msg["content"]
                _show_user(question)
            else:
                with st.chat_message("assistant"):
                    _show_answer(msg, question, bot, feedback, msg["id"] == last_id)
        if new:
            state.messages.append({"role": "user", "content": turn.shown, "id": uuid.uuid4().hex})
            _show_user(turn.shown)
            with st.chat_message("assistant"):
                with st.spinner("Looking it up in the snapshot…"):
                    msg = _reply(turn)
                state.messages.append(msg)
                _save(store, turn.shown, msg)
                _show_answer(msg, turn.shown, bot, feedback, True)
        if state.messages:
            _downloads(bot)
    st.caption(f"Questions can have up to {limit:,} characters; from a longer paste, only a "
               "question at its end is answered.")


def explorer_tab(table) -> None:
    """Every figure in the snapshot, filterable; the CSV and the charts follow the filters."""
    opts = explorer.filter_options(table)
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1.2])
    sections = c1.multiselect("Section", opts["section"], key="filter-section")
    sources = c2.multiselect("Data source", opts["source"], key="filter-source")
    units = c3.multiselect("Unit", opts["unit"], key="filter-unit")
    text = c4.text_input("Search labels and quotes", key="filter-text",
                         placeholder="salary, FDI, Wavteq…", max_chars=MAX_FILTER_CHARS)
    rows = explorer.filter_metrics(table, sections, sources, units, text)
    st.caption(f"{len(rows)} of {len(table)} figures")
    view = explorer.explorer_view(rows)
    st.dataframe(view, hide_index=True, width="stretch", column_config={
        col: st.column_config.TextColumn(name, width="large" if col == "quote" else None)
        for col, name in explorer.EXPLORER_HEADINGS.items() if col in view.columns})
    st.download_button("Download these figures (CSV)", explorer.table_csv(rows),
                       file_name="snapshot-metrics.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:")
    st.subheader("The Midlands' share of UK totals")
    share = charts.explorer_share_chart(explorer.uk_share_rows(rows))
    if share is None:
        st.caption("None of the figures shown is a share of a UK total.")
    else:
        st.altair_chart(share.chart, width="stretch", alt=share.alt_text)
        st.caption("Each figure the snapshot states as a share of a UK total (summary "
                   "restatements counted once). " + esc(share.caption))
    st.subheader("Foreign vs domestic direct investment")
    inv = charts.explorer_investment_charts(explorer.investment_rows(rows))
    if not inv:
        st.caption("None of the figures shown is an FDI or DDI figure.")
    st.caption("FDI: foreign direct investment. DDI: domestic direct investment.")
    for spec in inv:
        st.altair_chart(spec.chart, width="stretch", alt=spec.alt_text)
        st.caption(esc(spec.caption))


def about_tab(bot: Chatbot) -> None:
    """Title, publisher, data date, coverage, sources and the snapshot's own caveats."""
    corpus = bot.corpus
    facts = about.about_snapshot(corpus.table, corpus.chunks, corpus.snapshots,
                                 about.read_origin(bot.settings.corpus_paths))
    st.markdown("\n".join([
        f"- **Title:** {esc('; '.join(facts.titles))}",
        f"- **Publisher:** {esc(facts.publisher)}",
        f"- **Data as of:** {esc(facts.data_as_of)}",
        f"- **Coverage:** {esc(facts.coverage)}",
        f"- **Figures in the table:** {facts.figures}",
    ]))
    st.markdown("**Data sources the snapshot's footnotes name, and what each covers**")
    st.markdown("\n".join(f"- **{esc(s.name)}**: {esc(s.covers)}" for s in facts.sources)
                or "None named.")
    st.markdown("**Caveats, in the snapshot's own words**")
    for section, quote in facts.caveats:
        st.markdown("> " + esc(quote))
        st.caption(esc(section))


def sidebar(bot: Chatbot, store: ConversationStore) -> None:
    """New conversation, and the earlier ones, each reopened with a click."""
    state = st.session_state
    st.sidebar.button("New conversation", icon=":material/add:", width="stretch",
                      on_click=_start, args=(bot, store))
    st.sidebar.caption("Your conversations (the open one highlighted)")
    try:
        recent = store.recent()
    except HistoryError as exc:
        log.error("listing conversations failed: %s", exc)
        st.sidebar.caption(esc(exc.for_readers))
        return
    if not recent:
        st.sidebar.caption("None yet: your questions are kept here, also after a reload.")
    for s in recent:
        st.sidebar.button(export.question_markdown(s.title), key=f"open-{s.id}", width="stretch",
                          help=f"{s.turns} question{'s' if s.turns != 1 else ''}, last {s.when} UTC",
                          type="primary" if s.id == state.conv_id else "secondary",
                          on_click=_start, args=(bot, store, s.id))


def main() -> None:
    st.set_page_config(page_title="Snapshot Q&A", page_icon=PAGE_ICON, layout="wide")
    settings = Settings.from_env()
    # Feedback goes wherever the session's settings say; it does not need another engine.
    engine_key = repr(settings.with_(feedback_db=Path("-")))
    try:
        bot = load_bot(engine_key, settings)
    except ChatbotError as exc:
        log.error("loading the engine failed: %s", exc)
        st.error(exc.for_readers)
        st.stop()
    except Exception:
        log.exception("loading the engine failed")
        st.error(APP_ERROR)
        st.stop()
    feedback = FeedbackStore(settings.feedback_db)
    store = ConversationStore(settings.feedback_db)
    if "messages" not in st.session_state:  # a new session: a first visit or a reload
        _start(bot, store, st.query_params.get("c"))
    title = bot.corpus.snapshots[0].title if bot.corpus.snapshots else "Snapshot"
    st.title("Snapshot Q&A")
    st.caption(f"{esc(title)}: every figure exact, with its data source and the snapshot's own "
               "words.")
    chat, explore, about_data = st.tabs(["Ask", "Metrics explorer", "About this data"])
    with chat:
        chat_tab(bot, settings, feedback, store)
    with explore:
        explorer_tab(bot.corpus.table)
    with about_data:
        about_tab(bot)
    sidebar(bot, store)  # after the chat, so a conversation's first turn is listed at once


try:
    main()
except ChatbotError as exc:
    log.error("the app failed: %s", exc)
    st.error(exc.for_readers)
except Exception:
    log.exception("the app failed")
    st.error(APP_ERROR)
