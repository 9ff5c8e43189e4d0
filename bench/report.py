"""Ratios, the summary table in bench/README.md and the rate/latency plot of a result file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

README = Path(__file__).parent / "README.md"
RESULT_FILE = re.compile(r"\d{8}T\d{6}Z-[SL](-quick)?\.json")


def _rate(measured: list[dict[str, Any]], variant: str) -> float | None:
    for found in measured:
        if found["variant"] == variant:
            return float(found["median"]["req_per_s"])
    return None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    # Four places: a bar must not be met by rounding (1,632.9 / 3,266.5 is 0.4999, not 0.5).
    return round(top / bottom, 4) if top and bottom else None


def ratios(measured: list[dict[str, Any]]) -> dict[str, float | None]:
    found: dict[str, float | None] = {}
    raw_best = max(
        (
            r
            for r in (
                _rate(measured, "raw asyncpg Tasks page"),
                _rate(measured, "raw asyncpg Tasks page (custom plans)"),
            )
            if r
        ),
        default=None,
    )
    for suffix, label in (("", "default plans"), (" (custom plans)", "custom plans")):
        raw = _rate(measured, "raw asyncpg Tasks page" + suffix)
        ours = _rate(measured, "casetasks Tasks page" + suffix)
        postgraphile = _rate(measured, "PostGraphile 5 Tasks page" + suffix)
        found[f"casetasks / raw, {label}"] = _ratio(ours, raw)
        found[f"PostGraphile / raw, {label}"] = _ratio(postgraphile, raw)
        found[f"casetasks / PostGraphile, {label}"] = _ratio(ours, postgraphile)
        found[f"casetasks / raw at its best plan, {label}"] = _ratio(ours, raw_best)
    found["{__typename} signed in / signed out"] = _ratio(
        _rate(measured, "casetasks {__typename} signed in"),
        _rate(measured, "casetasks {__typename} signed out"),
    )
    return found


def _cell(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(result: dict[str, Any]) -> str:
    lines = [
        "| bench | variant | req/s (median) | runs min-max | p50 ms | p95 ms | p99 ms"
        " | CPU ms per request: server / PostgreSQL | PostgreSQL transactions / new sessions"
        " per request | backends seen | load avg |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for found in result["variants"]:
        m = found["median"]
        low, high = found["req_per_s_spread"]
        lines.append(
            f"| {found['bench']} | {found['variant']} | {_cell(m['req_per_s'])}"
            f" | {_cell(low)}-{_cell(high)} | {_cell(m['p50_ms'], 2)} | {_cell(m['p95_ms'], 2)}"
            f" | {_cell(m['p99_ms'], 2)} | {_cell(m['server_cpu_ms_per_request'], 2)} /"
            f" {_cell(m['postgres_cpu_ms_per_request'], 2)}"
            f" | {_cell(m.get('postgres_transactions_per_request'), 2)} /"
            f" {_cell(m.get('postgres_sessions_opened_per_request'), 3)}"
            f" | {m['postgres_backends_seen']}"
            f" | {_cell(m.get('load_average_1m'), 2)} |"
        )
    failed = [
        f"{found['variant']}: {run['errors']} of {run['requests']}"
        for found in result["variants"]
        for run in found["runs"]
        if run["errors"]
    ]
    if failed:
        lines += ["", "Requests that failed (socket errors or non-2xx): " + "; ".join(failed)]
    lines += ["", "| ratio | value |", "| --- | ---: |"]
    lines += [f"| {name} | {_cell(value, 3)} |" for name, value in result["ratios"].items()]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> bool:
    """A PNG of rate and p50/p95 per variant; False where matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [found["variant"] for found in result["variants"]]
    rates = [found["median"]["req_per_s"] for found in result["variants"]]
    p50 = [found["median"]["p50_ms"] for found in result["variants"]]
    p95 = [found["median"]["p95_ms"] for found in result["variants"]]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 0.45 * len(names) + 1.6), sharey=True)
    positions = list(range(len(names)))
    left.barh(positions, rates, color="#4c72b0")
    left.set_xscale("log")
    left.set_xlabel("requests/s (median run, log scale)")
    left.set_yticks(positions, names)
    left.invert_yaxis()
    right.barh([p - 0.2 for p in positions], p50, height=0.4, label="p50", color="#55a868")
    right.barh([p + 0.2 for p in positions], p95, height=0.4, label="p95", color="#c44e52")
    right.set_xscale("log")
    right.set_xlabel("latency ms (log scale)")
    right.legend()
    figure.suptitle(
        f"size {result['size']}, {result['settings']['connections']} connections,"
        f" {result['settings']['runs']} x {result['settings']['seconds']:g} s, {result['when']}"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return True


def _loaded(load: dict[str, Any]) -> str:
    materialize = (
        f"`casetasks materialize` then took {load['casetasks materialize seconds']:g} s"
        f" ({load['casetasks materialize']})"
    )
    if "casetasks remind" in load:  # results from before 2026-12-04 have no remind pass
        materialize += (
            f", `casetasks remind` {load['casetasks remind seconds']:g} s"
            f" ({load['casetasks remind']})"
        )
    materialize += "."
    if load.get("reused"):
        return f"The database was reused from an earlier load (`--reuse`); {materialize}"
    rows = ", ".join(f"{table} {count:,}" for table, count in load["rows"].items())
    return f"Generated in {load['seconds']:g} s ({rows}); {materialize}"


def write(result: dict[str, Any], result_path: Path) -> None:
    """Replaces the size's section of bench/README.md with this result's table and plot."""
    size = result["size"]
    picture = result_path.with_suffix(".png")
    has_plot = plot(result, picture)
    env = result["environment"]
    settings = result["settings"]
    arguments = result["command"].removeprefix("python -m bench").strip()
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    section = [
        f'Measured {result["when"]} with `make bench BENCH_ARGS="{arguments}"`, that is'
        f" `{result['command']}` (commit {env['casetasks_commit']};"
        f" file [{result_path.name}](results/{result_path.name})).",
        "",
        f"Machine: {env['machine']}; {env['os']}. PostgreSQL {env['postgresql']}"
        f" ({', '.join(f'{k} {v}' for k, v in env['postgresql_settings'].items())}),"
        f" Python {env['python']} ({packages}), Node {env['node']}, PostGraphile"
        f" {env['postgraphile']}, load generator {settings['load_generator']}"
        f" ({env['wrk'] or 'asyncio client'}). {settings['connections']} connections,"
        f" {settings['runs']} x {settings['seconds']:g} s per variant after"
        f" {settings['warmup_seconds']:g} s of warm-up; server pinned to core"
        f" {settings['server_core']}, load generator to core {settings['load_core']}, PostgreSQL"
        " unpinned. The page returned "
        f"{result['page']['rows']} rows of totalCount {result['page']['total_count']} on every"
        " variant.",
        "",
        _loaded(result["load"]),
        "",
        table(result),
        "",
        f"![rate and latency, size {size}](results/{picture.name})"
        if has_plot
        else "(No plot: matplotlib is not installed; `pip install -r bench/requirements.txt`.)",
    ]
    _replace(size, "\n".join(section))
    _replace("B6", scaling(result_path.parent, result_path.name.endswith("-quick.json")))


def _replace(section: str, body: str) -> None:
    start, end = f"<!-- results {section} start -->", f"<!-- results {section} end -->"
    text = README.read_text()
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        README.write_text(pattern.sub(lambda _m: block, text))
    else:
        README.write_text(text + "\n" + block + "\n")


def scaling(folder: Path, quick: bool) -> str:
    """B6: each page's rate at L over its rate at S, from the newest results of each size."""
    newest: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        if not RESULT_FILE.fullmatch(path.name):  # profiles are JSON too
            continue
        if path.name.endswith("-quick.json") == quick:
            found = json.loads(path.read_text())
            newest[found["size"]] = found | {"file": path.name}
    if set(newest) != {"S", "L"}:
        return "(B6 needs a result at S and one at L, both full or both quick.)"
    small, large = newest["S"], newest["L"]
    lines = [
        f"B6, each page's rate at L over its rate at S ({small['file']}, {large['file']}):",
        "",
        "| variant | req/s at S | req/s at L | L / S |",
        "| --- | ---: | ---: | ---: |",
    ]
    for found in small["variants"]:
        if found["bench"] == "B1":
            continue
        at_s = _rate(small["variants"], found["variant"])
        at_l = _rate(large["variants"], found["variant"])
        ratio = _cell(_ratio(at_l, at_s), 3)
        lines.append(f"| {found['variant']} | {_cell(at_s)} | {_cell(at_l)} | {ratio} |")
    return "\n".join(lines)
