"""The dashboard's post list in a real browser: each platform's platform and link,
the analysis view, the platform filter, and older/newest keyset paging."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from chirpflow.connectors.postgres.migrate import migrate
from tests.flows.test_cli import _FOREIGN
from tests.flows.test_dashboard import ARGS, CHROMIUM, _open, _serve, _until
from tests.flows.test_results_platforms import LINKS, _post, _store


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    migrate(pg_url)
    out = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    out.update({"DATABASE_URL": pg_url, "CHIRPFLOW_HOME": str(tmp_path / "home")})
    return out


def _ids(page: Page) -> set[str | None]:
    return {r.get_attribute("data-id") for r in page.locator("#tweets tbody tr.row").all()}


def test_the_list_shows_every_platform_and_pages_by_keyset(
    browser: Browser, env: dict[str, str], pg_url: str, tmp_path: Path
) -> None:
    posts = [_post(n, minutes=n) for n in range(10, 65)]  # 55 X posts
    posts += [_post(1, p, i) for i, p in enumerate(LINKS) if p != "x"]  # 3 older, others
    _store(pg_url, tmp_path, posts, "mixed")
    proc, base = _serve(env, "--no-auth")
    try:
        page, dialogs = _open(browser, f"{base}/ui/#flagged")
        page.uncheck("#filters [name=flagged]")
        page.click("#filters button")
        rows = page.locator("#tweets tbody tr.row")
        _until(lambda: rows.count() == 50 and page.is_visible("#older"), "a full first page")
        first = _ids(page)
        page.click("#older")
        _until(lambda: rows.count() == 8, "the older page")
        older = _ids(page)
        assert not first & older and len(first | older) == 58
        assert page.is_hidden("#older") and page.is_visible("#newest")
        links = {
            (r.locator("td.platform").text_content(), r.locator("a").get_attribute("href"))
            for r in rows.all()
        }
        assert {(p, u) for p, u in LINKS.items() if p != "x"} <= links
        assert {a for a in page.locator("#tweets a").all_text_contents()} == {
            "x.com",
            "www.reddit.com",
            "bsky.app",
            "m.example",
        }
        page.click("#tweets tbody tr.row:has(td.platform:text-is('reddit')) td.text")
        detail = page.text_content("#tweets tr.detail pre") or ""
        assert '"platform": "reddit"' in detail and '"post_id": "reddit:t3_1abc2z"' in detail

        page.select_option("#filters [name=platform]", "mastodon")
        page.click("#filters button")
        _until(lambda: rows.count() == 1, "only the Mastodon post")
        assert page.locator("#tweets a").get_attribute("href") == LINKS["mastodon"]
        assert dialogs == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
