"""GraphiQL at /graphql in headless Chromium: a subscription started there shows a live alert.

Needs Debian's chromium, the playwright package and GraphiQL's files fetched by
`python -m casetasks.graphiql` (scripts/ensure_browser.sh provides all three). Without one of them
the browser test is skipped, or fails when CASETASKS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from strawberry.http.ides import get_graphql_ide_html

from casetasks import graphiql
from tests.conftest import Live
from tests.group_setup import group_of_two, send_task
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
ALERTS = "subscription { unassignedTaskAlerts { notification { message } task { name } } }"
STRAWBERRY_PAGE = get_graphql_ide_html("graphiql")


def need_browser() -> None:
    missing = []
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if not graphiql.present(STRAWBERRY_PAGE):
        missing.append("GraphiQL's files (python -m casetasks.graphiql)")
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


async def replace_text(page: Any, editor: Any, text: str) -> None:
    """Type into a CodeMirror editor as a person would: click, select all, type."""
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


async def until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds} s")
        await asyncio.sleep(0.02)


def test_the_page_loads_local_assets_only_when_all_are_present(tmp_path: Path) -> None:
    assets = graphiql.assets(STRAWBERRY_PAGE)
    names = {asset.package.rsplit("@", 1)[0] for asset in assets}
    assert {"graphiql", "react", "react-dom", "@graphiql/plugin-explorer"} <= names
    assert graphiql.local_page(STRAWBERRY_PAGE, "/graphiql-assets", tmp_path) == STRAWBERRY_PAGE

    for asset in assets[:-1]:
        (tmp_path / asset.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / asset.path).write_text("")
    assert graphiql.local_page(STRAWBERRY_PAGE, "/graphiql-assets", tmp_path) == STRAWBERRY_PAGE

    (tmp_path / assets[-1].path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / assets[-1].path).write_text("")
    page = graphiql.local_page(STRAWBERRY_PAGE, "/base/graphiql-assets", tmp_path)
    assert "unpkg.com" not in page
    for asset in assets:
        assert f'"/base/graphiql-assets/{asset.path}"' in page


async def test_graphiql_is_served_with_its_assets_when_fetched(live: Live) -> None:
    if not graphiql.present(STRAWBERRY_PAGE):
        pytest.skip("GraphiQL's files are not fetched (python -m casetasks.graphiql)")
    http = live.env.api.http
    page = (await http.get("/graphql", headers={"accept": "text/html"})).text
    assert "unpkg.com" not in page
    for asset in graphiql.assets(STRAWBERRY_PAGE):
        response = await http.get(f"/graphiql-assets/{asset.path}")
        assert response.status_code == 200, asset.path
        assert asset.matches(response.content), asset.path
    assert (await http.get("/graphiql-assets/nothing-here.js")).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_graphiql_runs_a_subscription_and_shows_the_alert(live: Live, tmp_path: Path) -> None:
    need_browser()
    from playwright.async_api import expect

    world = live.env.world
    group = await group_of_two(world)
    hub = live.env.app.state.hub
    listening = hub.listener_count
    screenshot = tmp_path / "graphiql.png"

    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        sent: list[dict[str, Any]] = []
        page.on(
            "websocket",
            lambda ws: ws.on("framesent", lambda frame: sent.append(json.loads(frame))),
        )
        try:
            await page.goto(f"{live.http_url}/graphql")
            query_editor = page.locator(".graphiql-query-editor .CodeMirror")
            await expect(query_editor).to_be_visible(timeout=15_000)

            await page.locator(".graphiql-editor-tools button[data-name=headers]").click()
            headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
            token = group.receiving_staff.token
            await replace_text(
                page, headers_editor, json.dumps({"Authorization": f"Bearer {token}"})
            )
            await replace_text(page, query_editor, ALERTS)
            # GraphiQL parses the query a moment after the last keystroke, then puts it in the
            # address; running before that would send the previous document's kind of request.
            await page.wait_for_url(lambda url: ALERTS in unquote(url), timeout=10_000)
            await page.locator(".graphiql-execute-button").click()
            await until(
                lambda: hub.listener_count > listening, 10, "GraphiQL's subscription listened"
            )

            task = await send_task(world, group, "Call Mrs Nguyen about housing support")
            response = page.locator(".graphiql-response")
            await expect(response).to_contain_text(task["name"], timeout=10_000)
            await expect(response).to_contain_text("unassignedTaskAlerts")
        finally:
            await page.screenshot(path=str(screenshot))
        assert problems == [], f"{problems}; see {screenshot}"

    init = next(frame for frame in sent if frame.get("type") == "connection_init")
    assert init["payload"] == {"Authorization": f"Bearer {group.receiving_staff.token}"}
    subscribe = next(frame for frame in sent if frame.get("type") == "subscribe")
    assert "unassignedTaskAlerts" in subscribe["payload"]["query"]
