"""The private calendar feed (contract v2): setCalendarFeed gives the viewer an address whose
GET is RFC 5545 (parsed here with the icalendar package) listing exactly their open tasks as
all-day events, with no client and no details; ETag and 304; a new address replaces the old;
turning it off, or deactivating the person, makes it 404."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import text

from tests.conftest import Env
from tests.factories import Person

SET = """mutation($i: SetCalendarFeedInput!) { setCalendarFeed(input: $i) {
  url errors { field code message } } }"""
MINE = "{ me { ... on Staff { id calendarFeedUrl preferences { emailDigest } } } }"
COMPLETE = "mutation($i: CompleteTaskInput!) { completeTask(input: $i) { errors { message } } }"
DEACTIVATE = "mutation($i: UpdateStaffInput!) { updateStaff(input: $i) { errors { message } } }"


async def enable(env: Env, person: Person, enabled: bool = True) -> str | None:
    payload = await env.api.mutate(
        "setCalendarFeed", SET, {"i": {"enabled": enabled}}, person.token
    )
    assert payload["errors"] == []
    return payload["url"]  # type: ignore[no-any-return]


async def fetch(env: Env, url: str, **headers: str) -> Any:
    return await env.api.http.get(urlsplit(url).path, headers=headers)


def events(body: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    found = {}
    for event in calendar.walk("VEVENT"):
        found[str(event["SUMMARY"])] = event
    return found


async def test_the_feed_lists_exactly_the_persons_open_tasks(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Caseworker")
    ben = await world.staff(provider, "Ben Caseworker")
    client = await world.client(provider, "Dana Secretclient", caseworker=ana)
    mine = await world.task(
        ana, name="Call Dana", dueDate="2027-03-15", clientId=client, details="private notes"
    )
    shared = await world.task(
        ana, name="Team review", dueDate="2027-03-20", responsibleIds=[ana.id, ben.id]
    )
    done = await world.task(ana, name="Done already", dueDate="2027-03-10")
    await env.api.mutate("completeTask", COMPLETE, {"i": {"id": done["id"]}}, ana.token)
    await world.task(ben, name="Ben's own")
    other = await world.provider()
    await world.task(other.admin, name="Elsewhere")

    assert (await env.api.data(MINE, token=ana.token))["me"]["calendarFeedUrl"] is None
    url = await enable(env, ana)
    assert (
        url is not None
        and url.startswith("http://casetasks.test/calendar/")
        and url.endswith(".ics")
    )
    assert (await env.api.data(MINE, token=ana.token))["me"]["calendarFeedUrl"] == url
    # Someone else's address is never shown, not even to an administrator.
    them = await env.api.data(
        "query($id: ID!) { node(id: $id) { ... on Staff { calendarFeedUrl"
        " preferences { emailDigest } } } }",
        {"id": ana.id},
        provider.admin.token,
    )
    assert them["node"] == {"calendarFeedUrl": None, "preferences": None}

    response = await fetch(env, url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    found = events(response.content)
    assert set(found) == {"Call Dana", "Team review"}
    event = found["Call Dana"]
    assert event.decoded("DTSTART") == date(2027, 3, 15)
    assert event.decoded("DTEND") == date(2027, 3, 16)
    assert str(event["UID"]).startswith("task-") and mine["id"]
    assert "Secretclient" not in response.text and "private notes" not in response.text
    assert "http" not in str(event.get("DESCRIPTION", ""))
    assert shared["id"]

    # Unchanged: 304 on the ETag; the same UIDs after a change.
    etag = response.headers["etag"]
    assert (await fetch(env, url, **{"If-None-Match": etag})).status_code == 304
    await env.api.mutate("completeTask", COMPLETE, {"i": {"id": shared["id"]}}, ben.token)
    again = await fetch(env, url, **{"If-None-Match": etag})
    assert again.status_code == 200 and set(events(again.content)) == {"Call Dana"}
    assert str(events(again.content)["Call Dana"]["UID"]) == str(event["UID"])

    # The database holds no secret: only its digest.
    secret = urlsplit(url).path.rsplit("/", 1)[1].removesuffix(".ics")
    async with env.engine.connect() as connection:
        stored = [
            tuple(row)
            for row in await connection.execute(
                text("SELECT calendar_feed_nonce, calendar_feed_digest FROM staff")
            )
        ]
    assert secret not in str(stored)
    # Nor do the server's logs: the access log shows /calendar/<secret>.ics.
    ours = [r for r in caplog.records if r.name.startswith("casetasks")]
    paths = [getattr(r, "fields", {}).get("path") for r in ours]
    assert "/calendar/<secret>.ics" in paths
    assert not [r for r in ours if secret in f"{r.getMessage()} {getattr(r, 'fields', '')}"]


async def test_rotation_turning_off_and_deactivation_make_old_addresses_404(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Caseworker")
    await world.task(ana)
    first = await enable(env, ana)
    second = await enable(env, ana)
    assert first and second and first != second
    assert (await fetch(env, first)).status_code == 404
    assert (await fetch(env, second)).status_code == 200
    assert (await fetch(env, second.replace(".ics", "x.ics"))).status_code == 404
    assert await enable(env, ana, False) is None
    assert (await fetch(env, second)).status_code == 404
    assert (await env.api.data(MINE, token=ana.token))["me"]["calendarFeedUrl"] is None

    third = await enable(env, ana)
    assert third and (await fetch(env, third)).status_code == 200
    await env.api.mutate(
        "updateStaff", DEACTIVATE, {"i": {"id": ana.id, "active": False}}, provider.admin.token
    )
    assert (await fetch(env, third)).status_code == 404
    # A client may not have one.
    assert await env.api.error_codes(SET, {"i": {"enabled": True}}) == ["UNAUTHENTICATED"]
