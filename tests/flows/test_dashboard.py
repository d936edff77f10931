"""The web dashboard in a real browser (Playwright + Debian's Chromium) over a store
filled by real ``chirpflow run``s: numbers, live updates, filters, hostile text, keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.embedded.postgres import drop_database, ensure_database
from tests.factories import payload
from tests.flows.helpers import write_jsonl
from tests.flows.test_cli import _FOREIGN, CLI, _run

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS = "<img src=x onerror=alert(1)> hello"
PHISH = "[x.com/brand](https://evil.example) claim now"


@pytest.fixture(scope="module")
def store_env(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str
) -> Iterator[dict[str, str]]:
    """One store for the module: hostile tweets from a file, then 300 synthetic ones."""
    tmp_path = tmp_path_factory.mktemp("dashboard")
    url = ensure_database(postgres_server, "dashboard")
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update({"DATABASE_URL": url, "CHIRPFLOW_HOME": str(tmp_path / "home")})
    hostile = write_jsonl(
        tmp_path / "hostile.jsonl",
        [payload(1, text=XSS), payload(2, text=PHISH), b"{not json"],
    )
    # --no-recovery: a later run with other sources cannot resume this one's snapshot.
    out = _run(
        [
            "run",
            "--source",
            f"jsonl:{hostile}",
            "--quiet",
            "--analyzer",
            "offline",
            "--no-recovery",
        ],
        env,
    )
    assert out.returncode == 0, out.stderr
    out = _run(["run", "--limit", "300", "--quiet", "--analyzer", "offline"], env)
    assert out.returncode == 0, out.stderr
    yield env
    drop_database(postgres_server, "dashboard")


def _serve(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chirpflow.flows.cli", "ui", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "chirpflow ui exited"
        try:
            if httpx.get(f"{base}/ui/api/config", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)  # polling for the port, with a deadline
    raise AssertionError("chirpflow ui did not answer within 60 s")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def served(store_env: dict[str, str]) -> Iterator[str]:
    proc, base = _serve(store_env, "--no-auth")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def _stats(env: dict[str, str]) -> dict[str, Any]:
    out = _run(["stats", "--json"], env)
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = orjson.loads(out.stdout)
    return data


def _value(page: Page, element_id: str) -> int:
    return int(float(page.get_attribute(f"#{element_id}", "data-value") or "nan"))


def _until(check: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    """Poll a page condition with a deadline (the page's CSP forbids evaluated scripts)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _open(browser: Browser, url: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    return page, dialogs


def test_overview_shows_the_numbers_of_stats(
    browser: Browser, served: str, store_env: dict[str, str], tmp_path: Path
) -> None:
    stats = _stats(store_env)
    page, _ = _open(browser, f"{served}/ui/")
    page.wait_for_selector("#n-analyzed[data-value]")
    for element_id, key in (
        ("n-ingested", "tweets_ingested"),
        ("n-analyzed", "analyzed"),
        ("n-duplicates", "duplicates"),
        ("n-dead", "dead_letters"),
        ("n-flagged", "flagged"),
    ):
        assert _value(page, element_id) == stats[key], element_id
        assert page.text_content(f"#{element_id}") == f"{stats[key]:,}"
    assert page.text_content("#n-llm-cost") == f"${stats['llm_cost_usd']:.4f}"
    assert stats["dead_letters"] >= 1 and stats["tweets_ingested"] >= 303
    assert page.locator("#chart-topics svg rect").count() > 0
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)


def test_overview_follows_a_running_pipeline(
    browser: Browser, served: str, store_env: dict[str, str]
) -> None:
    page, _ = _open(browser, f"{served}/ui/")
    page.wait_for_selector("#n-ingested[data-value]")
    before = _value(page, "n-ingested")
    run = subprocess.Popen(
        [*CLI, "run", "--limit", "1500", "--rate", "150", "--quiet", "--analyzer", "offline"],
        env=store_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # A value strictly between the start and the end shows the page updating mid-run.
        _until(lambda: before < _value(page, "n-ingested") < before + 1500, "a mid-run update")
    finally:
        _, err = run.communicate(timeout=120)  # reads and closes its stderr pipe
        assert run.returncode == 0, err
    _until(lambda: _value(page, "n-ingested") == before + 1500, "the final count", 30)


def test_flagged_filters_and_hostile_text_stays_text(
    browser: Browser, served: str, store_env: dict[str, str], tmp_path: Path
) -> None:
    page, dialogs = _open(browser, f"{served}/ui/#flagged")
    page.wait_for_selector("#tweets tbody tr")
    stats = _stats(store_env)
    assert page.locator("#tweets tbody tr.row").count() == min(50, stats["flagged"])

    page.uncheck("#filters [name=flagged]")
    page.fill("#filters [name=q]", "onerror")
    page.click("#filters button")
    rows = page.locator("#tweets tbody tr.row")
    _until(lambda: rows.count() == 1, "one row matching 'onerror'")
    assert page.text_content("#tweets tbody tr.row td.text") == XSS
    page.fill("#filters [name=q]", "evil.example")
    page.click("#filters button")
    _until(lambda: (rows.first.locator("td.text").text_content() or "") == PHISH, "PHISH")
    assert page.text_content("#tweets tbody tr.row td.text") == PHISH
    hrefs = [a.get_attribute("href") or "" for a in page.locator("#tweets a").all()]
    assert hrefs and all(h.startswith("https://x.com/") for h in hrefs)
    assert page.locator("main img").count() == 0 and dialogs == []

    page.fill("#filters [name=q]", "")
    page.select_option("#filters [name=sentiment]", "negative")
    page.click("#filters button")
    shown = page.locator("#tweets tbody tr.row td:nth-child(5)")
    _until(
        lambda: shown.count() > 0 and set(shown.all_text_contents()) == {"negative"}, "negatives"
    )
    page.click("#tweets tbody tr.row td.text >> nth=0")
    detail = page.text_content("#tweets tr.detail pre") or ""
    assert '"analyzer": "offline"' in detail and '"reason"' in detail
    page.screenshot(path=str(tmp_path / "flagged.png"), full_page=True)

    page.goto(f"{served}/ui/#dead")
    page.wait_for_selector("#dead tbody tr")
    assert "malformed_json" in (page.text_content("#dead tbody") or "")
    page.screenshot(path=str(tmp_path / "dead.png"), full_page=True)

    job = _run(["jobs", "submit", "jack", "--max-tweets", "40"], store_env)
    assert job.returncode == 0, job.stderr
    page.goto(f"{served}/ui/#jobs")
    page.wait_for_selector("#jobs tbody tr")
    row = page.locator("#jobs tbody tr").first
    assert row.locator("td").nth(1).text_content() == "@jack"
    assert row.locator("td").nth(2).text_content() == "queued"
    assert (row.locator("td").nth(3).text_content() or "").strip() == "0/40"


def test_keys_guard_the_data(browser: Browser, store_env: dict[str, str]) -> None:
    refused = _run(["ui", "--no-auth", "--host", "0.0.0.0"], store_env)
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: --no-auth serves only 127.0.0.1, not 0.0.0.0"
    key = _run(["api-key", "create", "dash"], store_env).stdout.strip()
    proc, base = _serve(store_env)
    try:
        assert httpx.get(f"{base}/ui/api/overview").status_code == 401
        assert (
            httpx.get(f"{base}/ui/api/tweets", headers={"X-API-Key": "cf_nope"}).status_code == 401
        )
        page, _ = _open(browser, f"{base}/ui/")
        page.wait_for_selector("#login:not([hidden])")
        assert page.text_content("#n-analyzed") == "-"
        page.fill("#key", key)
        page.click("#login button")
        page.wait_for_selector("#n-analyzed[data-value]")
        assert _value(page, "n-analyzed") == _stats(store_env)["analyzed"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
