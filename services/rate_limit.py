"""Per-viewer rate limiting on query cost: a token bucket of cost points per key.

Each key (a staff member, a client, or the address of someone not signed in) has a bucket of
`burst` points that refills at `points_per_second`. A request spends its cost up front; when
the bucket cannot pay, the request is refused with the time until it could. State is per
process: behind a load balancer each instance limits on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.clock import Clock
from services.viewer import ClientViewer, StaffViewer, Viewer

# Buckets that have refilled completely hold no information; past this many keys they are
# dropped, so that many distinct callers cannot grow memory without bound.
PRUNE_ABOVE = 10_000


@dataclass
class _Bucket:
    points: float
    at: float


@dataclass(frozen=True)
class Spent:
    """The outcome of one request: allowed or not, what is left, and when to retry."""

    allowed: bool
    remaining: float
    retry_after: float = 0.0


class CostRateLimiter:
    def __init__(self, points_per_second: float, burst: float, clock: Clock) -> None:
        if points_per_second <= 0 or burst <= 0:
            raise ValueError("a rate limit needs a positive rate and burst")
        self.points_per_second = points_per_second
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        elapsed = max(0.0, now - bucket.at)
        bucket.points = min(self.burst, bucket.points + elapsed * self.points_per_second)
        bucket.at = now
        return bucket

    def _prune(self, now: float) -> None:
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.points + (now - bucket.at) * self.points_per_second >= self.burst
        ]
        for key in full:
            del self._buckets[key]

    def spend(self, key: str, cost: float) -> Spent:
        """Takes cost points from key's bucket, or refuses (taking nothing) when it cannot pay.

        A cost above the burst can never be paid; callers cap a request's cost below it."""
        now = self._seconds()
        bucket = self._bucket(key, now)
        if cost <= bucket.points:
            bucket.points -= cost
            return Spent(allowed=True, remaining=bucket.points)
        wait = (min(cost, self.burst) - bucket.points) / self.points_per_second
        return Spent(allowed=False, remaining=bucket.points, retry_after=wait)

    def transfer(self, paid_by: str, owed_by: str, cost: float) -> None:
        """A cost taken from the wrong bucket: given back to paid_by and owed by owed_by (whose
        bucket may go below zero: its next request waits that much longer)."""
        if paid_by == owed_by:
            return
        now = self._seconds()
        payer = self._bucket(paid_by, now)
        payer.points = min(self.burst, payer.points + cost)
        self._bucket(owed_by, now).points -= cost

    def remaining(self, key: str) -> float:
        return self._bucket(key, self._seconds()).points


def rate_key(viewer: Viewer | None, address: str | None) -> str:
    """Whose bucket a request spends from: the signed-in person, else the caller's address."""
    if isinstance(viewer, StaffViewer):
        return f"staff:{viewer.staff_id}"
    if isinstance(viewer, ClientViewer):
        return f"client:{viewer.client_id}"
    return f"address:{address or 'unknown'}"
