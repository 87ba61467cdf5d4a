"""Truncated corpus and tampered metrics.csv are caught (issue 14, item 3).

Before: the first 2,584 bytes of the snapshot loaded 29 of 81 metrics and answered "doesn't say"
with exit 0 (90% of the file passed too), and ``chatbot metrics`` printed a truncated (37 rows)
or hand-edited (a figure changed to 99,999) ``metrics.csv`` with exit 0.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from chatbot import Chatbot
from chatbot.cli import cli
from chatbot.engine import build, load_corpus
from chatbot.errors import CorpusError
from chatbot.settings import DEFAULT_CORPUS, ROOT, Settings

SALARY_Q = "What is the average salary?"
CACHE = ROOT / "indexes" / "embedding-cache.json"


def _settings(root) -> Settings:
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    path = root / "corpus" / DEFAULT_CORPUS.name
    if not path.exists():
        shutil.copy(DEFAULT_CORPUS, path)
        (root / "indexes").mkdir()
        if CACHE.exists():  # builds reuse the repo's embeddings instead of loading the model
            shutil.copy(CACHE, root / "indexes" / CACHE.name)
    return Settings(corpus_paths=(path,), metrics_path=root / "corpus" / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=root / "indexes", feedback_db=root / "feedback.sqlite3", dense=False)


def _env(s: Settings) -> dict[str, str]:
    return {"CHATBOT_CORPUS": str(s.corpus_paths[0]), "CHATBOT_METRICS": str(s.metrics_path),
            "CHATBOT_INDEX_DIR": str(s.index_dir), "CHATBOT_DENSE": "0", "CHATBOT_CHROMA_URL": "",
            "CHATBOT_LLM": ""}


def _cut(s: Settings, keep: int | float) -> None:
    path = s.corpus_paths[0]
    data = DEFAULT_CORPUS.read_bytes()
    n = keep if isinstance(keep, int) else int(len(data) * keep)
    path.write_bytes(data[:n].decode("utf-8", "ignore").encode())


@pytest.mark.parametrize("keep", [2584, 0.9], ids=["2584 bytes", "90%"])
def test_truncated_corpus_is_refused_without_any_build(tmp_path, keep):
    s = _settings(tmp_path)
    _cut(s, keep)
    with pytest.raises(CorpusError, match="looks truncated") as err:
        Chatbot(s)
    assert "sections missing:" in str(err.value) and "Data note" in str(err.value)
    res = CliRunner().invoke(cli, ["ask", SALARY_Q], env=_env(s))
    assert res.exit_code == 1 and res.stderr.startswith("Error: ") and "truncated" in res.stderr
    assert "Traceback" not in res.output


def test_cut_that_keeps_every_section_is_caught_against_the_last_build(tmp_path):
    s = _settings(tmp_path)
    build(s, progress=lambda _m: None)
    raw = DEFAULT_CORPUS.read_text(encoding="utf-8")
    # Stop inside the data note: its heading survives, its figures (May 2023, 65 LAs) do not.
    s.corpus_paths[0].write_text(raw[:raw.index("This data has been compiled") + 60], encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        Chatbot(s)
    message = str(err.value)
    assert "of the 10,338 bytes" in message and "of the 81 figures the last build read" in message
    assert "--accept-corpus" in message
    res = CliRunner().invoke(cli, ["build"], env=_env(s))
    assert res.exit_code == 1 and "looks truncated" in res.stderr
    res = CliRunner().invoke(cli, ["build", "--quiet", "--accept-corpus"], env=_env(s))
    assert res.exit_code == 0, res.output  # an intended cut, said so
    Chatbot(s)  # and it is the new reference


def test_an_edit_that_grows_the_corpus_is_not_truncation(tmp_path):
    s = _settings(tmp_path)
    build(s, progress=lambda _m: None)
    with open(s.corpus_paths[0], "a", encoding="utf-8") as fh:
        fh.write("\n\nA closing paragraph added by hand.\n")
    assert "£34,131" in Chatbot(s).conversation().ask(SALARY_Q).text


def test_truncated_metrics_csv_is_reported(tmp_path):
    s = _settings(tmp_path)
    build(s, progress=lambda _m: None)
    lines = s.metrics_path.read_text(encoding="utf-8").splitlines(keepends=True)
    s.metrics_path.write_text("".join(lines[:38]), encoding="utf-8")  # header + 37 rows
    res = CliRunner().invoke(cli, ["metrics"], env=_env(s))
    assert res.exit_code == 1, res.output
    assert res.stderr.startswith("Error: ") and "37 rows where the corpus gives 81" in res.stderr
    assert "run `chatbot build`" in res.stderr


def test_hand_edited_metrics_csv_is_reported_then_rebuilt(tmp_path):
    s = _settings(tmp_path)
    build(s, progress=lambda _m: None)
    text = s.metrics_path.read_text(encoding="utf-8")
    assert text.count("34131") == 1
    s.metrics_path.write_text(text.replace("34131", "99999"), encoding="utf-8")
    res = CliRunner().invoke(cli, ["metrics"], env=_env(s))
    assert res.exit_code == 1 and "talent-earnings-average-salary" in res.stderr
    assert "has value '99999.0' where the corpus says '34131.0'" in res.stderr
    assert CliRunner().invoke(cli, ["build", "--quiet"], env=_env(s)).exit_code == 0
    res = CliRunner().invoke(cli, ["metrics"], env=_env(s))
    assert res.exit_code == 0 and "£34,131" in res.stdout and "99,999" not in res.stdout


def test_engine_start_rewrites_a_tampered_table(tmp_path, caplog):
    s = _settings(tmp_path)
    corpus = load_corpus(s)
    s.metrics_path.write_text(corpus.csv_text.replace("34131", "99999"), encoding="utf-8")
    bot = Chatbot(s)
    assert "differed from the table the corpus gives" in caplog.text
    assert s.metrics_path.read_text(encoding="utf-8") == corpus.csv_text
    assert "£34,131" in bot.conversation().ask(SALARY_Q).text
