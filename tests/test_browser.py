"""The app in a real Chromium, used as a person would: `streamlit run` + Playwright.

One ten-turn conversation — a figure (a starter), a follow-up, an overview, a comparison with
its chart, a list and "which of those…", a greeting, an out-of-scope question, hostile HTML, a
long paste — then a reload, played at 1280×1000 and at 390×844. Each step asserts what is on
the screen; the first answer's [1] is clicked and its card must open with the figure
highlighted. Every request the page makes (Playwright's request and websocket events) is
recorded and any host but the app's own fails the test: nothing may leave the machine.

Screenshots go to ``docs/`` (the README shows them); timings (page ready, answer after Enter)
to ``tests/artifacts/browser-timings.json``. Needs Debian's Chromium (``make browser-deps``);
never ``playwright install``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chatbot.settings import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
DOCS = ROOT / "docs"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SIZES = {"desktop": (1280, 1000), "mobile": (390, 844)}
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)> see www.example.com"
LONG_QUESTION = "What share of UK DDI jobs are in the Midlands?"
LONG_PASTE = "Minutes of the regional meeting. " * 160 + LONG_QUESTION
#: Longest a person should wait for an answer after pressing Enter (a hang, not a target).
ANSWER_LIMIT_S = 15.0
STARTER = "What is the average salary in the cluster?"


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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "CHATBOT_FEEDBACK_DB": str(tmp / "feedback.sqlite3")}
    log = tmp / "streamlit.log"
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


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "run `make browser-deps` (Debian's chromium) first"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One browser context at one size: the page, every host it contacted, timings."""

    def __init__(self, browser, url: str, size: str):
        from playwright.sync_api import expect

        self.expect, self.url, self.size = expect, url, size
        width, height = SIZES[size]
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.on("websocket", lambda ws: self.requests.append(ws.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.timings: dict[str, float] = {}
        self.main = self.page.get_by_test_id("stMain")
        self.messages = self.main.get_by_test_id("stChatMessage")

    def settled(self, timeout: float = 60_000) -> None:
        """The script run has finished."""
        self.page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
            timeout=timeout)

    def open(self, name: str) -> None:
        t0 = time.perf_counter()
        self.page.goto(self.url)
        self.expect(self.main.get_by_role("button", name=STARTER)).to_be_visible(timeout=90_000)
        self.settled()
        self.timings[name] = time.perf_counter() - t0

    def ask(self, text: str | None, expect_text: str | re.Pattern, name: str, click: str = ""):
        """Type ``text`` and press Enter (or click the button named ``click``); wait for the
        reply holding ``expect_text``; return the reply's locator."""
        before = self.messages.count()
        wanted = before + 2 if before > 1 else 2  # the welcome bubble goes away on the first turn
        t0 = time.perf_counter()
        if click:
            self.main.get_by_role("button", name=click).click()
        else:
            box = self.page.get_by_test_id("stChatInputTextArea")
            box.fill(text)
            box.press("Enter")
        self.expect(self.messages).to_have_count(wanted, timeout=60_000)
        reply = self.messages.nth(wanted - 1)
        self.expect(reply).to_contain_text(expect_text, timeout=60_000)
        self.timings[f"answer: {name}"] = time.perf_counter() - t0
        self.settled()
        assert self.timings[f"answer: {name}"] < ANSWER_LIMIT_S, self.timings
        return reply

    def shot(self, name: str) -> str:
        self.page.mouse.move(SIZES[self.size][0] / 2, 5)  # no tooltip in the picture
        self.page.wait_for_timeout(300)  # let charts and expanders finish drawing
        path = DOCS / f"screenshot-{name}-{self.size}.png"
        _keep_or_write(path, self.page.screenshot())
        return path.name

    def foreign_hosts(self) -> set[str]:
        own = urlsplit(self.url).netloc
        return {urlsplit(u).netloc for u in self.requests if urlsplit(u).netloc != own
                and not u.startswith(("data:", "blob:", "about:"))}


def _keep_or_write(path: Path, png: bytes, tolerance: float = 0.001) -> None:
    """Write a screenshot unless the one in ``docs/`` differs only by a few anti-aliased pixels
    (a caret, a focus ring; up to 0.1% of the pixels): the README's pictures stay this test's,
    and ``make test`` leaves the working tree clean when nothing visible changed."""
    import io

    from PIL import Image, ImageChops

    if path.exists():
        old, new = Image.open(path).convert("RGB"), Image.open(io.BytesIO(png)).convert("RGB")
        if old.size == new.size:
            diff = ImageChops.difference(old, new).convert("L").point(lambda v: 255 if v > 24 else 0)
            if sum(diff.histogram()[255:]) / (new.width * new.height) <= tolerance:
                return
    path.write_bytes(png)


def _bar_widths(chart) -> list[float]:
    """Widths of the bars Vega drew (SVG rect marks)."""
    boxes = chart.locator("g.mark-rect path").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().width)")
    return [float(b) for b in boxes]


def _play(browser, url: str, size: str) -> dict:
    visit = Visit(browser, url, size)
    expect, page = visit.expect, visit.page
    shots: list[str] = []

    # the first screen says what the bot does and offers one question of each kind
    visit.open("page ready")
    welcome = visit.messages.first
    expect(welcome).to_contain_text("I answer questions about")
    assert welcome.get_by_role("button").count() == 5
    expect(page.get_by_test_id("stChatInputTextArea")).to_have_attribute(
        "placeholder", re.compile("up to 2,000 characters"))
    shots.append(visit.shot("welcome"))

    # 1. a figure, from a starter; its [1] opens its card with the figure highlighted
    reply = visit.ask(None, "£34,131", "figure (starter)", click=STARTER)
    reply.get_by_role("link", name="[1]").first.click()
    card = reply.get_by_test_id("stExpander").filter(has_text="[1] Average salary").first
    expect(card.locator("details")).to_have_attribute("open", "")
    expect(card).to_contain_text("ONS ASHE 2021")
    expect(card.locator(".stMarkdownColoredBackground", has_text="£34,131")).to_be_visible()
    expect(card.get_by_test_id("stCode")).to_contain_text("£34,131 — Average salary (ONS ASHE 2021):")
    shots.append(visit.shot("card"))

    # 2. a follow-up uses the conversation
    visit.ask("How does that compare nationally?", re.compile(r"27\.2%|£46,894"), "follow-up")

    # 3. an overview cites several passages
    reply = visit.ask("Give me an overview of the snapshot", "5,500", "overview")
    assert reply.get_by_test_id("stExpander").count() >= 3

    # 4. a comparison gets a chart with its figures written on the bars
    reply = visit.ask("Compare FDI and DDI jobs", "3,321", "comparison")
    chart = reply.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    chart.scroll_into_view_if_needed()
    for figure in ("3,321", "889"):
        expect(chart.locator("text", has_text=figure)).to_be_visible()
    widths = _bar_widths(chart)
    assert len(widths) >= 2 and min(widths) > 20, widths  # bars drawn, not just labels
    chart.evaluate("e => e.scrollIntoView({block: 'center'})")
    shots.append(visit.shot("chart"))

    # 5-6. a list, then "which of those…"
    visit.ask("Which universities are listed?", "Warwick", "list")
    reply = visit.ask("Which of those are in Birmingham?", re.compile(r"\w"), "which of those")
    expect(reply.get_by_test_id("stAlertContentError")).to_have_count(0)

    # 7. a greeting is answered, with questions to try as buttons
    reply = visit.ask("hi", re.compile(r"\w"), "greeting")
    expect(reply.get_by_test_id("stAlert")).to_have_count(0)
    assert reply.get_by_role("button").filter(has_text=re.compile(r"\?|snapshot")).count() >= 2

    # 8. out of scope: the not-found box
    reply = visit.ask("What is the population of Birmingham?", "Not in the snapshot", "out of scope")
    expect(reply.get_by_test_id("stAlert")).to_be_visible()

    # 9. hostile HTML is shown as text: no element, no script run, no link in the bubble
    visit.ask(HOSTILE, re.compile(r"\w"), "hostile HTML")
    mine = visit.messages.nth(visit.messages.count() - 2)
    # as typed (a word joiner, U+2060, stops "www." becoming a link; it is invisible)
    assert HOSTILE in mine.inner_text().replace("\u2060", "")
    assert mine.locator("a").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script", has_text="alert(1)").count() == 0

    # an empty message is not sent
    count = visit.messages.count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("   ")
    box.press("Enter")
    toast = page.get_by_test_id("stToast")
    expect(toast).to_contain_text("empty messages are not sent")
    visit.settled()
    assert visit.messages.count() == count
    toast.get_by_role("button").first.click()  # dismissed, so it hides nothing below

    # 10. a long paste is answered from its last question, and says so
    reply = visit.ask(LONG_PASTE, "17%", "long paste")
    expect(reply).to_contain_text(f"Your message had {len(LONG_PASTE):,} characters")
    expect(reply).to_contain_text(LONG_QUESTION)
    share = reply.get_by_test_id("stVegaLiteChart")
    expect(share).to_be_visible()  # the share of the UK total
    share.evaluate("e => e.scrollIntoView({block: 'center'})")
    shots.append(visit.shot("long-paste"))

    # a reload keeps the conversation
    turns = visit.messages.count()
    t0 = time.perf_counter()
    page.reload()
    expect(visit.messages).to_have_count(turns, timeout=60_000)
    visit.settled()
    visit.timings["reload ready"] = time.perf_counter() - t0
    expect(visit.messages.nth(1)).to_contain_text("£34,131")
    assert page.evaluate("location.search").startswith("?c=")
    time.sleep(0.5)
    assert visit.dialogs == []
    return {"visit": visit, "shots": shots, "turns": turns}


def _record(size: str, played: dict) -> None:
    visit = played["visit"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "browser-timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[size] = {"seconds": {k: round(v, 2) for k, v in visit.timings.items()},
                  "screenshots": played["shots"], "requests": len(visit.requests),
                  "hosts": sorted({urlsplit(u).netloc for u in visit.requests})}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))


def test_a_conversation_at_desktop_size(server, chromium):
    played = _play(chromium, server, "desktop")
    visit = played["visit"]
    page, expect = visit.page, visit.expect

    # "New conversation" keeps the old one in the sidebar, and it opens again
    page.get_by_role("button", name="New conversation").click()
    expect(visit.main.get_by_role("button", name=STARTER)).to_be_visible()
    expect(visit.messages).to_have_count(1)  # the welcome
    earlier = page.get_by_test_id("stSidebar").get_by_role("button", name=STARTER)
    earlier.click()
    expect(visit.messages).to_have_count(played["turns"], timeout=30_000)
    visit.settled()
    played["shots"].append(visit.shot("reopened"))

    # the explorer's charts draw bars at this size too
    page.get_by_role("tab", name="Metrics explorer").click()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=30_000)
    panel = page.get_by_role("tabpanel").filter(has_text="The Midlands' share of UK totals")
    share = panel.get_by_test_id("stVegaLiteChart").first
    expect(share).to_be_visible()
    assert min(_bar_widths(share)) > 0
    page.get_by_role("tab", name="Ask").click()

    # the audit trail a reader downloads: every answer once, no line said twice
    with page.expect_download() as download:
        page.get_by_role("button", name="Download conversation (Markdown)").click()
    trail = Path(download.value.path()).read_text(encoding="utf-8")
    assert "£34,131" in trail and "data source: ONS ASHE 2021" in trail
    assert trail.count("## Question ") == played["turns"] // 2
    lines = [ln for ln in trail.splitlines() if ln.startswith("- Calculation")]
    assert lines and len(lines) == len(set(lines)), lines

    assert visit.foreign_hosts() == set(), sorted(visit.foreign_hosts())
    _record("desktop", played)
    # the recorder sees what the page fetches: a request to another address is caught
    page.evaluate("fetch('http://127.0.0.2:9/probe').catch(() => null)")
    page.wait_for_timeout(300)
    assert visit.foreign_hosts() == {"127.0.0.2:9"}
    visit.context.close()


def test_a_conversation_at_phone_size(server, chromium):
    played = _play(chromium, server, "mobile")
    visit = played["visit"]
    page, expect = visit.page, visit.expect
    # the downloads are on the page, not behind the sidebar toggle
    expect(page.get_by_role("button", name="Download conversation (Markdown)")).to_be_visible()
    # the explorer's share chart draws its bars on a phone (it drew labels only)
    page.get_by_role("tab", name="Metrics explorer").click()
    panel = page.get_by_role("tabpanel").filter(has_text="The Midlands' share of UK totals")
    share = panel.get_by_test_id("stVegaLiteChart").first
    expect(share).to_be_visible(timeout=30_000)
    panel.get_by_role("heading", name="The Midlands' share of UK totals").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    expect(share.locator("text", has_text="20% of the UK total")).to_be_visible()
    widths = _bar_widths(share)
    assert widths and min(widths) > 0 and max(widths) <= SIZES["mobile"][0], widths
    played["shots"].append(visit.shot("explorer"))
    assert visit.foreign_hosts() == set(), sorted(visit.foreign_hosts())
    _record("mobile", played)
    visit.context.close()
