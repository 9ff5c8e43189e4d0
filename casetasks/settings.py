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
    # Repeating tasks: days before its scheduled date an occurrence enters the task list, and
    # how often the in-server scheduler looks for due occurrences.
    series_lead_days: int = Field(default=0, ge=0, le=366)
    materialize_interval_seconds: float = Field(default=60.0, gt=0)
    log_level: str = "info"
    # Per-viewer rate limit on query cost (README, "Limits"): a bucket of rate_limit_burst
    # points per viewer, refilled at rate_limit_points_per_second; 0 turns it off.
    rate_limit_points_per_second: float = Field(default=1_000.0, ge=0)
    rate_limit_burst: float = Field(default=30_000.0, gt=0)
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
