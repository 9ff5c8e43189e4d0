"""Configuration from environment variables (twelve-factor)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_FILE = Path(".secret_key")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    casetasks_env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./casetasks.db"
    broadcast_url: str = "memory://"
    secret_key: str = Field(default="", repr=False)
    secret_key_file: Path = DEFAULT_SECRET_FILE
    host: str = "127.0.0.1"
    port: int = 8000
    token_ttl_hours: float = 12.0
    # Browser apps served from other origins (comma-separated, e.g. https://portal.example.org).
    cors_allow_origins: str = ""
    # The address people reach this server at (e.g. https://tasks.example.org), for links it
    # hands out (the calendar feed); unset: the address the request came to.
    public_url: str = ""
    # E-mail digests go out over SMTP: smtp://user:password@host:587 (STARTTLS when offered)
    # or smtps://user:password@host:465; unset: no digests are sent.
    smtp_url: str = Field(default="", repr=False)
    smtp_from: str = "Tasks <tasks@localhost>"
    # Repeating tasks: days before its scheduled date an occurrence enters the task list, and
    # how often the in-server scheduler looks for due occurrences.
    series_lead_days: int = Field(default=0, ge=0, le=366)
    materialize_interval_seconds: float = Field(default=60.0, gt=0)
    # The in-server scheduler (repeating tasks, reminders, digests); off on an instance that
    # should leave that work to others (or to `casetasks materialize` / `remind` from cron).
    scheduler_enabled: bool = True
    log_level: str = "info"
    # The websocket (graphql-transport-ws, casetasks/websocket.py): seconds a new socket may
    # wait before connection_init (4408), operations open at once per connection, the largest
    # message accepted (larger ones close with 1009), server pings and how long an answer
    # may take before the connection is closed (1001), and the legacy graphql-ws subprotocol.
    websocket_init_timeout_seconds: float = Field(default=3.0, gt=0)
    websocket_max_subscriptions: int = Field(default=20, ge=1)
    websocket_max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    websocket_ping_interval_seconds: float = Field(default=15.0, gt=0)
    websocket_ping_timeout_seconds: float = Field(default=10.0, gt=0)
    # permessage-deflate: off by default. The messages are small JSON (a notification, a task),
    # and each compressed connection holds zlib state on both sides and spends CPU per message
    # (bench/README.md, B5).
    websocket_per_message_deflate: bool = False
    # /metrics answers only with "Authorization: Bearer <this>" when set; unset, it is open
    # (scrape it from inside the network, or block it at the proxy).
    metrics_token: str | None = None
    casetasks_legacy_graphql_ws: bool = False
    # Per-viewer rate limit on query cost (README, "Limits"): a bucket of rate_limit_burst
    # points per viewer, refilled at rate_limit_points_per_second; 0 turns it off.
    rate_limit_points_per_second: float = Field(default=1_000.0, ge=0)
    rate_limit_burst: float = Field(default=30_000.0, gt=0)
    # The read planner (resolvers/planner): "on" answers planned queries with one SQL
    # statement, "off" resolves every query field by field, "check" runs planned queries both
    # ways and answers INTERNAL on any difference (the test suite runs so).
    casetasks_planner: Literal["on", "off", "check"] = "on"
    # Sign-in: failed attempts allowed per e-mail and per client address within the window.
    login_max_failures_per_email: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_failure_window_seconds: float = Field(default=900.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept the usual postgres:// spellings and give SQLAlchemy its asyncpg driver."""
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + url[len("sqlite://") :]
        return url

    @model_validator(mode="after")
    def _secret_key(self) -> Settings:
        if self.secret_key:
            return self
        if self.casetasks_env == "production":
            raise ValueError("SECRET_KEY must be set when CASETASKS_ENV=production")
        self.secret_key = _local_secret(self.secret_key_file)
        return self

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allow_origins.split(",") if origin.strip()]

    @property
    def broadcast_backend_url(self) -> str:
        """broadcaster wants postgres:// where SQLAlchemy wants postgresql+asyncpg://."""
        url = self.broadcast_url
        for prefix in ("postgresql+asyncpg://", "postgresql://"):
            if url.startswith(prefix):
                return "postgres://" + url[len(prefix) :]
        return url

    # Production mode hides the schema: no introspection (nor field suggestions), no GraphiQL.
    # CASETASKS_INTROSPECTION / CASETASKS_GRAPHIQL turn either back on; unset follows the mode,
    # and GraphiQL follows introspection (it cannot work without it).
    casetasks_introspection: bool | None = None
    casetasks_graphiql: bool | None = None
    # The HTTP edge: bodies above this are refused with 413; a request running longer than its
    # budget is stopped (its database work cancelled) and answered with TIMEOUT.
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    # On SIGTERM: the bound on finishing in-flight requests before `casetasks serve` exits.
    shutdown_timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def introspection_enabled(self) -> bool:
        if self.casetasks_introspection is not None:
            return self.casetasks_introspection
        return self.casetasks_env != "production"

    @property
    def graphiql_enabled(self) -> bool:
        if self.casetasks_graphiql is not None:
            return self.casetasks_graphiql
        return self.introspection_enabled

    # Database faults: how long a request waits for a pooled connection, for a new connection
    # and for one statement before it fails fast (masked), and how many connections the pool
    # holds (pool_size kept open, max_overflow more under load).
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    database_command_timeout_seconds: float = Field(default=15.0, gt=0)
    # PostgreSQL: how the app's prepared statements are planned (casetasks/db.py); "auto"
    # leaves the server's setting.
    database_plan_cache_mode: Literal["force_custom_plan", "force_generic_plan", "auto"] = (
        "force_custom_plan"
    )
    # PostgreSQL under force_custom_plan: a second pool, of this size (and half as many more
    # under load), for the planned reads one generic plan serves (casetasks/db.py
    # generic_plan_engine); 0: none, every statement is planned at each execution.
    database_generic_plan_pool_size: int = Field(default=20, ge=0)
    # Broker faults: the event hub sends itself a heartbeat every interval and treats the
    # broadcast connection as dead when it is not back within the timeout (which also bounds
    # connecting and publishing); it then reconnects, waiting from the first delay doubling up
    # to the maximum, and every dashboard catches up from the database.
    broadcast_heartbeat_interval_seconds: float = Field(default=5.0, gt=0)
    broadcast_heartbeat_timeout_seconds: float = Field(default=5.0, gt=0)
    broadcast_reconnect_delay_seconds: float = Field(default=0.5, gt=0)
    broadcast_reconnect_max_delay_seconds: float = Field(default=10.0, gt=0)
    # Events waiting for one subscription; beyond this they collapse into one "catch up".
    subscription_queue_size: int = Field(default=100, ge=1)
    # Persisted documents (casetasks/persisted.py, README "Persisted documents"). Set, the JSON
    # manifest of hash -> document a client build emits: only its documents run. Unset,
    # automatic persisted queries: the database keeps at most persisted_documents_max of them
    # (the oldest go first) and each process caches the most used.
    casetasks_trusted_documents: Path | None = None
    persisted_documents_max: int = Field(default=10_000, ge=1)

    @field_validator("casetasks_trusted_documents", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def _local_secret(path: Path) -> str:
    """Development only: one random key per checkout, kept out of version control."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
