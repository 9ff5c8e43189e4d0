"""Sign-in attempts limited per e-mail and per client address.

After `max_per_email` failed sign-ins for one e-mail within `window`, further attempts for it
are refused until the oldest of those failures leaves the window; likewise per client address
with `max_per_address`. The e-mail counts whether or not anyone signs in with it, so a refusal
says nothing about which e-mails exist. While refused, the password is not checked at all, so
guessing on during a lockout learns nothing. A successful sign-in clears its e-mail's failures.
State is per process.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from services.clock import Clock
from services.errors import RateLimited

PRUNE_ABOVE = 10_000
THROTTLED = "Too many sign-in attempts"


class LoginThrottle:
    def __init__(
        self, max_per_email: int, max_per_address: int, window: timedelta, clock: Clock
    ) -> None:
        if max_per_email < 1 or max_per_address < 1 or window <= timedelta(0):
            raise ValueError("a login throttle needs positive limits and window")
        self.max_per_email = max_per_email
        self.max_per_address = max_per_address
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[datetime]] = {}

    @staticmethod
    def _keys(email: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("email", email.strip().lower())]
        if address:
            keys.append(("address", address))
        return keys

    def _limit(self, kind: str) -> int:
        return self.max_per_email if kind == "email" else self.max_per_address

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def check(self, email: str, address: str | None) -> None:
        """Raises RateLimited when the e-mail or the address has used up its attempts."""
        now = self.clock.now()
        waits = []
        for kind, value in self._keys(email, address):
            failures = self._recent(f"{kind}:{value}", now)
            if len(failures) >= self._limit(kind):
                waits.append((failures[0] + self.window - now).total_seconds())
        if waits:
            raise RateLimited(max(waits), THROTTLED)

    def failed(self, email: str, address: str | None) -> None:
        now = self.clock.now()
        if len(self._failures) >= PRUNE_ABOVE:
            for key in list(self._failures):
                self._recent(key, now)
        for kind, value in self._keys(email, address):
            failures = self._failures.setdefault(f"{kind}:{value}", deque())
            failures.append(now)
            while len(failures) > self._limit(kind):
                failures.popleft()

    def succeeded(self, email: str) -> None:
        self._failures.pop(f"email:{email.strip().lower()}", None)
