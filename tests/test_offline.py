"""Offline and private: the whole path works with no network, and nothing phones home.

``chatbot build --force`` (embedding every chunk with the bundled model, no warm cache) and a
short conversation run inside a network namespace that has only a loopback interface
(``unshare -n``, or ``unshare -rn`` without root). The test is skipped only when the kernel
refuses to create the namespace. Streamlit and Chroma telemetry are off by configuration.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from chatbot import index
from chatbot.settings import DEFAULT_CORPUS, ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SALARY = "£34,131"
PROSE_Q = "What does the snapshot say about NHS procurement?"


def _unshare() -> list[str]:
    """The namespace prefix, or skip when this kernel or container refuses namespaces."""
    if not shutil.which("unshare"):
        pytest.skip("no `unshare` command on this machine")
    prefix = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"the kernel refuses network namespaces ({' '.join(prefix)}: "
                    f"{probe.stderr.strip() or probe.returncode})")
    return prefix


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """Run a command with no network: returns a runner and the environment it uses."""
    prefix = _unshare()
    root = tmp_path_factory.mktemp("offline")
    (root / "corpus").mkdir()
    shutil.copy(DEFAULT_CORPUS, root / "corpus" / DEFAULT_CORPUS.name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "TRANSFORMERS_", "CHATBOT_", "ANONYMIZED_"))}
    env |= {"CHATBOT_CORPUS": str(root / "corpus" / DEFAULT_CORPUS.name),
            "CHATBOT_METRICS": str(root / "corpus" / "metrics.csv"),
            "CHATBOT_INDEX_DIR": str(root / "indexes"), "CHATBOT_DENSE": "1"}

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *args], env=env, capture_output=True, text=True,
                              timeout=timeout, cwd=root)

    return run


def test_namespace_really_has_no_network(offline):
    code = ("import socket\n"
            "try:\n    socket.create_connection(('1.1.1.1', 443), timeout=3)\n"
            "except OSError as e:\n    print('blocked', e)\nelse:\n    print('connected')\n")
    out = offline(sys.executable, "-c", code)
    assert out.returncode == 0 and out.stdout.startswith("blocked"), out.stdout + out.stderr
    links = offline("cat", "/proc/net/dev")
    names = {ln.split(":")[0].strip() for ln in links.stdout.splitlines() if ":" in ln}
    assert names == {"lo"}, names


def test_build_and_conversation_offline(offline):
    built = offline(str(BIN / "chatbot"), "build", "--force")
    assert built.returncode == 0, built.stderr
    assert "embedding" in built.stderr  # the cold path: documents embedded with the bundled model
    assert "index rebuilt" in built.stdout, built.stdout

    ans = offline(str(BIN / "chatbot"), "ask", "What is the average salary?")
    assert ans.returncode == 0, ans.stderr
    assert SALARY in ans.stdout and "ONS ASHE" in ans.stdout

    prose = offline(str(BIN / "chatbot"), "ask", "--json", PROSE_Q)
    assert prose.returncode == 0, prose.stderr
    assert '"kind": "prose"' in prose.stdout and '"answered": true' in prose.stdout
    assert "Traceback" not in prose.stderr + ans.stderr + built.stderr


def test_streamlit_config_is_local_and_private():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "127.0.0.1"


def test_chroma_clients_have_telemetry_off(tmp_path):
    assert index._chroma_settings().anonymized_telemetry is False
    client = index._persistent(tmp_path / "chroma")
    assert client.get_settings().anonymized_telemetry is False
    # the server client is built with the same settings object
    assert "settings=_chroma_settings()" in inspect.getsource(index.http_client)
    assert os.environ.get("ANONYMIZED_TELEMETRY") == "False"
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
