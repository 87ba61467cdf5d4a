"""App: the Streamlit edge — chat with cited answers, feedback, downloads, metrics explorer.

In: questions typed or clicked by a reader. Out: answers from
``Chatbot().conversation().ask()`` rendered with their source cards. Only ``st.*`` calls live
here: data shaping is in ``chatbot.export``, storage in ``chatbot.feedback``, answers in the
engine. Corpus and user text are always rendered escaped (never ``unsafe_allow_html``).
Readers see errors in plain words (``ChatbotError.for_readers``): never a file path, errno text
or server address; those go to the server log.

Run: ``streamlit run chatbot/app.py`` (or ``make run``).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import altair as alt
import streamlit as st

from chatbot import about, export
from chatbot.engine import Chatbot
from chatbot.errors import ChatbotError
from chatbot.export import escape_markdown as esc
from chatbot.feedback import FeedbackRecord, FeedbackStore
from chatbot.inputs import MAX_COMMENT_CHARS, MAX_FILTER_CHARS, MAX_TYPED_CHARS, clean_comment
from chatbot.settings import Settings

log = logging.getLogger("chatbot.app")

#: Questions offered on an empty conversation.
STARTERS = (
    "What is the average salary?",
    "How many more DDI jobs than FDI jobs?",
    "What share of UK DDI jobs are in the Midlands?",
    "How many jobs are in the cluster?",
)
#: Bar colours for foreign (FDI) and domestic (DDI) investment.
INVESTMENT_COLOURS = ["#90cdf4", "#2b6cb0"]
#: Shown instead of a traceback when something unexpected fails.
GENERIC_ERROR = ("Something went wrong while answering. Try rephrasing the question, or start a "
                 "new conversation.")
APP_ERROR = "Something went wrong showing this page. Reload it; the details are in the server log."
#: Engines kept per process (one per distinct settings; every session shares it).
MAX_ENGINES = 2


@st.cache_resource(show_spinner="Loading the snapshot and its index (first visit only)…",
                   max_entries=MAX_ENGINES)
def load_bot(engine_key: str, _settings: Settings) -> Chatbot:
    """One engine per process, shared by every session; ``engine_key`` names its settings."""
    return Chatbot(_settings)


def _ask(question: str) -> dict:
    """Ask the session's conversation; failures become a plain message, never a traceback."""
    msg: dict = {"role": "assistant", "id": uuid.uuid4().hex}
    try:
        answer = st.session_state.conversation.ask(question)
        msg.update(content=answer.text, answer=answer)
    except ChatbotError as exc:
        log.error("answering failed: %s", exc)
        msg.update(content="", error=exc.for_readers)
    except Exception:
        log.exception("answering %r failed", question)
        msg.update(content="", error=GENERIC_ERROR)
    return msg


def _show_user(question: str) -> None:
    with st.chat_message("user"):
        st.markdown(esc(question))


def _show_sources(answer) -> None:
    st.caption("Sources")
    for c in answer.citations:
        with st.expander(export.citation_label(c)):
            st.markdown(f"**Section:** {esc(c.section)}  \n"
                        f"**Data source:** {esc(export.source_name(c.source))}")
            st.markdown("> " + export.highlight_quote(c.quote, c.highlight))
            ref = " · ".join(x for x in (c.document, c.metric_id) if x)
            if ref:
                st.caption(esc(ref))


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
                                            st.session_state.session_id, msg["id"]))
        msg["feedback"] = (rating, comment)
        st.caption(" ".join(["Thanks: feedback saved.", *notices]))
    except ChatbotError as exc:
        log.error("saving feedback failed: %s", exc)
        st.error(exc.for_readers)


def _show_answer(msg: dict, question: str, store: FeedbackStore) -> None:
    if "answer" not in msg:
        st.error(msg.get("error") or GENERIC_ERROR)
        return
    answer = msg["answer"]
    body = export.answer_body(answer)
    if answer.answered:
        st.markdown(body)
    else:
        nearest = export.nearest_not_in_text(answer)
        extra = ("\n\nThe nearest figures the snapshot does have:\n"
                 + "\n".join(f"- {esc(n)}" for n in nearest)) if nearest else ""
        st.info(f"**Not in the snapshot.** {body}{extra}", icon=":material/search_off:")
    for calc in answer.calculations:
        st.caption(f"Calculation: {esc(calc)}")
    for note in answer.notices:
        st.caption(esc(note))
    if answer.citations:
        _show_sources(answer)
    _show_feedback(msg, question, store)


def chat_tab(store: FeedbackStore) -> None:
    """The conversation: history, starters on an empty one, the chat box at the bottom."""
    state = st.session_state
    area = st.container()
    typed = st.chat_input("Ask about the snapshot, e.g. What is the average salary?",
                          max_chars=MAX_TYPED_CHARS)
    with area:
        question = ""
        for msg in state.messages:
            if msg["role"] == "user":
                question = msg["content"]
                _show_user(question)
            else:
                with st.chat_message("assistant"):
                    _show_answer(msg, question, store)
        picked = None
        if not state.messages and not typed:
            slot = st.empty()
            with slot.container():
                st.markdown("Ask a question about the snapshot, or start with one of these:")
                cols = st.columns(len(STARTERS))
                for i, (col, q) in enumerate(zip(cols, STARTERS, strict=True)):
                    if col.button(esc(q), key=f"starter-{i}", width="stretch", wrap=True):
                        picked = q
            if picked:
                slot.empty()
        prompt = typed or picked
        if prompt:
            state.messages.append({"role": "user", "content": prompt, "id": uuid.uuid4().hex})
            _show_user(prompt)
            with st.chat_message("assistant"):
                with st.spinner("Looking it up in the snapshot…"):
                    msg = _ask(prompt)
                state.messages.append(msg)
                _show_answer(msg, prompt, store)


def _share_chart(table) -> None:
    share = export.uk_share_rows(table)
    if share.empty:
        st.caption("The snapshot states no shares of UK totals.")
        return
    base = alt.Chart(share).encode(
        x=alt.X("share:Q", title="Midlands share of the UK total (%)"),
        y=alt.Y("metric:N", sort="-x", title=None, axis=alt.Axis(labelLimit=360)),
        tooltip=[alt.Tooltip("label:N", title="Metric"), alt.Tooltip("display:N", title="Share"),
                 alt.Tooltip("section:N"), alt.Tooltip("source:N"), alt.Tooltip("quote:N")],
    )
    chart = base.mark_bar(color="#2b6cb0") + base.mark_text(align="left", dx=4).encode(
        text="display:N")
    st.altair_chart(chart, width="stretch")


def _investment_charts(table) -> None:
    inv = export.investment_rows(table)
    if inv.empty:
        st.caption("The snapshot states no FDI and DDI figures.")
        return
    measures = list(dict.fromkeys(inv["measure"]))
    for col, measure in zip(st.columns(len(measures)), measures, strict=True):
        rows = inv[inv["measure"] == measure]
        unit = rows["unit"].iloc[0]
        base = alt.Chart(rows, title=f"{measure} ({rows['period'].iloc[0]}, {unit})").encode(
            x=alt.X("kind:N", title=None, sort=["FDI", "DDI"], axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=unit, axis=alt.Axis(format="~s")),
            tooltip=["kind:N", "display:N", "period:N", "source:N", "quote:N"],
        )
        bars = base.mark_bar().encode(color=alt.Color(
            "kind:N", legend=None, scale=alt.Scale(domain=["FDI", "DDI"], range=INVESTMENT_COLOURS)))
        labels = base.mark_text(dy=-8, color="#262730").encode(text="display:N")
        col.altair_chart(bars + labels, width="stretch")


def explorer_tab(table) -> None:
    """Every figure in the snapshot, filterable, with charts and a CSV download."""
    opts = export.filter_options(table)
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1.2])
    sections = c1.multiselect("Section", opts["section"], key="filter-section")
    sources = c2.multiselect("Data source", opts["source"], key="filter-source")
    units = c3.multiselect("Unit", opts["unit"], key="filter-unit")
    text = c4.text_input("Search labels and quotes", key="filter-text",
                         placeholder="salary, FDI, Wavteq…", max_chars=MAX_FILTER_CHARS)
    rows = export.filter_metrics(table, sections, sources, units, text)
    st.caption(f"{len(rows)} of {len(table)} figures")
    st.dataframe(export.explorer_view(rows), hide_index=True, width="stretch")
    st.download_button("Download these figures (CSV)", export.table_csv(rows),
                       file_name="snapshot-metrics.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:")
    st.subheader("The Midlands' share of UK totals")
    st.caption("Every figure the snapshot states as a share of a UK total (summary restatements "
               "counted once). Hover a bar for its quote and source.")
    _share_chart(table)
    st.subheader("Foreign vs domestic direct investment")
    st.caption("FDI: foreign direct investment. DDI: domestic direct investment.")
    _investment_charts(table)


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
    st.markdown("**Data sources named in the snapshot**")
    st.markdown("\n".join(f"- {esc(s)}" for s in facts.sources) or "None named.")
    st.markdown("**Caveats, in the snapshot's own words**")
    for section, quote in facts.caveats:
        st.markdown("> " + esc(quote))
        st.caption(esc(section))


def sidebar_downloads(bot: Chatbot) -> None:
    messages = st.session_state.messages
    title = bot.corpus.snapshots[0].title if bot.corpus.snapshots else "the snapshot"
    st.sidebar.download_button(
        "Download conversation (Markdown)", export.conversation_markdown(messages, title),
        file_name="snapshot-qa-conversation.md", mime="text/markdown", on_click="ignore",
        disabled=not messages, width="stretch", icon=":material/description:")
    st.sidebar.download_button(
        "Download quoted figures (CSV)", export.figures_csv(messages, bot.corpus.table),
        file_name="snapshot-qa-figures.csv", mime="text/csv", on_click="ignore",
        disabled=not messages, width="stretch", icon=":material/table:")


def main() -> None:
    st.set_page_config(page_title="Snapshot Q&A", page_icon=":material/query_stats:", layout="wide")
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
    state = st.session_state
    new = st.sidebar.button("New conversation", icon=":material/add:", width="stretch")
    if new or "messages" not in state:
        state.messages = []
        state.conversation = bot.conversation()
    state.setdefault("session_id", uuid.uuid4().hex)
    title = bot.corpus.snapshots[0].title if bot.corpus.snapshots else "Snapshot"
    st.title("Snapshot Q&A")
    st.caption(f"{esc(title)}: every figure exact, with its data source and the snapshot's own "
               "words.")
    chat, explorer, about = st.tabs(["Ask", "Metrics explorer", "About this data"])
    with chat:
        chat_tab(FeedbackStore(settings.feedback_db))
    with explorer:
        explorer_tab(bot.corpus.table)
    with about:
        about_tab(bot)
    sidebar_downloads(bot)


try:
    main()
except ChatbotError as exc:
    log.error("the app failed: %s", exc)
    st.error(exc.for_readers)
except Exception:
    log.exception("the app failed")
    st.error(APP_ERROR)
