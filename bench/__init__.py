"""Benchmarks: the Tasks page against a raw-asyncpg route on the same data, in the same run."""
