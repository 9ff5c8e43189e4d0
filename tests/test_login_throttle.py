"""Sign-in attempts limited per e-mail and per client address, for staff and clients alike.

A throttled sign-in answers RATE_LIMITED (HTTP 429, Retry-After) without looking at the
password; unknown e-mails are counted and refused exactly like known ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from casetasks.settings import Settings
from services.clock import FixedClock
from services.errors import RateLimited
from services.login_throttle import LoginThrottle
from tests.conftest import Env
from tests.factories import PASSWORD
from tests.test_client_portal import PORTAL_PASSWORD, portal_client

LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    token
    viewer { __typename }
    errors { field code message }
  }
}
"""
WINDOW = timedelta(minutes=15)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_max_failures_per_address": 12})


async def attempt(env: Env, email: str, password: str, address: str = "10.0.0.1") -> httpx.Response:
    transport = httpx.ASGITransport(app=env.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http:
        return await http.post(
            "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": password}}
        )


def payload(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()["data"]["login"]  # type: ignore[no-any-return]


def throttled(response: httpx.Response) -> dict[str, Any]:
    """The refusal of a throttled sign-in, in a form that can be compared between e-mails."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) == error["extensions"]["retryAfter"]
    return {"message": error["message"], "extensions": error["extensions"]}


# ---------------------------------------------------------------- the service


def test_failures_lock_an_email_and_an_address_until_they_leave_the_window() -> None:
    clock = FixedClock(datetime(2027, 3, 1, tzinfo=UTC))
    throttle = LoginThrottle(max_per_email=3, max_per_address=5, window=WINDOW, clock=clock)
    for _ in range(3):
        throttle.check("Ana@Example.org ", "10.0.0.1")
        throttle.failed("Ana@Example.org ", "10.0.0.1")
        clock.advance(timedelta(minutes=1))

    with pytest.raises(RateLimited) as refused:
        throttle.check("ana@example.org", "10.0.0.9")
    assert refused.value.retry_after == 12 * 60  # when the first failure leaves the window
    throttle.check("bo@example.org", "10.0.0.1")  # the address has 2 attempts left
    throttle.failed("bo@example.org", "10.0.0.1")
    throttle.failed("cy@example.org", "10.0.0.1")
    with pytest.raises(RateLimited):
        throttle.check("dee@example.org", "10.0.0.1")

    clock.advance(timedelta(minutes=12))
    throttle.check("ana@example.org", "10.0.0.9")


def test_success_clears_the_failures_of_its_email() -> None:
    clock = FixedClock(datetime(2027, 3, 1, tzinfo=UTC))
    throttle = LoginThrottle(max_per_email=2, max_per_address=100, window=WINDOW, clock=clock)
    throttle.failed("ana@example.org", None)
    throttle.succeeded("ANA@example.org")
    throttle.failed("ana@example.org", None)

    throttle.check("ana@example.org", None)


# ---------------------------------------------------------------- over HTTP


async def test_five_wrong_passwords_lock_the_email_the_same_whether_it_exists_or_not(
    env: Env,
) -> None:
    provider = await env.world.provider()
    known, unknown = provider.admin.email, "nobody@nowhere.example"
    answers: dict[str, list[dict[str, Any]]] = {known: [], unknown: []}

    for email in (known, unknown):
        for n in range(5):
            answers[email].append(payload(await attempt(env, email, f"guess {n}")))
    assert answers[known] == answers[unknown]
    assert all(a["token"] is None and a["errors"][0]["code"] == "INVALID" for a in answers[known])

    # The sixth attempt is refused before the password is looked at: the right one too.
    env.sql.reset()
    refused_known = throttled(await attempt(env, known, PASSWORD, address="10.0.0.2"))
    assert env.sql.statements == []
    refused_unknown = throttled(await attempt(env, unknown, PASSWORD, address="10.0.0.2"))
    assert refused_known == refused_unknown
    assert refused_known["extensions"]["retryAfter"] == 15 * 60

    # Another e-mail from the same address still signs in.
    colleague = await env.world.staff(provider)
    assert payload(await attempt(env, colleague.email, PASSWORD))["token"]

    env.clock.advance(WINDOW)
    signed_in = payload(await attempt(env, known, PASSWORD))
    assert signed_in["token"] and signed_in["viewer"] == {"__typename": "Staff"}


async def test_an_address_trying_many_emails_is_throttled(env: Env) -> None:
    provider = await env.world.provider()
    for n in range(12):
        payload(await attempt(env, f"guess{n}@nowhere.example", "password", address="10.9.9.9"))

    throttled(await attempt(env, provider.admin.email, PASSWORD, address="10.9.9.9"))
    # From elsewhere, the same account signs in.
    assert payload(await attempt(env, provider.admin.email, PASSWORD))["token"]


async def test_client_logins_are_throttled_too(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)
    for _ in range(5):
        assert payload(await attempt(env, client.email, "not it"))["errors"]

    throttled(await attempt(env, client.email, PORTAL_PASSWORD))

    env.clock.advance(WINDOW)
    assert payload(await attempt(env, client.email, PORTAL_PASSWORD))["token"]


async def test_a_successful_sign_in_forgets_earlier_failures(env: Env) -> None:
    provider = await env.world.provider()
    email = provider.admin.email
    for _ in range(4):
        payload(await attempt(env, email, "not it"))
    assert payload(await attempt(env, email, PASSWORD))["token"]

    for _ in range(4):
        assert payload(await attempt(env, email, "not it"))["errors"]
    assert payload(await attempt(env, email, PASSWORD))["token"]
