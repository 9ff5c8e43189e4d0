"""Password hashing with argon2; verification costs the same whether or not the account exists."""

from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def _make_hasher() -> PasswordHasher:
    # The test suite signs people in thousands of times; it may trade hashing cost for speed.
    # Production keeps argon2-cffi's recommended parameters.
    if os.environ.get("CASETASKS_PASSWORD_HASHING") == "fast-insecure-for-tests":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


_hasher = _make_hasher()
# Verified against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("casetasks-timing-equaliser")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str | None) -> str | None:
    if not password:
        return "Password must be entered"
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    return None
