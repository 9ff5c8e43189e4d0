"""OpenTelemetry traces, only when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set.

Then every HTTP request and websocket (the ASGI instrumentation), GraphQL operation
(schema/observed.py: its name and type, never the document or variables, which can hold
passwords) and SQL statement (the SQLAlchemy instrumentation: the statement with its
placeholders, never the values) is a span, exported over OTLP/HTTP in batches. The exporter
reads the standard OTEL_* variables (endpoint, headers, OTEL_SERVICE_NAME...). Without the
variable nothing of OpenTelemetry is imported. The packages are the `otel` extra:
`pip install 'casetasks[otel]'` (the Docker image has them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def enabled() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def install(app: Any, engine: Any) -> Callable[[], None]:
    """Instruments the app and its engine; returns what flushes and stops the exporter."""
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as missing:
        raise RuntimeError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'casetasks[otel]'"
        ) from missing
    service = os.environ.get("OTEL_SERVICE_NAME", "casetasks")
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)  # one per process: a second app reuses the first
    # Its declared range stops before SQLAlchemy 2.1, whose engine events it hooks unchanged:
    # tests/test_tracing.py checks the SQL spans arrive, parented to the request's.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
    # The calendar feed's address is its secret: it must not reach a trace.
    app.add_middleware(
        OpenTelemetryMiddleware, tracer_provider=provider, excluded_urls="/calendar/"
    )
    return provider.shutdown
