"""The app in a real Chromium: `streamlit run` as a subprocess, driven with Playwright.

Screenshots land in ``tests/artifacts/`` (git-ignored). Skipped only when Debian's Chromium is
missing (``make test`` installs it first); never ``playwright install``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from chatbot.settings import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCRIPT_Q = "<script>alert(1)</script>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"streamlit was not healthy after {timeout} s:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "CHATBOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3")}
    log = tmp_path / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "chatbot/app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(proc, f"http://127.0.0.1:{port}/_stcore/health", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def _settled(page, timeout: float = 90_000) -> None:
    """Wait until the script run has finished (the sidebar downloads render last)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=timeout)


def test_ask_in_a_real_browser(server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(server)
            expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=90_000)
            expect(page.get_by_role("button", name="What is the average salary?")).to_be_visible()
            _settled(page)
            page.screenshot(path=str(ARTIFACTS / "start.png"), full_page=True)

            _ask(page, "What is the average salary?")
            answer = page.get_by_test_id("stChatMessage").filter(has_text="£34,131")
            expect(answer).to_be_visible(timeout=90_000)
            card = answer.get_by_test_id("stExpander").filter(has_text="ONS ASHE").first
            expect(card).to_be_visible()
            card.locator("summary").click()
            expect(card.get_by_text("Average salary", exact=False).last).to_be_visible()
            expect(card.locator("strong", has_text="£34,131")).to_be_visible()
            expect(answer.get_by_test_id("stFeedback")).to_be_visible()
            page.wait_for_timeout(300)  # let the expander finish opening
            page.screenshot(path=str(ARTIFACTS / "answer.png"), full_page=True)

            _ask(page, "How does that compare nationally?")
            messages = page.get_by_test_id("stChatMessage")
            expect(messages).to_have_count(4, timeout=60_000)
            expect(messages.nth(3)).to_contain_text("£46,894")
            page.screenshot(path=str(ARTIFACTS / "follow-up.png"), full_page=True)

            # the audit trail a reader downloads holds both answers' quotes and sources
            _settled(page)
            with page.expect_download() as dl:
                page.get_by_role("button", name="Download conversation (Markdown)").click()
            trail = Path(dl.value.path()).read_text(encoding="utf-8")
            assert "> How does that compare nationally?" in trail
            assert "£34,131" in trail and "data source: ONS ASHE 2021" in trail
            with page.expect_download() as dl:
                page.get_by_role("button", name="Download quoted figures (CSV)").click()
            figures = Path(dl.value.path()).read_text(encoding="utf-8")
            assert figures.startswith("turn,question,citation,metric_id") and "£46,894" in figures

            _ask(page, SCRIPT_Q)
            expect(messages).to_have_count(6, timeout=60_000)
            expect(messages.nth(4)).to_contain_text(SCRIPT_Q)
            assert page.locator("script", has_text="alert(1)").count() == 0
            page.wait_for_timeout(500)
            assert dialogs == []
            page.screenshot(path=str(ARTIFACTS / "script-question.png"), full_page=True)

            page.set_viewport_size({"width": 1400, "height": 2400})  # the page scrolls inside
            page.get_by_role("tab", name="Metrics explorer").click()
            expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("The Midlands' share of UK totals")).to_be_visible()
            expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)
            page.wait_for_timeout(1000)  # charts draw after they are attached
            page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)

            page.get_by_role("tab", name="About this data").click()
            expect(page.get_by_text("North Lincolnshire", exact=False)).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "about.png"), full_page=True)
        finally:
            browser.close()
