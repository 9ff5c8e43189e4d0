"""/metrics: Prometheus text that counts what the service does, and request ids on log lines."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from casetasks.logs import JsonFormatter
from casetasks.metrics import MAX_OPERATION_NAMES, Metrics
from casetasks.request_ids import context_for
from casetasks.scheduler import run_one_tick
from tests.conftest import Env, Live, settings_for_tests
from tests.group_setup import group_of_two, send_task
from tests.ws_client import GraphQLWebSocket

ALERTS = "subscription { unassignedTaskAlerts { task { id } } }"


async def scrape(http: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """sample name and labels -> value, from the text a Prometheus server would read."""
    response = await http.get("/metrics")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def operations(samples: dict, operation: str, outcome: str) -> float:
    key = ("casetasks_graphql_operations_total", (("operation", operation), ("outcome", outcome)))
    return samples.get(key, 0.0)


async def test_operations_are_counted_by_name_and_outcome_and_timed(env: Env) -> None:
    http = env.api.http
    before = await scrape(http)
    await run_one_tick(env.app.state.services)  # what the in-server scheduler does on its timer
    await http.post("/graphql", json={"query": "query Who { me { __typename } }"})
    await http.post("/graphql", json={"query": "query Screen { tasks { totalCount } }"})
    await http.post("/graphql", json={"query": "{ me { __typename } }"})
    after = await scrape(http)
    assert operations(after, "Who", "ok") == operations(before, "Who", "ok") + 1
    # Signed out, the Tasks screen is refused: the outcome is the error's code.
    assert operations(after, "Screen", "UNAUTHENTICATED") == 1
    assert operations(after, "anonymous", "ok") == operations(before, "anonymous", "ok") + 1
    count = ("casetasks_graphql_operation_seconds_count", (("operation", "Who"),))
    assert after[count] == before.get(count, 0) + 1
    # Each of the scheduler's jobs (occurrences, reminders, digests) counts as a pass.
    assert after[("casetasks_scheduler_passes_total", (("outcome", "ok"),))] == 3
    assert ("casetasks_db_pool_checked_out", ()) in after
    # PostgreSQL's second pool (casetasks/db.py generic_plan_engine) is watched too.
    generic = ("casetasks_db_generic_plan_pool_checked_out", ())
    assert (generic in after) == (env.dialect == "postgresql")


def test_operation_names_from_clients_are_bounded() -> None:
    metrics = Metrics()
    labels = {metrics.operation_label(f"Op{n}") for n in range(MAX_OPERATION_NAMES + 50)}
    assert len(labels) == MAX_OPERATION_NAMES + 1
    assert "other" in labels
    assert metrics.operation_label("Op0") == "Op0"
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("x" * 101) == "other"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_websockets_subscriptions_and_events_are_counted(live: Live) -> None:
    http = live.env.api.http
    world = live.env.world
    group = await group_of_two(world)
    before = await scrape(http)
    dashboard = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await dashboard.subscribe(ALERTS)
    await alerts.nothing(0.2)
    listening = await scrape(http)
    assert listening[("casetasks_websockets_open", ())] == 1
    field = ("casetasks_subscriptions_active", (("field", "unassignedTaskAlerts"),))
    assert listening[field] == 1

    task = await send_task(world, group, "Call about housing support")
    assert (await alerts.next())["unassignedTaskAlerts"]["task"]["id"] == task["id"]
    sent = await scrape(http)
    published = ("casetasks_events_published_total", ())
    delivered = ("casetasks_events_delivered_total", ())
    assert sent[published] > before.get(published, 0)
    assert sent[delivered] >= before.get(delivered, 0) + 1

    await dashboard.close()
    for _ in range(100):  # until the server has noticed the close
        closed = await scrape(http)
        if closed[("casetasks_websockets_open", ())] == 0:
            break
        await asyncio.sleep(0.05)
    assert closed[("casetasks_websockets_open", ())] == 0
    assert closed[field] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_metrics_token_keeps_the_page_private(database_url: str, broadcast: str) -> None:
    import httpx

    from casetasks.app import create_app

    app = create_app(settings_for_tests(database_url, broadcast, metrics_token="scrape-secret"))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http,
    ):
        assert (await http.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await http.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer scrape-secret"}
        response = await http.get("/metrics", headers=right)
        assert response.status_code == 200 and "casetasks_websockets_open" in response.text


def test_a_log_line_written_while_serving_a_request_names_it() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("casetasks.test", logging.INFO, __file__, 1, "hello", (), None)
    assert '"request_id"' not in formatter.format(record)
    line = context_for("0123456789abcdef").run(formatter.format, record)
    assert '"request_id": "0123456789abcdef"' in line
