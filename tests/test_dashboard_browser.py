"""/dashboard in headless Chromium, as a caseworker uses it: sign in through the labelled form,
see the Tasks screen, watch a task sent from another provider arrive in the Notifications
Widget without a reload, survive a dropped websocket without losing or doubling an entry, and
mark everything read.

Needs Debian's chromium and the playwright package (scripts/ensure_browser.sh); skipped without
them, or failing under CASETASKS_REQUIRE_SERVICES=1. Leaves a screenshot in the test's folder
(docs/dashboard.png is one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from casetasks.shutdown import GOING_AWAY
from tests.browser import chromium, need_browser, watched
from tests.conftest import Live
from tests.group_setup import group_of_two, send_task
from tests.live import until


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_caseworker_sees_alerts_arrive_live_and_marks_them_read(
    live: Live, tmp_path: Path
) -> None:
    need_browser()
    from playwright.async_api import expect

    world = live.env.world
    group = await group_of_two(world)
    hub = live.env.app.state.hub
    first = await send_task(world, group, "Review resume draft with Daniel")
    staff = group.receiving_staff
    screenshot = tmp_path / "dashboard.png"

    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        seen = await watched(page, live.http_url)
        try:
            await page.goto(f"{live.http_url}/dashboard")
            await page.get_by_label("Email").fill(staff.email)
            await page.get_by_label("Password").fill("not the password")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("alert")).not_to_be_empty()

            await page.get_by_label("Password").fill(staff.password)
            await page.get_by_role("button", name="Sign in").click()
            tasks = page.locator("#task-rows")
            await expect(tasks).to_contain_text(first["name"], timeout=10_000)
            await expect(page.get_by_role("button", name="Sign in")).to_be_hidden()
            widget = page.locator("#notification-list")
            await expect(widget.locator("li")).to_have_count(1)
            unread = page.locator("#unread")
            await expect(unread).to_have_text("1")

            listening = hub.listener_count
            await until(lambda: hub.listener_count >= 1, 10, "the page's subscription listened")
            second = await send_task(world, group, "Call Mrs Nguyen about housing support")
            await expect(widget).to_contain_text(second["name"], timeout=10_000)
            await expect(unread).to_have_text("2")

            # The server drops every websocket; a task sent meanwhile arrives once the page has
            # resumed after its newest notification, and nothing already shown comes twice.
            assert await live.env.app.state.websockets.close_all(GOING_AWAY) >= 1
            third = await send_task(world, group, "Book skills assessment")
            await expect(widget).to_contain_text(third["name"], timeout=15_000)
            await until(lambda: hub.listener_count >= listening, 10, "the page resubscribed")
            fourth = await send_task(world, group, "Check transport paperwork")
            await expect(widget).to_contain_text(fourth["name"], timeout=10_000)
            await expect(widget.locator("li")).to_have_count(4)
            await expect(unread).to_have_text("4")
            await page.screenshot(path=str(screenshot))

            await page.get_by_role("button", name="Mark all as read").click()
            await expect(unread).to_have_text("")
            await expect(widget.locator("li.unread")).to_have_count(0)
        finally:
            if not screenshot.exists():
                await page.screenshot(path=str(screenshot))
        seen.check(screenshot)

    ids: list[Any] = [first["id"], second["id"], third["id"], fourth["id"]]
    assert len(set(ids)) == 4
