"""Per-viewer rate limiting on query cost: a token bucket per viewer, HTTP 429 when spent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from casetasks.settings import Settings
from services.clock import FixedClock
from services.rate_limit import CostRateLimiter, rate_key
from services.viewer import StaffViewer
from tests.conftest import Env, Live
from tests.ws_client import GraphQLWebSocket

# Costs 1 + 50 * (1 + 1) = 101 points: the connection, then each edge and its node.
PAGE = "{ tasks(first: 50) { edges { node { id } } } }"
PAGE_COST = 101


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A budget of three pages, refilled at 10 points a second."""
    return settings.model_copy(
        update={"rate_limit_points_per_second": 10.0, "rate_limit_burst": 3 * PAGE_COST}
    )


async def post(env: Env, token: str, query: str = PAGE) -> httpx.Response:
    return await env.api.http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["data"] is None, body
    [error] = body["errors"]
    return error  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the service


def test_a_bucket_refuses_what_it_cannot_pay_and_refills_with_time() -> None:
    clock = FixedClock(datetime(2027, 3, 1, tzinfo=UTC))
    limiter = CostRateLimiter(points_per_second=10, burst=100, clock=clock)

    assert limiter.spend("a", 60).allowed
    refused = limiter.spend("a", 60)
    assert not refused.allowed
    assert refused.remaining == 40
    assert refused.retry_after == pytest.approx(2.0)  # 20 points short at 10 a second
    assert limiter.remaining("a") == 40  # a refusal takes nothing
    assert limiter.spend("b", 100).allowed  # every key has its own bucket

    clock.advance(timedelta(seconds=2))
    assert limiter.spend("a", 60).allowed
    clock.advance(timedelta(hours=1))
    assert limiter.remaining("a") == 100  # never above the burst


def test_buckets_of_many_callers_do_not_grow_without_bound() -> None:
    clock = FixedClock(datetime(2027, 3, 1, tzinfo=UTC))
    limiter = CostRateLimiter(points_per_second=10, burst=100, clock=clock)
    for n in range(25_000):
        limiter.spend(f"address:{n}", 1)
        clock.advance(timedelta(seconds=1))

    assert len(limiter._buckets) <= 10_001


def test_the_bucket_belongs_to_the_viewer_else_to_the_address() -> None:
    staff = StaffViewer(7, 1, "UTC", None, "Ana", False, False, True, False, 3)

    assert rate_key(staff, "10.0.0.1") == rate_key(staff, "10.0.0.2") == "staff:7"
    assert rate_key(None, "10.0.0.1") == "address:10.0.0.1"


# ---------------------------------------------------------------- over HTTP


async def test_a_viewer_over_budget_gets_429_with_retry_after_until_it_refills(env: Env) -> None:
    provider = await env.world.provider()
    colleague = await env.world.staff(provider)
    token = provider.admin.token
    env.clock.advance(timedelta(minutes=1))  # refills what adding the colleague cost

    for left in (2, 1, 0):
        response = await post(env, token)
        assert response.status_code == 200, response.text
        cost = response.json()["extensions"]["cost"]
        assert cost == {
            "requested": PAGE_COST,
            "maximum": 10_000,
            "remaining": left * PAGE_COST,
            "restoreRate": 10.0,
        }

    env.sql.reset()
    refused = await post(env, token)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "11"  # 101 points at 10 a second
    error = error_of(refused)
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 11, "cost": PAGE_COST}
    assert "try again in 11 seconds" in error["message"]
    # Refused after the sign-in lookup (the bucket is the viewer's), before any other SQL.
    assert len(env.sql.statements) == 1 and "auth_session" in env.sql.statements[0]

    # Someone else's budget is their own.
    assert (await post(env, colleague.token)).status_code == 200

    env.clock.advance(timedelta(seconds=10))
    assert (await post(env, token)).status_code == 429
    env.clock.advance(timedelta(seconds=1))
    assert (await post(env, token)).status_code == 200


async def test_a_revoked_token_does_not_spend_its_former_viewers_budget(env: Env) -> None:
    """Queries plan for the viewer a token was last seen as and confirm it in their statement;
    what such a request costs is the budget of the token's viewer as it is now."""
    provider = await env.world.provider()
    stolen = await env.world.login(provider.admin.email)
    assert (await post(env, stolen)).status_code == 200  # remembered as the administrator
    assert await env.api.data("mutation { logout }", token=stolen) == {"logout": True}
    env.clock.advance(timedelta(minutes=1))  # every budget full: three pages

    for _ in range(3):  # the caller's address pays, not the administrator
        body = (await post(env, stolen)).json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    for left in (2, 1, 0):
        response = await post(env, provider.admin.token)
        assert response.json()["extensions"]["cost"]["remaining"] == left * PAGE_COST
    assert (await post(env, stolen)).status_code == 429


async def test_cheap_requests_go_on_while_an_expensive_one_waits(env: Env) -> None:
    provider = await env.world.provider()
    token = provider.admin.token
    for _ in range(3):
        assert (await post(env, token)).status_code == 200

    assert (await post(env, token)).status_code == 429
    env.clock.advance(timedelta(seconds=1))
    cheap = await post(env, token, "{ me { __typename } }")

    assert cheap.status_code == 200, cheap.text
    assert cheap.json()["extensions"]["cost"]["remaining"] == 9


async def test_mutations_spend_from_the_same_budget(env: Env) -> None:
    provider = await env.world.provider()
    token = provider.admin.token
    create = (
        'mutation { createTask(input: {name: "x", dueDate: "2027-03-10",'
        f' responsibleIds: ["{provider.admin.id}"]}}) {{ task {{ id }} errors {{ message }} }} }}'
    )

    body = (await post(env, token, create)).json()

    assert body["data"]["createTask"]["errors"] == []
    # The payload and the task (1 each), errors as a list of about ten, the mutation's own 10.
    assert body["extensions"]["cost"]["requested"] == 22


async def test_without_a_rate_the_cost_is_still_reported(env: Env) -> None:
    env.app.state.services.rate_limiter = None
    provider = await env.world.provider()

    body = (await post(env, provider.admin.token)).json()

    assert body["extensions"]["cost"] == {"requested": PAGE_COST, "maximum": 10_000}


async def test_a_subscription_spends_its_cost_once_and_is_refused_over_budget(live: Live) -> None:
    provider = await live.env.world.provider()
    live.env.clock.advance(timedelta(minutes=1))
    dashboard = await GraphQLWebSocket.connect(live.ws_url, provider.admin.token)
    costly = (
        "subscription { notificationAdded { task { client {"
        " tasks(first: 200) { edges { node { id } } } } } } }"
    )
    try:
        cheap = await dashboard.subscribe("subscription { notificationAdded { message } }")
        refused = await dashboard.subscribe(costly)

        message = await refused.message()
        assert message["type"] == "next", message
        [error] = message["payload"]["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert (await refused.message())["type"] == "complete"
        await cheap.nothing(within=0.2)
        assert not dashboard.closed.is_set()
    finally:
        await dashboard.close()
