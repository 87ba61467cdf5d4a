"""Faults: a broken corpus, a broken index, a killed build, a Chroma server that goes away.

- A bad corpus file (missing, empty, not UTF-8, binary, an unparsable figure) makes
  ``chatbot build`` exit 1 with ``Error: FILE[:LINE]: …`` and leaves the previous index (the
  ``current`` link, its folder, the manifest) and ``metrics.csv`` byte for byte as they were.
- A corrupted Chroma file, a manifest with a wrong hash or unreadable, a dangling ``current``
  link and a deleted ``indexes/`` folder are each found when ``Chatbot(settings)`` starts: the
  index is rebuilt and a WARNING "rebuilding the index: <reason>" is logged.
- ``chatbot build --force`` killed with SIGKILL at several points leaves the previous index
  serving; the next start (and the next build) works and leaves no half-built folders.
- Server mode: with a real ``chroma run``, prose questions are answered from keyword search with
  a notice while the server is down (the warning in the log names the URL; the CLI exits 0 and
  prints the note), figure questions still work from the table, and dense retrieval is back
  once the server is, without restarting the app. An explicit dense search names the URL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from chatbot import Chatbot
from chatbot.cli import cli
from chatbot.engine import build, load_corpus
from chatbot.errors import ServerUnavailableError
from chatbot.index import CURRENT, MANIFEST, expected_manifest, open_embedded, read_manifest, stale_reason
from chatbot.retrieve import KEYWORD_ONLY_NOTICE
from chatbot.settings import DEFAULT_CORPUS, ROOT, Settings

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PROSE_Q = "What does the snapshot say about NHS procurement?"
SALARY_Q = "What is the average salary?"
SALARY = "£34,131"
CACHE = ROOT / "indexes" / "embedding-cache.json"


def _settings(root: Path, **changes) -> Settings:
    cdir = root / "corpus"
    return Settings(corpus_paths=(cdir / DEFAULT_CORPUS.name,), metrics_path=cdir / "metrics.csv",
                    overrides_path=ROOT / "corpus" / "metric_overrides.csv",
                    index_dir=root / "indexes", feedback_db=root / "feedback.sqlite3", **changes)


def _fresh(root: Path, warm: bool = True) -> Settings:
    """A private corpus copy and an empty index folder (with the warm embedding cache)."""
    (root / "corpus").mkdir(parents=True)
    (root / "indexes").mkdir()
    shutil.copy(DEFAULT_CORPUS, root / "corpus" / DEFAULT_CORPUS.name)
    if warm and CACHE.exists():
        shutil.copy(CACHE, root / "indexes" / CACHE.name)
    return _settings(root)


def _env(s: Settings) -> dict[str, str]:
    return {"CHATBOT_CORPUS": os.pathsep.join(str(p) for p in s.corpus_paths),
            "CHATBOT_METRICS": str(s.metrics_path), "CHATBOT_INDEX_DIR": str(s.index_dir),
            "CHATBOT_CHROMA_URL": s.chroma_url or "", "CHATBOT_DENSE": "1", "CHATBOT_LLM": ""}


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> Path:
    """A complete build (corpus, metrics.csv, index) that each test copies to a new path.

    Copies, because Chroma caches clients by path inside a process: a test that damages an
    index must open it for the first time."""
    root = tmp_path_factory.mktemp("golden")
    build(_fresh(root), progress=lambda _m: None)
    return root


@pytest.fixture
def built(golden, tmp_path) -> Settings:
    """A private copy of the golden build."""
    shutil.copytree(golden, tmp_path / "w", symlinks=True)
    return _settings(tmp_path / "w")


def _state(s: Settings) -> dict[str, str]:
    """Every file under the index folder and metrics.csv, hashed; links by their target."""
    out = {"metrics.csv": hashlib.sha256(Path(s.metrics_path).read_bytes()).hexdigest()}
    root = Path(s.index_dir)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _current(s: Settings) -> Path:
    return (Path(s.index_dir) / CURRENT).resolve()


def _rebuild_records(caplog) -> list[logging.LogRecord]:
    """The index's own log lines about a rebuild (not the progress echo at INFO)."""
    return [r for r in caplog.records
            if r.name == "chatbot.index" and r.getMessage().startswith("rebuilding the index:")]


# --------------------------------------------------------------------------- corpus problems


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def _latin1(path: Path) -> int:
    raw = path.read_text(encoding="utf-8")
    data = raw.encode("latin-1", errors="replace")
    path.write_bytes(data)
    first = next(i for i, b in enumerate(data) if b >= 0x80)
    return data[:first].count(b"\n") + 1


def _unparsable(path: Path) -> int:
    raw = path.read_text(encoding="utf-8")
    assert raw.count("**26**") == 1
    path.write_text(raw.replace("**26**", "**lots**"), encoding="utf-8")
    return _line_of(raw, "**26**")


def _nul(path: Path) -> int:
    raw = path.read_text(encoding="utf-8")
    at = raw.index("Talent")
    path.write_text(raw[:at] + "\x00" + raw[at:], encoding="utf-8")
    return _line_of(raw, "Talent")


def _missing(path: Path) -> None:  # no line to name
    path.unlink()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


CORPUS_FAULTS: dict[str, Callable[[Path], int | None]] = {
    "missing": _missing,
    "empty": _empty,
    "latin-1": _latin1,
    "unparsable figure": _unparsable,
    "NUL byte": _nul,
}


@pytest.mark.parametrize("fault", list(CORPUS_FAULTS))
def test_bad_corpus_fails_the_build_and_keeps_the_previous_index(built, fault):
    before = _state(built)
    assert (Path(built.index_dir) / CURRENT).is_symlink() and "metrics.csv" in before
    path = built.corpus_paths[0]
    line = CORPUS_FAULTS[fault](path)
    res = CliRunner().invoke(cli, ["build"], env=_env(built))
    assert res.exit_code == 1, res.output
    assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1, res.stderr
    message = errors[0]
    assert str(path) in message, message
    if line is not None:
        assert f"{path}:{line}:" in message, (line, message)
    assert _state(built) == before  # index, manifest, link and metrics table untouched


def test_bad_corpus_at_start_is_a_clear_error(built):
    built.corpus_paths[0].write_bytes(b"")
    res = CliRunner().invoke(cli, ["ask", SALARY_Q], env=_env(built))
    assert res.exit_code == 1 and res.output.startswith("Error: ")
    assert str(built.corpus_paths[0]) in res.output and "empty" in res.output


# --------------------------------------------------------------------------- index faults


def _garbage(s: Settings) -> None:
    (_current(s) / "chroma" / "chroma.sqlite3").write_bytes(b"not a database " * 500)


def _truncated(s: Settings) -> None:
    p = _current(s) / "chroma" / "chroma.sqlite3"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 3])


def _wrong_hash(s: Settings) -> None:
    p = _current(s) / MANIFEST
    m = json.loads(p.read_text(encoding="utf-8"))
    m["corpus_sha256"] = {k: "0" * 64 for k in m["corpus_sha256"]}
    p.write_text(json.dumps(m), encoding="utf-8")


def _unreadable_manifest(s: Settings) -> None:
    (_current(s) / MANIFEST).write_text("{not json", encoding="utf-8")


def _dangling_link(s: Settings) -> None:
    shutil.rmtree(_current(s))


def _deleted_folder(s: Settings) -> None:
    shutil.rmtree(s.index_dir)


INDEX_FAULTS = {
    "corrupted chroma.sqlite3": (_garbage, "index is corrupt"),
    "truncated chroma.sqlite3": (_truncated, "index is corrupt"),
    "manifest with a wrong hash": (_wrong_hash, "index is stale (corpus_sha256 differs)"),
    "unreadable manifest": (_unreadable_manifest, "manifest.json is missing or unreadable"),
    "dangling current link": (_dangling_link, "no index found"),
    "deleted indexes/ folder": (_deleted_folder, "no index found"),  # embeds from scratch
}


@pytest.mark.parametrize("fault", list(INDEX_FAULTS))
def test_broken_index_is_rebuilt_at_start_with_a_warning(built, fault, caplog):
    damage, reason = INDEX_FAULTS[fault]
    old = _current(built)
    damage(built)
    caplog.set_level(logging.INFO, logger="chatbot")
    bot = Chatbot(built)
    assert bot.wait_ready(600), bot._dense_error
    records = _rebuild_records(caplog)
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].levelno == logging.WARNING and records[0].name.startswith("chatbot")
    assert reason in records[0].getMessage(), records[0].getMessage()
    new = _current(built)
    assert new != old and (new / MANIFEST).exists()
    assert not old.exists()  # the broken build is gone
    assert sorted(p.name for p in Path(built.index_dir).glob("build-*")) == [new.name]
    ans = bot.conversation().ask(PROSE_Q)
    assert ans.answered and ans.kind == "prose" and "procurement" in ans.text.lower()
    # and the next start finds a good index: no second rebuild
    caplog.clear()
    again = Chatbot(built)
    assert again.wait_ready(120) and not _rebuild_records(caplog)


def test_healthy_index_is_loaded_without_a_rebuild(built, caplog):
    caplog.set_level(logging.INFO, logger="chatbot")
    old = _current(built)
    bot = Chatbot(built)
    assert bot.wait_ready(120)
    assert not _rebuild_records(caplog) and _current(built) == old


def test_forced_rebuild_is_info_not_warning(built, caplog):
    caplog.set_level(logging.INFO, logger="chatbot")
    build(built, progress=lambda _m: None, force=True)
    (rec,) = _rebuild_records(caplog)
    assert rec.levelno == logging.INFO and "forced rebuild" in rec.getMessage()


# --------------------------------------------------------------------------- killed builds

KILL_STATS = {"kill points": 0, "broken indexes": 0}


class _Watch:
    """Run ``chatbot build`` and SIGKILL it when ``trigger`` first holds."""

    def __init__(self, s: Settings, args: list[str]):
        self.lines: list[str] = []
        self.proc = subprocess.Popen([str(BIN / "chatbot"), *args], env=os.environ | _env(s),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def saw(self, text: str) -> bool:
        return any(text in ln for ln in self.lines)

    def kill_when(self, trigger: Callable[[], bool], timeout: float = 120) -> bool:
        """True when the build was killed mid-way (not already finished)."""
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            if trigger():
                self.proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.001)
        self.proc.wait(60)
        self._reader.join(10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode == -signal.SIGKILL


def _new(root: Path, before: set[str], pattern: str) -> Callable[[], bool]:
    return lambda: any(p.parts[len(root.parts)] not in before for p in root.glob(pattern))


def _serving(s: Settings, n_chunks: int, metrics_sha: str, vector: list[float], first: str) -> bool:
    """The index ``current`` points at is complete, current and searchable."""
    try:
        manifest = read_manifest(s.index_dir)
        if stale_reason(manifest, expected_manifest(s, metrics_sha, n_chunks)) is not None:
            return False
        store = open_embedded(s)
        return store.count() == n_chunks and store.query(vector, 1)[0][0] == first
    except Exception:
        return False


def test_killed_builds_leave_the_previous_index_serving(built, caplog):
    corpus = load_corpus(built)
    cache = json.loads((Path(built.index_dir) / CACHE.name).read_text(encoding="utf-8"))["vectors"]
    probe = corpus.chunks[7]
    vector = cache[hashlib.sha256(probe.text.encode()).hexdigest()]
    root = Path(built.index_dir)
    metrics_before = Path(built.metrics_path).read_bytes()

    def point(name: str, watch: _Watch, before: set[str]) -> Callable[[], bool]:
        return {
            "after parsing": lambda: watch.saw("metrics table:"),
            "rebuild announced": lambda: watch.saw("rebuilding the index"),
            "embeddings loaded": lambda: watch.saw("cached embeddings"),
            "new build folder": _new(root, before, "build-*"),
            "chroma file written": _new(root, before, "build-*/chroma/chroma.sqlite3"),
            "manifest written": _new(root, before, f"build-*/{MANIFEST}"),
        }[name]

    names = ["after parsing", "rebuild announced", "embeddings loaded", "new build folder",
             "chroma file written", "manifest written"]
    killed: list[str] = []
    for name in names:
        before = {p.name for p in root.iterdir()}
        watch = _Watch(built, ["build", "--force"])
        if watch.kill_when(point(name, watch, before)):
            killed.append(name)
        ok = _serving(built, len(corpus.chunks), corpus.metrics_sha, vector, probe.chunk_id)
        KILL_STATS["broken indexes"] += not ok
        assert ok, f"index broken after a kill at {name!r}: {watch.lines}"
        assert Path(built.metrics_path).read_bytes() == metrics_before
    KILL_STATS["kill points"] += len(killed)
    assert len(killed) >= 3, killed  # the rest finished before the signal landed
    # the next start loads what serves; the next build cleans up and rebuilds
    caplog.set_level(logging.INFO, logger="chatbot")
    bot = Chatbot(built)
    assert bot.wait_ready(120) and not _rebuild_records(caplog)
    assert SALARY in bot.conversation().ask(SALARY_Q).text
    assert bot.conversation().ask(PROSE_Q).kind == "prose"
    done = subprocess.run([str(BIN / "chatbot"), "build", "--force", "--quiet"],
                          env=os.environ | _env(built), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in root.glob("build-*")] == [_current(built).name]
    assert not list(root.glob(".current-*"))
    print(f"\nkilled builds: {len(killed)} kill points ({', '.join(killed)}), "
          f"{KILL_STATS['broken indexes']} broken indexes")


def test_killed_first_build_is_rebuilt_at_next_start(tmp_path, caplog):
    s = _fresh(tmp_path / "w")
    root = Path(s.index_dir)
    watch = _Watch(s, ["build"])
    assert watch.kill_when(_new(root, set(), "build-*/chroma/chroma.sqlite3")), watch.lines
    KILL_STATS["kill points"] += 1
    assert not (root / CURRENT).exists()  # nothing half-built is ever served
    caplog.set_level(logging.INFO, logger="chatbot")
    bot = Chatbot(s)
    assert bot.wait_ready(120), bot._dense_error
    (rec,) = _rebuild_records(caplog)
    assert rec.levelno == logging.WARNING and "no index found" in rec.getMessage()
    assert [p.name for p in root.glob("build-*")] == [_current(s).name]  # leftover removed
    assert bot.conversation().ask(PROSE_Q).kind == "prose"


def test_two_builds_at_once_do_not_break_each_other(built, monkeypatch):
    """A second build (say `chatbot build` while the app rebuilds) waits for the first instead
    of deleting its half-written folder as a leftover."""
    import chatbot.index as index

    fill, started = index._fill, threading.Event()

    def slow_fill(*args):
        started.set()
        time.sleep(1.0)  # the first build is mid-write when the second one starts
        fill(*args)

    monkeypatch.setattr(index, "_fill", slow_fill)
    corpus = load_corpus(built)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            index.ensure_index(built, corpus.chunks, corpus.metrics_sha, lambda _m: None, force=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=run)
    first.start()
    assert started.wait(60)
    second = threading.Thread(target=run)
    second.start()
    first.join(120)
    second.join(120)
    assert not errors, errors
    cache = json.loads((Path(built.index_dir) / CACHE.name).read_text(encoding="utf-8"))["vectors"]
    probe = corpus.chunks[3]
    vector = cache[hashlib.sha256(probe.text.encode()).hexdigest()]
    assert _serving(built, len(corpus.chunks), corpus.metrics_sha, vector, probe.chunk_id)
    assert [p.name for p in Path(built.index_dir).glob("build-*")] == [_current(built).name]


# --------------------------------------------------------------------------- Chroma server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """``chroma run`` on a folder and port; start, stop, start again."""

    def __init__(self, path: Path, port: int):
        self.path, self.port, self.proc = path, port, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "chroma"), "run", "--path", str(self.path), "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=os.environ | {"ANONYMIZED_TELEMETRY": "False"})
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.proc.poll() is None, "chroma run exited"
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"chroma run did not answer on {self.url}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)
        self.proc = None


@pytest.fixture
def server(tmp_path):
    srv = ChromaServer(tmp_path / "chroma-server", _free_port())
    srv.start()
    yield srv
    srv.stop()


def _prose_works(bot: Chatbot, timeout: float = 30) -> int:
    """Ask a prose question until dense retrieval answers it (no keyword-only notice); returns
    the attempts it took."""
    end, tries = time.monotonic() + timeout, 0
    while True:
        tries += 1
        ans = bot.conversation().ask(PROSE_Q)
        assert ans.kind == "prose" and ans.answered, ans.text
        if not ans.notices:
            return tries
        assert ans.notices == [KEYWORD_ONLY_NOTICE] and time.monotonic() < end, ans.notices
        time.sleep(0.2)


def test_server_goes_down_and_comes_back(server, tmp_path):
    s = _fresh(tmp_path / "w").with_(chroma_url=server.url)
    bot = Chatbot(s)
    assert bot.wait_ready(120), bot._dense_error
    conv = bot.conversation()
    assert conv.ask(PROSE_Q).kind == "prose"

    server.stop()
    down = conv.ask(PROSE_Q)  # keyword search stands in, and says so
    assert down.kind == "prose" and down.answered and down.notices == [KEYWORD_ONLY_NOTICE]
    assert server.url not in " ".join([down.text, *down.notices])
    with pytest.raises(ServerUnavailableError) as err:  # an explicit dense search says why
        bot.search(PROSE_Q, 3, mode="dense")
    assert server.url in str(err.value) and "chroma run" in str(err.value)
    assert SALARY in conv.ask(SALARY_Q).text  # figures come from the table, no server needed
    res = CliRunner().invoke(cli, ["ask", PROSE_Q], env=_env(s))
    assert res.exit_code == 0 and f"Note: {KEYWORD_ONLY_NOTICE}" in res.stdout, res.output
    assert server.url in res.stderr and "Traceback" not in res.output  # the operator's warning
    res = CliRunner().invoke(cli, ["ask", SALARY_Q], env=_env(s))
    assert res.exit_code == 0 and SALARY in res.stdout

    server.start()  # same folder, same port: the same bot answers prose from the index again
    _prose_works(bot)
    assert not conv.ask(PROSE_Q).notices


def test_server_down_at_start_is_retried(server, tmp_path):
    s = _fresh(tmp_path / "w").with_(chroma_url=server.url)
    server.stop()
    bot = Chatbot(s)
    assert bot.wait_ready(60) is False
    assert isinstance(bot._dense_error, ServerUnavailableError)
    ans = bot.conversation().ask(PROSE_Q)
    assert ans.answered and ans.notices == [KEYWORD_ONLY_NOTICE]
    assert SALARY in bot.conversation().ask(SALARY_Q).text
    server.start()
    assert _prose_works(bot) == 1  # the first question after the server is back reconnects
    assert bot.wait_ready(0)
