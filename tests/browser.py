"""Headless Chromium for the browser tests (Debian's chromium, driven by playwright), with the
page cut off from every origin but the server's and its problems collected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.services import REQUIRE_SERVICES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def need_browser() -> None:
    missing = []
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if not missing:
        return
    message = "no browser test without " + ", ".join(missing) + " (scripts/ensure_browser.sh)"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and CASETASKS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


def offline(attempts: list[str]) -> Any:
    """A route handler that refuses, and notes, every request not to the server."""

    async def refuse(route: Any) -> None:
        attempts.append(route.request.url)
        await route.abort("internetdisconnected")

    return refuse


@dataclass
class Watched:
    """What a page did wrong: errors, failed requests, CSP violations, other origins tried."""

    problems: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    def check(self, screenshot: Path) -> None:
        assert self.problems == [], f"{self.problems}; see {screenshot}"
        assert self.elsewhere == [], f"the page reached beyond the server: {self.elsewhere}"


async def watched(page: Any, origin: str) -> Watched:
    """Collects the page's problems and refuses every request not to `origin`."""
    seen = Watched()
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: seen.problems.append(f"failed: {request.url}"))
    page.on(
        "console",
        lambda message: (
            seen.problems.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or message.type == "error"
            else None
        ),
    )
    await page.route(lambda url: not url.startswith(origin), offline(seen.elsewhere))
    return seen
