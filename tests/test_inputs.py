"""Inputs: every bound on user input, in one place (``chatbot.inputs``).

Reproductions from issue 14: normalising before the cut made 60 MB through the API take 20 s
and 2.1 GB; zero-width characters split words; a lone surrogate failed a feedback write; a FIFO
or ``/dev/zero`` as corpus hung forever; ``search -k -1`` was accepted.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatbot.errors import ConfigError, CorpusError
from chatbot.inputs import (
    MAX_COMMENT_CHARS,
    MAX_QUESTION_CHARS,
    MAX_SEARCH_K,
    clean_comment,
    clean_field,
    clean_question,
    read_corpus_bytes,
    search_depth,
)

#: Characters that expand under NFKC (up to 18 characters for one), mixed with zero-width ones.
HEAVY = "ＷＨＡＴ ＩＳ ｓａｌａｒｙ？ ﷺ\x00\u200b "


@pytest.mark.parametrize("size", [3_000_000, 60_000_000])
def test_huge_input_costs_what_a_short_one_does(size):
    text = (HEAVY * (size // len(HEAVY) + 1))[:size]
    t0 = time.perf_counter()
    cleaned, notices = clean_question(text)
    took = time.perf_counter() - t0
    assert took < 0.05, f"{size:,} characters took {took:.3f} s"
    assert len(cleaned) <= MAX_QUESTION_CHARS
    assert notices == [f"Your question was cut at {MAX_QUESTION_CHARS:,} characters; only the first "
                       f"{MAX_QUESTION_CHARS:,} were read."]


def test_huge_input_through_the_api_is_fast_and_small(tmp_path):
    """60 MB through ``Chatbot(...).conversation().ask`` in a fresh process: seconds and
    megabytes before, now bounded by the input string itself."""
    code = (
        "import resource, sys, time\n"
        "from chatbot import Chatbot, Settings\n"
        "conv = Chatbot(Settings(dense=False)).conversation()\n"
        f"q = ({HEAVY!r} * 2_000_000)[:60_000_000]\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter(); a = conv.ask(q); took = time.perf_counter() - t\n"
        "grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base\n"
        "print(took, grew // 1024, len(conv.history[-1][0]), a.notices)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    took, grew_mb, kept, *_ = out.stdout.split(maxsplit=3)
    print(f"\n60 MB question through the API: {float(took):.3f} s, peak RSS +{grew_mb} MB")
    assert float(took) < 1.0 and int(grew_mb) < 50
    assert int(kept) <= MAX_QUESTION_CHARS  # the conversation keeps the bounded text only


def test_cut_happens_before_normalisation_and_is_exact():
    at, none = clean_question("a" * MAX_QUESTION_CHARS)
    over, cut = clean_question("a" * (MAX_QUESTION_CHARS + 1))
    assert (len(at), none) == (MAX_QUESTION_CHARS, [])
    assert len(over) == MAX_QUESTION_CHARS and len(cut) == 1 and "2,000" in cut[0]
    grown, notices = clean_question("ﷺ" * 500)  # 500 characters, 9,000 after NFKC
    assert len(grown) <= MAX_QUESTION_CHARS and notices


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",
                                       "\u202e", "\u2066"])
def test_invisible_characters_do_not_split_words(invisible):
    text, _ = clean_question(f"average sal{invisible}ary")
    assert text == "average salary"


def test_controls_are_spaces_and_surrogates_go():
    assert clean_question("average\x00salary\x1b[31m")[0] == "average salary [31m"
    assert clean_question("sal\ud800ary \udfff")[0] == "salary"
    assert clean_question("ＡＶＥＲＡＧＥ\u3000ｓａｌａｒｙ")[0] == "AVERAGE salary"


@pytest.mark.parametrize("raw, expected", [
    (None, ""), (b"average \xff salary", "average \ufffd salary"), (12345, "12345"),
    (bytearray(b"salary"), "salary"), (10 ** 5000, ""), ("   \t\n ", ""),
], ids=["none", "bytes", "int", "bytearray", "huge-int", "blank"])
def test_any_object_becomes_bounded_text(raw, expected):
    assert clean_question(raw)[0] == expected


def test_comments_are_bounded_and_keep_line_breaks():
    text, notices = clean_comment("x" * 10_000_000)
    assert len(text) == MAX_COMMENT_CHARS and notices == [
        f"Your comment was cut at {MAX_COMMENT_CHARS:,} characters."]
    assert clean_comment("Wrong figure.\n\n  It says\u200b 889\ud800.  ")[0] == "Wrong figure.\nIt says 889."


def test_stored_fields_lose_lone_surrogates_only():
    assert clean_field("£34,131 — **bold** <b>\ud800") == "£34,131 — **bold** <b>?"
    assert len(clean_field("x" * 100_000, 50)) == 50


@pytest.mark.parametrize("k", [-1, 0, MAX_SEARCH_K + 1, 2.5, "3", True])
def test_search_depth_outside_the_range_is_refused(k):
    with pytest.raises(ConfigError, match=f"from 1 to {MAX_SEARCH_K}"):
        search_depth(k)
    assert search_depth(1) == 1 and search_depth(MAX_SEARCH_K) == MAX_SEARCH_K


def test_fifo_device_and_folder_as_corpus_fail_at_once(tmp_path):
    fifo = tmp_path / "snapshot.txt"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    cases = {fifo: "a pipe (FIFO)", Path("/dev/zero"): "a device", tmp_path: "a folder"}
    for path, kind in cases.items():
        t0 = time.perf_counter()
        with pytest.raises(CorpusError, match="not a text file") as err:
            read_corpus_bytes(path)
        assert kind in str(err.value) and time.perf_counter() - t0 < 1


def test_oversized_corpus_is_refused_without_reading_it(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(200_000_000)  # sparse: no disk used
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CorpusError, match="more than the 50,000,000"):
        read_corpus_bytes(big)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # kB


def test_fifo_corpus_through_the_cli_is_an_error_not_a_hang(tmp_path):
    fifo = tmp_path / "snapshot.txt"
    os.mkfifo(fifo)
    env = os.environ | {"CHATBOT_CORPUS": str(fifo), "CHATBOT_INDEX_DIR": str(tmp_path / "ix"),
                        "CHATBOT_METRICS": str(tmp_path / "metrics.csv")}
    out = subprocess.run([str(Path(sys.executable).parent / "chatbot"), "ask", "salary?"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stderr.startswith("Error: ") and "FIFO" in out.stderr
    assert "Traceback" not in out.stderr
