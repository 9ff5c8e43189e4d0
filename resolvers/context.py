"""What every resolver gets: who is asking, a session factory, the clock and the loaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from casetasks.db import ReadConnection, SessionFactory
from resolvers.loaders import Loaders
from services.auth import (
    RecentViewers,
    TokenPolicy,
    ViewerLookup,
    viewer_for_token,
    viewer_from_row,
    viewer_lookup,
)
from services.clock import Clock, today_in
from services.login_throttle import LoginThrottle
from services.rate_limit import CostRateLimiter, rate_key
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
    # Who each recent token was, for planned queries to confirm in their own statement.
    recent_viewers: RecentViewers = field(default_factory=RecentViewers)
    # SQL tracing on: reads go through SQLAlchemy's execution, which its instrumentation needs.
    sql_traced: bool = False
    # PostgreSQL: a second pool whose sessions plan each prepared statement once (generic
    # plans), for the planned statements that one plan serves (Plan.custom_plans False).
    # None: every statement runs on the main pool. Disposed with the app.
    generic_read_engine: AsyncEngine | None = None
    _read_engine: AsyncEngine | None = None

    @property
    def read_engine(self) -> AsyncEngine:
        """The engine's pool in autocommit: a request's reads are single statements, each with
        its own snapshot anyway (READ COMMITTED), so nothing wraps them in BEGIN ... ROLLBACK,
        two round trips a request."""
        if self._read_engine is None:
            engine: AsyncEngine = self.session_factory.kw["bind"]
            self._read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        return self._read_engine


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
    # Signed in as the viewer this token was last confirmed as, not yet looked up: only a
    # planned query's statement may confirm it (confirm), anything else must verify() first.
    unverified: bool = False
    # The rate key and cost spent for the provisional viewer (confirm moves it if it was not).
    charged: tuple[str, float] | None = None
    _connection: ReadConnection | None = None
    _digested: tuple[str, str] | None = None
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

    def forget(
        self,
        tasks: Iterable[int] = (),
        staff_id: int | None = None,
        client_id: int | None = None,
    ) -> None:
        """A later field or mutation of this request must see a change, not a cached batch.
        Nothing was cached before the loaders were made: none are made for this."""
        loaders = self._loaders
        if loaders is None:
            return
        for task_id in tasks:
            loaders.responsible.forget(task_id)
            loaders.history.forget(task_id)
        if staff_id is not None:
            loaders.staff.forget(staff_id)
        if client_id is not None:
            loaders.client.forget(client_id)

    @property
    def session_factory(self) -> SessionFactory:
        return self.services.session_factory

    @property
    def clock(self) -> Clock:
        return self.services.clock

    async def connection(self, generic_plan: bool = False) -> ReadConnection:
        """The request's one connection for planned reads, opened on first use and held until
        release(); never handed to concurrent resolvers (they use the session factory).
        generic_plan: opened for a statement one generic plan serves, it comes from the pool
        that plans statements once; a connection already held serves it as it is."""
        if self._connection is None:
            generic = self.services.generic_read_engine
            engine = generic if generic_plan and generic is not None else self.services.read_engine
            connection = await engine.connect()
            self._connection = ReadConnection(connection, self.services.sql_traced)
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

    @property
    def address(self) -> str | None:
        """The caller's network address (an HTTP request's or a websocket's), if known."""
        client = getattr(self.request, "client", None)
        return client.host if client else None

    @property
    def token_hash(self) -> str | None:
        """The token's HMAC digest, worked out once per token."""
        if self.token is None:
            return None
        if self._digested is None or self._digested[0] != self.token:
            self._digested = (self.token, self.services.tokens.digest(self.token))
        return self._digested[1]

    async def identify(self, provisional: bool = False) -> None:
        """Who holds the request's token, looked up once; an HTTP request does this only after
        its document passed the limits, so a refused request runs no SQL at all.

        provisional (a query the read planner may answer): the viewer the token was last
        confirmed as, if any, without a statement; the planned statement confirms it."""
        if self.identified or self.viewer is not None:
            return
        token_hash = self.token_hash
        if token_hash is None:
            self.sign_in(None)
            return
        recent = self.services.recent_viewers
        if provisional:
            remembered = recent.get(token_hash)
            if remembered is not None:
                self.sign_in(remembered)
                self.unverified = True
                return
        # On the request's one connection: a planned query runs on it next.
        assert self.token is not None
        viewer = await viewer_for_token(
            await self.connection(), self.token, self.services.tokens, self.services.clock
        )
        recent.remember(token_hash, viewer)
        self.sign_in(viewer)

    async def verify(self) -> None:
        """Looks the provisional viewer up, before anything but the planner relies on it."""
        if not self.unverified:
            return
        assert self.token is not None
        fresh = await viewer_for_token(
            await self.connection(), self.token, self.services.tokens, self.services.clock
        )
        self._settle(fresh)

    def confirm(self, row: Row[Any] | tuple[Any, ...]) -> bool:
        """A planned statement's viewer columns: whether they name the provisional viewer."""
        return self._settle(viewer_from_row(row))

    def _settle(self, fresh: Viewer | None) -> bool:
        """The provisional viewer checked against who the token names now: if another (or no
        one), the request is signed in as that and its rate cost moved to their budget."""
        token_hash = self.token_hash
        assert token_hash is not None
        self.services.recent_viewers.remember(token_hash, fresh)
        self.unverified = False
        if fresh == self.viewer:
            return True
        self.sign_in(fresh)
        limiter = self.services.rate_limiter
        if self.charged is not None and limiter is not None:
            paid_by, cost = self.charged
            limiter.transfer(paid_by, rate_key(fresh, self.address), cost)
        return False

    def viewer_check(self, now: datetime) -> tuple[ViewerLookup, tuple[Any, ...]] | None:
        """For a planned statement: the viewer lookup (its SQL numbered by the caller) and its
        values, while the viewer is provisional; else None."""
        if not self.unverified:
            return None
        token_hash = self.token_hash
        assert token_hash is not None
        engine: AsyncEngine = self.services.session_factory.kw["bind"]
        lookup = viewer_lookup(engine.dialect)
        return lookup, lookup.parameters(token_hash, now)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
