"""Many users at once: one shared engine, one conversation each, no cross-talk.

Twenty threads share one ``Chatbot`` (dense retrieval on); each plays a short follow-up script
whose later turns only make sense given its own history. Several scripts ask the *same*
follow-up ("And domestic?", "What share of the UK is that?") expecting different answers, so a
conversation that borrowed another's state would give a visibly wrong figure. A barrier before
every turn makes the threads ask at the same moment, for several rounds; every answer must equal
the one the same script gets when played alone.

Then five Streamlit sessions (``AppTest``, sharing the app's cached engine) play different
scripts with their turns interleaved and must each show their own follow-up answer.
"""

from __future__ import annotations

import random
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chatbot import Chatbot
from chatbot.settings import DEFAULT_CORPUS, ROOT, Settings

pytestmark = pytest.mark.slow

#: (question, text the answer must contain) per turn.
SCRIPTS: list[list[tuple[str, str]]] = [
    [("How many FDI jobs were there?", "889"), ("And domestic?", "3,321"),
     ("What share of the UK total is that?", "17%")],
    [("What is the average salary?", "£34,131"), ("How does that compare nationally?", "£46,894"),
     ("Where does that figure come from?", "ONS ASHE")],
    [("How many FDI projects were there?", "**27**"), ("And DDI?", "**47**"),
     ("Where does that come from?", "Wavteq")],
    [("What was the FDI capex?", "$266.3m"), ("And domestic?", "$544.21m"),
     ("What share of the UK is that?", "15%")],
    [("What does the snapshot say about NHS procurement?", "procurement"),
     ("How many businesses are in the cluster?", "222"), ("What share of the UK is that?", "14%")],
]
THREADS = 20
ROUNDS = 3


def _settings(root: Path) -> Settings:
    (root / "corpus").mkdir(parents=True)
    (root / "indexes").mkdir()
    shutil.copy(DEFAULT_CORPUS, root / "corpus" / DEFAULT_CORPUS.name)
    cache = ROOT / "indexes" / "embedding-cache.json"
    if cache.exists():
        shutil.copy(cache, root / "indexes" / cache.name)
    return Settings(corpus_paths=(root / "corpus" / DEFAULT_CORPUS.name,),
                    metrics_path=root / "corpus" / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=root / "indexes", feedback_db=root / "feedback.sqlite3")


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Chatbot:
    b = Chatbot(_settings(tmp_path_factory.mktemp("concurrency")))
    assert b.wait_ready(300), b._dense_error
    return b


@pytest.fixture(scope="module")
def alone(bot) -> list[list[str]]:
    """Each script's answers when it is the only conversation."""
    out = []
    for script in SCRIPTS:
        conv = bot.conversation()
        texts = [conv.ask(q).text for q, _want in script]
        for text, (q, want) in zip(texts, script, strict=True):
            assert want in text, (q, text)
        out.append(texts)
    return out


def test_twenty_conversations_at_once_keep_their_own_history(bot, alone):
    barrier = threading.Barrier(THREADS, timeout=120)
    turns = max(len(s) for s in SCRIPTS)
    wrong: list[str] = []
    asked = [0]
    lock = threading.Lock()

    def play(i: int) -> None:
        rng = random.Random(i)
        script = SCRIPTS[i % len(SCRIPTS)]
        for _round in range(ROUNDS):
            conv = bot.conversation()
            for t in range(turns):
                barrier.wait()  # everyone asks turn t together
                if t >= len(script):
                    continue
                if rng.random() < 0.5:
                    threading.Event().wait(rng.random() / 200)  # shuffle the interleaving
                q, want = script[t]
                text = conv.ask(q).text
                with lock:
                    asked[0] += 1
                    if want not in text or text != alone[i % len(SCRIPTS)][t]:
                        wrong.append(f"thread {i} turn {t} {q!r}: {text[:120]!r}")

    with ThreadPoolExecutor(THREADS) as pool:
        for f in [pool.submit(play, i) for i in range(THREADS)]:
            f.result()  # re-raises anything a thread raised
    assert asked[0] == THREADS * ROUNDS * turns
    assert not wrong, wrong
    print(f"\n{THREADS} concurrent conversations x {ROUNDS} rounds: {asked[0]} answers, "
          f"{len(wrong)} wrong")


def test_one_conversation_shared_by_threads_stays_consistent(bot):
    """Two threads talking in one conversation (two browser tabs of one session): turns are
    serialised, so history has every turn once and in a consistent order."""
    conv = bot.conversation()
    qs = ["What is the average salary?", "How many FDI jobs were there?"] * 10
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(conv.ask, qs))
    assert len(conv.history) == len(qs)
    assert sorted(q for q, _a in conv.history) == sorted(qs)
    assert all(a.answered for a in answers)


# --------------------------------------------------------------------------- Streamlit sessions

APP = str(ROOT / "chatbot" / "app.py")
SESSIONS = 5


def _has_chat_input() -> bool:
    path = Path(APP)
    return path.exists() and "st.chat_input" in path.read_text(encoding="utf-8")


@pytest.mark.skipif(not _has_chat_input(), reason="chatbot/app.py has no chat input yet")
def test_five_streamlit_sessions_at_once(tmp_path, monkeypatch):
    """Five live sessions on the app's one cached engine, their turns interleaved in a shuffled
    order each round. (``AppTest`` swaps a process-global mock ``Runtime`` in and out around
    every run, so two runs in two threads break each other — "Runtime hasn't been created!" —
    hence interleaving; parallel answering itself is the twenty-thread test above.)"""
    from streamlit.testing.v1 import AppTest

    s = _settings(tmp_path / "w")
    for name, value in {"CHATBOT_CORPUS": str(s.corpus_paths[0]),
                        "CHATBOT_METRICS": str(s.metrics_path),
                        "CHATBOT_INDEX_DIR": str(s.index_dir),
                        "CHATBOT_FEEDBACK_DB": str(s.feedback_db), "HF_HUB_OFFLINE": "1"}.items():
        monkeypatch.setenv(name, value)
    sessions = []
    for _i in range(SESSIONS):
        at = AppTest.from_file(APP, default_timeout=120).run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error and at.chat_input, [e.value for e in at.error]
        sessions.append(at)
    rng = random.Random(5)
    turns = 2
    for t in range(turns):
        order = list(range(SESSIONS))
        rng.shuffle(order)
        for i in order:
            at = sessions[i]
            q, _want = SCRIPTS[i % len(SCRIPTS)][t]
            at.chat_input[0].set_value(q).run()
            assert not at.exception, [e.value for e in at.exception]
            assert not at.error, [e.value for e in at.error]
    for i, at in enumerate(sessions):
        script = SCRIPTS[i % len(SCRIPTS)][:turns]
        msgs = at.chat_message
        assert [m.name for m in msgs] == ["user", "assistant"] * turns, i
        for t, (q, want) in enumerate(script):
            assert [m.value for m in msgs[2 * t].markdown] == [q]  # its own questions only
            shown = " ".join(m.value for m in msgs[2 * t + 1].markdown)
            assert want in shown, (i, q, shown)
