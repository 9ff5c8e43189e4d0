"""Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, a real `casetasks serve` exports over OTLP/HTTP
one trace per request holding the HTTP span, the GraphQL operation's and the SQL statements';
no span carries the document, the variables or a password."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.live import ServeProcess, free_port
from tests.processes import process_env

PASSWORD = "a password that must not be traced"


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """An OTLP/HTTP collector in this process: POST /v1/traces, protobuf bodies."""
    received: list[ExportTraceServiceRequest] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                received.append(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        thread.join(5)


async def test_a_request_is_one_trace_of_http_graphql_and_sql_spans(
    database_url: str, tmp_path: Path
) -> None:
    with otlp_receiver() as (endpoint, received):
        env = process_env(database_url, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        server = ServeProcess(env, tmp_path)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.http_url) as http:
                login = f'login(email: "nobody@example.org", password: "{PASSWORD}")'
                await http.post(
                    "/graphql", json={"query": f"mutation SignIn {{ {login} {{ token }} }}"}
                )
        finally:
            await server.stop()  # the lifespan's end flushes the batch
    spans = [
        span
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    operation = next(s for s in spans if s.name == "GraphQL mutation SignIn")
    trace = [s for s in spans if s.trace_id == operation.trace_id]
    names = {s.name for s in trace}
    assert any(name.startswith("POST /graphql") for name in names), names
    sql = [s for s in trace if any(a.key == "db.statement" for a in s.attributes)]
    assert sql, sorted({(s.name, s.trace_id == operation.trace_id) for s in spans})
    http_span = next(
        s for s in trace if s.name.startswith("POST /graphql") and not s.parent_span_id
    )
    assert operation.parent_span_id in {s.span_id for s in trace}
    assert http_span.trace_id == operation.trace_id
    everything = b"".join(request.SerializeToString() for request in received)
    assert PASSWORD.encode() not in everything
