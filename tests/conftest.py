"""Shared fixtures: the real corpus, parsed once; settings pointing at temporary folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from chatbot.engine import load_corpus  # noqa: E402
from chatbot.ingest import clean, load_snapshot  # noqa: E402
from chatbot.settings import DEFAULT_CORPUS, ROOT, Settings  # noqa: E402

CORPUS = DEFAULT_CORPUS


@pytest.fixture(scope="session")
def snapshot():
    return load_snapshot(CORPUS)


@pytest.fixture(scope="session")
def raw_text() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def clean_text(raw_text) -> str:
    return clean(raw_text)


@pytest.fixture(scope="session")
def corpus():
    return load_corpus(Settings())


@pytest.fixture(scope="session")
def table(corpus):
    return corpus.table


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with a private copy of the corpus, metrics file and index folder."""
    cdir = tmp_path / "corpus"
    cdir.mkdir()
    shutil.copy(CORPUS, cdir / CORPUS.name)
    return Settings(corpus_paths=(cdir / CORPUS.name,), metrics_path=cdir / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=tmp_path / "indexes", feedback_db=tmp_path / "feedback.sqlite3")


@pytest.fixture(scope="session")
def bot():
    """One real engine (dense retrieval loaded) shared by the answer tests."""
    from chatbot.engine import Chatbot

    b = Chatbot(Settings())
    assert b.wait_ready(timeout=300), "dense retrieval failed to load"
    return b


@pytest.fixture
def ask(bot):
    """Ask one or more turns in a fresh conversation; return the last answer."""

    def _ask(*turns: str):
        conv = bot.conversation()
        ans = None
        for t in turns:
            ans = conv.ask(t)
        return ans

    return _ask
