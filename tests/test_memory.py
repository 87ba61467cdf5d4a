"""Bounded memory (issue 14, item 4): no cache grows with what users type.

Before: 10,000 asks of random words took the process from 368 to 597 MB, because the
typo-correction cache kept every unknown word (2.0 M entries), and ``reset()`` freed nothing of
it. Here 10,000 random-word asks (20-30 invented words each) go through the public API in a
fresh process, in conversations of 20 turns; the resident memory after 10,000 must stay within
10% of the memory after 100. The caches of the retriever are checked at their bounds, and a
conversation's own state is freed by ``reset()`` and by dropping the conversation.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref

import pytest
from conftest import private_settings

from chatbot import Chatbot
from chatbot.carry import MEMORY
from chatbot.retrieve import BOOST_CACHE_SIZE, QUERY_CACHE_SIZE, DenseSearcher, Retriever
from chatbot.text import TYPO_CACHE_SIZE

ASKS = 10_000
#: Allowed growth of resident memory from 100 asks to 10,000.
MAX_GROWTH = 0.10

SCRIPT = r"""
import gc, json, random, string, sys
from pathlib import Path
from chatbot import Chatbot, Settings

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

def typo_cache_mb(bot):
    cache = bot.engine.understanding.corrector._cache  # the typo-correction LRU
    size = sys.getsizeof(cache) + sum(sys.getsizeof(k) + (sys.getsizeof(v) if v is not k else 0)
                                      for k, v in cache.items())
    return size / 2**20, len(cache)

root = Path(sys.argv[1])
bot = Chatbot(Settings(corpus_paths=(root / "corpus" / sys.argv[2],), metrics_path=root / "m.csv",
                       index_dir=root / "indexes", dense=False))
rng = random.Random(14)
word = lambda: "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10)))
out = {}
conv = bot.conversation()
for i in range(1, int(sys.argv[3]) + 1):
    if i % 20 == 0:
        conv = bot.conversation()
    conv.ask(" ".join(word() for _ in range(rng.randint(20, 30))))
    if i in (100, int(sys.argv[3])):
        gc.collect()
        typo_mb, typo_n = typo_cache_mb(bot)
        out[i] = {"rss": rss_mb(), "typo_mb": typo_mb, "typo_entries": typo_n,
                  "boost_entries": len(bot.retriever._weights)}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_memory_is_flat_over_10000_random_word_asks(tmp_path):
    s = private_settings(tmp_path / "w", dense=False)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "w"), s.corpus_paths[0].name,
                          str(ASKS)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    early, late = got["100"], got[str(ASKS)]
    print(f"\nmemory: {early['rss']:.1f} MB after 100 asks, {late['rss']:.1f} MB after {ASKS:,} "
          f"(typo-correction cache: {late['typo_entries']:,} entries, {late['typo_mb']:.1f} MB)")
    assert late["boost_entries"] <= BOOST_CACHE_SIZE
    assert late["typo_entries"] <= TYPO_CACHE_SIZE
    assert late["rss"] <= (1 + MAX_GROWTH) * early["rss"], got


def test_query_vector_cache_is_bounded():
    calls = []
    searcher = DenseSearcher(lambda texts: calls.append(texts) or [[0.0]] * len(texts), store=None)
    for i in range(QUERY_CACHE_SIZE * 4):
        searcher.vector(f"question {i}")
    assert len(searcher._cache) == QUERY_CACHE_SIZE
    searcher.vector(f"question {QUERY_CACHE_SIZE * 4 - 1}")  # recent: still cached
    assert len(calls) == QUERY_CACHE_SIZE * 4


def test_exact_term_weights_are_bounded(corpus):
    retriever = Retriever(corpus.chunks)
    for i in range(BOOST_CACHE_SIZE + 500):
        retriever.boost_weight(f"Term{i}")
    assert len(retriever._weights) <= BOOST_CACHE_SIZE


def test_reset_and_dropping_a_conversation_free_its_state(tmp_path):
    bot = Chatbot(private_settings(tmp_path / "w", dense=False))
    conv = bot.conversation()
    for i in range(200):
        conv.ask(f"What is the average salary? {i}")
    assert len(conv.history) <= MEMORY * 8 and len(conv.state.turns) <= MEMORY  # bounded
    conv.reset()
    assert conv.history == [] and conv.state.turns == ()
    inner = weakref.ref(conv._inner)
    answers = weakref.ref(conv.ask("How many FDI jobs were there?"))
    del conv
    gc.collect()
    assert inner() is None and answers() is None, "something outside the conversation kept it"
