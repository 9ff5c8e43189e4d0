"""The pure parts of the bench: the open loop, B4's plan, the profile summary, B7's HAProxy count
and the dashboards' bars (no server, no timing)."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from datetime import date
from xml.etree import ElementTree

import pytest

from bench import dashboards, openloop, profiling, summary, writes


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert openloop.percentile(values, 50) == 50.0
    assert openloop.percentile(values, 95) == 95.0
    assert openloop.percentile(values, 100) == 100.0
    assert openloop.percentile([], 95) is None


def test_a_request_without_reply_counts_as_slower_than_any_reply() -> None:
    out = {
        "rate": 10.0,
        "seconds": 1.0,
        "latencies_ms": [1.0] * 18 + [None, 2.0],
        "statuses": [200] * 18 + [openloop.NO_REPLY, 500],
        "unanswered_lower_bound_ms": 900.0,
        "lag_ms": {"p50": 0.1, "p99": 0.2, "max": 0.3},
        "connections_opened": 2,
    }
    found = openloop.summary(out)
    assert (found["answered"], found["errors"]) == (18, 2)
    assert found["p50_ms"] == 1.0
    assert found["p95_ms"] is None  # the 19th of 20 has no good reply
    assert [s["missing"] for s in found["per_second"]] == [0, 2]


def test_responses_are_read_by_length_and_by_chunks() -> None:
    async def read(data: bytes) -> tuple[int, bytes, bool]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await openloop.read_response(reader)

    sized = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
    )
    assert asyncio.run(read(sized)) == (200, b"ok", True)
    assert asyncio.run(read(chunked)) == (200, b"abc", False)


def test_a_keep_alive_connection_the_server_closed_is_not_reused() -> None:
    """A server closes a connection idle past its keep-alive timeout (uvicorn: 5 s); the next
    request must go out on a new connection, not fail on the closed one."""

    async def scenario() -> list[int]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            await asyncio.sleep(0.05)  # idle too long: closed by the server
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        request = base64.b64encode(openloop.raw_request("POST", "/", b"{}")).decode()
        async with server:
            out = await openloop.run(
                {
                    "port": port,
                    "rate": 5.0,  # one request every 200 ms: each finds its connection closed
                    "count": 3,
                    "connections": 1,
                    "drain_seconds": 2.0,
                    "requests": [request],
                }
            )
        return list(out["statuses"])

    assert asyncio.run(scenario()) == [200, 200, 200]


def test_the_b4_plan_gives_each_change_its_own_task_and_a_new_colleague() -> None:
    actors = [writes.Actor(10, 2, "a@x"), writes.Actor(20, 3, "b@x")]
    tasks = {
        10: [writes.Before(100 + i, 1, date(2027, 1, 1), (10,)) for i in range(10)],
        20: [writes.Before(200 + i, 1, date(2027, 1, 1), (20, 21)) for i in range(10)],
    }
    found = writes.Snapshot(tasks, {2: [9, 10, 11], 3: [19, 20, 21, 22]}, 0, 0)
    plan = writes.plan(10, actors, found)
    assert len({c.task.task_id for c in plan}) == 10
    assert Counter(c.kind for c in plan) == {"postpone": 4, "reassign": 4, "complete": 2}
    for change in plan:
        assert change.task.task_id // 100 == change.actor.staff_id // 10  # their own tasks
        if change.kind == "reassign":
            assert change.colleague not in (change.actor.staff_id, *change.task.responsible)
            assert change.variables()["input"]["expectedVersion"] == 1


def test_profile_summary_groups_own_time_by_package() -> None:
    stacks = profiling.read_collapsed(
        'process 1:"python";run (/v/lib/python3.11/site-packages/uvicorn/server.py:1);'
        "execute (/v/lib/python3.11/site-packages/sqlalchemy/orm/session.py:2) 3\n"
        'process 1:"python";run (/v/lib/python3.11/site-packages/uvicorn/server.py:1);'
        "resolve (/work/wt/x/services/tasks.py:9) 1\n"
    )
    assert sum(stacks.values()) == 4
    text = profiling.summary(stacks, "t")
    assert "75.0%       3  SQLAlchemy" in text
    assert "ours (services)" in text
    assert profiling.flamegraph(stacks, "t").startswith("<svg")


def test_bars_say_met_or_missed_and_by_how_much() -> None:
    short = summary._ratio_bar("page vs PostGraphile", 0.8, 1.0, "[flame graph](x.svg)")
    assert (short.met, short.margin, short.profile) == (
        False,
        "20.0% short: needs 1.25x the rate",
        "[flame graph](x.svg)",
    )
    assert summary._ratio_bar("signed in", 0.6, 0.5, "p").margin == "20% over"
    # Not met by rounding: 0.4999 is short of 0.5.
    hair = summary._ratio_bar("signed in", 0.4999, 0.5, "p")
    assert (hair.met, hair.measured, hair.margin) == (
        False,
        "0.4999x",
        "0.0% short: needs 1.00x the rate",
    )
    slow = summary._latency_bar("B4", 125.0, None, "p")
    assert (slow.met, slow.measured, slow.margin) == (False, "125.0 ms", "2.5x the limit")
    unanswered = summary._latency_bar("page", None, 10_000.0, "p")
    assert unanswered.met is False and unanswered.measured.startswith("> 10,000 ms")
    assert summary._latency_bar("B4", None, None, "p").met is None


def test_a_sample_without_python_frames_is_kept() -> None:
    stacks = profiling.read_collapsed('process 1:"python" 2\n')
    assert stacks == {("(no Python frame)",): 2}
    assert "  (no Python frame)" in profiling.summary(stacks, "t")


def test_the_flame_graph_is_well_formed_xml() -> None:
    stacks: Counter[tuple[str, ...]] = Counter({("f<locals> (a.py:1)", "g&h (b.py:2)"): 3})
    ElementTree.fromstring(profiling.flamegraph(stacks, "t<1>", width=100))  # labels cut short


def test_b7_starts_as_many_haproxy_processes_as_the_open_file_limit_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dashboards.resource, "getrlimit", lambda _which: (1024, 20_000))
    per_process = dashboards.haproxy_connections()
    assert per_process == 9_900  # two descriptors per proxied socket, 200 kept for the rest
    assert dashboards.haproxy_processes(1) == 1
    assert dashboards.haproxy_processes(per_process) == 1
    assert dashboards.haproxy_processes(per_process + 1) == 2
    assert dashboards.haproxy_processes(10_000) == 2
    monkeypatch.setattr(dashboards.resource, "getrlimit", lambda _which: (1024, 1_000_000))
    assert dashboards.haproxy_processes(10_000) == 1


def test_a_missed_latency_bar_says_by_how_much() -> None:
    result = {
        "dashboards": 10_000,
        "instances": 2,
        "receipts": 100,
        "expected_receipts": 100,
        "missing": 0,
        "doubled": 0,
        "latency_ms": {"avg": 789.8, "p50": 700.0, "p99": 2008.7, "max": 2300.0},
        "idle_kb_per_dashboard": 60.1,
    }
    delivered, latency, idle = dashboards.bars(result)
    assert delivered["met"] and idle["met"]
    assert not latency["met"]
    assert latency["margin"] == "average 210 ms (21.0%) under; p99 9 ms (0.4%) over"
