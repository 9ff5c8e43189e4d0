"""/metrics in Prometheus' text format (prometheus-client), one registry per app.

Counted as they happen (cheap: a counter and a histogram per operation): GraphQL operations by
operation name and outcome, their duration, scheduler passes. Read when scraped, from the
objects that already keep them: open websockets, active subscriptions by field, events
published and handed to local listeners, broker reconnects, the database pool's use.

Operation names come from clients, so they are bounded: the first MAX_OPERATION_NAMES distinct
names are kept, later ones count as "other"; an unnamed operation is "anonymous". Outcomes are
"ok" or the first error's extensions.code, which the server sets. No label carries a viewer, a
provider or a variable.

With `casetasks serve --workers N` every worker has its own registry and a scrape reaches one
of them: scrape each worker's port, or run one worker per instance (as the Docker image does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_OPERATION_NAMES = 200
_CODE = re.compile(r"^[A-Z][A-Z_]{0,39}$")
# Seconds: a planned page takes milliseconds, a slow mutation a few hundred.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "casetasks_graphql_operations",
            "GraphQL queries and mutations answered, by operation name and outcome",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "casetasks_graphql_operation_seconds",
            "Time from parsing to the result of a GraphQL query or mutation",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.scheduler_passes = Counter(
            "casetasks_scheduler_passes",
            "Passes of the in-server scheduler (repeating tasks), by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self._names: set[str] = set()
        # labels() looks its child up under a lock each time: keep the children at hand.
        self._counted: dict[tuple[str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._names:
            return name
        if len(self._names) < MAX_OPERATION_NAMES and len(name) <= 100:
            self._names.add(name)
            return name
        return "other"

    def observe_operation(self, name: str | None, outcome: str, seconds: float) -> None:
        label = self.operation_label(name)
        counted = self._counted.get((label, outcome))
        if counted is None:
            counted = self._counted[label, outcome] = self.operations.labels(label, outcome)
        timed = self._timed.get(label)
        if timed is None:
            timed = self._timed[label] = self.duration.labels(label)
        counted.inc()
        timed.observe(seconds)

    def watch(self, state: Any) -> None:
        """Reads the app's state (hub, websockets, engine) whenever scraped."""
        self.registry.register(_StateCollector(state))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def outcome(errors: list[Any] | None) -> str:
    """ "ok", or the first error's code (set by the server, so a bounded set)."""
    if not errors:
        return "ok"
    extensions = getattr(errors[0], "extensions", None) or {}
    code = extensions.get("code")
    return code if isinstance(code, str) and _CODE.match(code) else "error"


class _StateCollector(Collector):
    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        websockets = getattr(self.state, "websockets", None)
        yield GaugeMetricFamily(
            "casetasks_websockets_open", "Websockets open", len(websockets or ())
        )
        hub = getattr(self.state, "hub", None)
        if hub is not None:
            active = GaugeMetricFamily(
                "casetasks_subscriptions_active",
                "Subscriptions listening, by field",
                labels=["field"],
            )
            for field, count in sorted(hub.listening.items()):
                active.add_metric([field or "other"], count)
            yield active
            yield CounterMetricFamily(
                "casetasks_events_published",
                "Batches of events published to the broadcast backend",
                hub.published,
            )
            yield CounterMetricFamily(
                "casetasks_events_delivered",
                "Events handed to this instance's subscriptions",
                hub.delivered,
            )
            yield CounterMetricFamily(
                "casetasks_broker_reconnects",
                "Reconnections to the broadcast backend after a lost connection",
                hub.reconnects,
            )
        pool = getattr(getattr(self.state, "engine", None), "pool", None)
        if pool is not None and hasattr(pool, "checkedout"):
            yield GaugeMetricFamily(
                "casetasks_db_pool_checked_out", "Database connections in use", pool.checkedout()
            )
            yield GaugeMetricFamily(
                "casetasks_db_pool_size", "Database connections the pool keeps", pool.size()
            )
            yield GaugeMetricFamily(
                "casetasks_db_pool_overflow",
                "Connections open beyond the pool's size",
                pool.overflow(),
            )
        services = getattr(self.state, "services", None)
        generic = getattr(services, "generic_read_engine", None)
        if generic is not None:
            generic_pool = generic.sync_engine.pool
            yield GaugeMetricFamily(
                "casetasks_db_generic_plan_pool_checked_out",
                "Connections of the generic-plan pool (DATABASE_GENERIC_PLAN_POOL_SIZE) in use",
                generic_pool.checkedout(),
            )
            yield GaugeMetricFamily(
                "casetasks_db_generic_plan_pool_overflow",
                "Connections of the generic-plan pool open beyond its size",
                generic_pool.overflow(),
            )
