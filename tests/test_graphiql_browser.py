"""GraphiQL at /graphql in headless Chromium, with nothing reachable but the server: it opens
with the tour's sign-in, runs it under its Content-Security-Policy, and a subscription started
there shows a live alert.

Needs Debian's chromium and the playwright package (scripts/ensure_browser.sh and the test
extras); GraphiQL's files ship with the package. Without one of them the browser test is
skipped, or fails when CASETASKS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.browser import chromium, need_browser, watched
from tests.conftest import Live
from tests.group_setup import group_of_two, send_task
from tests.live import until

ALERTS = "subscription { unassignedTaskAlerts { notification { message } task { name } } }"


async def replace_text(page: Any, editor: Any, text: str) -> None:
    """Type into a CodeMirror editor as a person would: click, select all, type."""
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


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
        seen = await watched(page, live.http_url)
        sent: list[dict[str, Any]] = []
        page.on(
            "websocket",
            lambda ws: ws.on("framesent", lambda frame: sent.append(json.loads(frame))),
        )
        try:
            await page.goto(f"{live.http_url}/graphql")
            query_editor = page.locator(".graphiql-query-editor .CodeMirror")
            await expect(query_editor).to_be_visible(timeout=15_000)
            # The tour's first step is in the editor, and runs (its demo login is not in this
            # database, so the answer is the mutation's own error, shown like any result).
            await expect(query_editor).to_contain_text("login(email:")
            await expect(query_editor).to_contain_text("Headers pane")
            await page.locator(".graphiql-execute-button").click()
            response = page.locator(".graphiql-response")
            await expect(response).to_contain_text('"login"', timeout=10_000)

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
            await expect(response).to_contain_text(task["name"], timeout=10_000)
            await expect(response).to_contain_text("unassignedTaskAlerts")
        finally:
            await page.screenshot(path=str(screenshot))
        seen.check(screenshot)

    init = next(frame for frame in sent if frame.get("type") == "connection_init")
    assert init["payload"] == {"Authorization": f"Bearer {group.receiving_staff.token}"}
    subscribe = next(frame for frame in sent if frame.get("type") == "subscribe")
    assert "unassignedTaskAlerts" in subscribe["payload"]["query"]
