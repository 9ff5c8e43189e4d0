"""What every resolver gets: who is asking, a session factory, the clock and the loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from casetasks.db import SessionFactory
from resolvers.loaders import Loaders
from services.auth import TokenPolicy, viewer_for_token
from services.clock import Clock, today_in
from services.login_throttle import LoginThrottle
from services.rate_limit import CostRateLimiter
from services.viewer import Viewer
from subscriptions.hub import EventHub

if TYPE_CHECKING:
    from casetasks.metrics import Metrics
    from models import Task
    from services.digests import Mailer
    from subscriptions.shared_reads import SharedReads


@dataclass
class Services:
    """Process-wide collaborators, built once by the app's lifespan."""

    session_factory: SessionFactory
    clock: Clock
    tokens: TokenPolicy
    hub: EventHub | None = None
    series_lead_days: int = 0
    # Per process; None turns the limit off.
    rate_limiter: CostRateLimiter | None = None
    login_throttle: LoginThrottle | None = None
    # The read planner: "on", "off" or "check" (casetasks.settings).
    planner: str = "on"
    # Subscriptions' reads, gathered per event (subscriptions/shared_reads.py).
    shared_reads: SharedReads | None = None
    # /metrics (casetasks/metrics.py); None where nothing is served (the CLI's passes).
    metrics: Metrics | None = None
    # For the links the server hands out; "" means the request's own address.
    public_url: str = ""
    # SMTP for the e-mail digests (services/digests.py); None: digests are not sent.
    mailer: Mailer | None = None


@dataclass
class Context:
    services: Services
    # Websocket connections live across many events: their loaders must not cache.
    cache_loads: bool = True
    viewer: Viewer | None = None
    token: str | None = None
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    timezones: dict[int, str] = field(default_factory=dict)
    identified: bool = False
    _connection: AsyncConnection | None = None
    _loaders: Loaders | None = None
    # Tasks a subscription's shared read loaded with its notifications, by id: what the
    # event's fields show without a read of their own.
    seen_tasks: dict[int, Task | None] = field(default_factory=dict)

    @property
    def loaders(self) -> Loaders:
        """Made on first use: a planned query never needs them."""
        if self._loaders is None:
            self._loaders = Loaders.create(self.services.session_factory, self.cache_loads)
        return self._loaders

    @property
    def session_factory(self) -> SessionFactory:
        return self.services.session_factory

    @property
    def clock(self) -> Clock:
        return self.services.clock

    async def connection(self) -> AsyncConnection:
        """The request's one connection for planned reads, opened on first use and held until
        release(); never handed to concurrent resolvers (they use the session factory)."""
        if self._connection is None:
            engine = self.services.session_factory.kw["bind"]
            self._connection = await engine.connect()
        return self._connection

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    def today(self, timezone: str) -> date:
        return today_in(self.services.clock, timezone)

    def sign_in(self, viewer: Viewer | None) -> None:
        self.viewer = viewer
        self.identified = True
        if viewer is not None:
            self.timezones[viewer.provider_id] = viewer.provider_timezone

    async def identify(self) -> None:
        """Who holds the request's token, looked up once; an HTTP request does this only after
        its document passed the limits, so a refused request runs no SQL at all."""
        if self.identified or self.viewer is not None:
            return
        viewer = None
        if self.token is not None:
            # On the request's one connection: a planned query runs on it next.
            viewer = await viewer_for_token(
                await self.connection(), self.token, self.services.tokens, self.services.clock
            )
        self.sign_in(viewer)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
