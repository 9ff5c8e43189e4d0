"""The open-loop figures (the page at a fixed rate, B4), B6 and the bars of issue 9 in
bench/README.md, beside report.py's closed-loop tables; and the plot of the open-loop runs.

    python -m bench.summary RESULT.json ...   # the README's sections again from result files

B5 and B7 come from the newest results of bench/dashboards.py (*-dashboards.json, one instance;
*-dashboards-2.json, two), each carrying its rows as "bars": dicts shaped like Bar below.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import dashboards, report
from bench.report import RESULT_FILE, _cell, _rate, _ratio

LIMIT_MS = 50.0


def write(result: dict[str, Any], result_path: Path) -> None:
    """The size's sections of bench/README.md (closed loop through report.write, open loop
    here), B6 and the bars. A run of one part (--only) leaves the other part's section."""
    quick = result_path.name.endswith("-quick.json")
    if result["variants"]:
        report.write(result, result_path)
    if _open_loop(result):
        settings = result["settings"]
        env = result["environment"]
        arguments = result["command"].removeprefix("python -m bench").strip()
        picture = result_path.with_name(result_path.stem + "-open.png")
        section = [
            f'Measured {result["when"]} with `make bench BENCH_ARGS="{arguments}"` (commit'
            f" {env['casetasks_commit']}; file [{result_path.name}](results/{result_path.name}));"
            f" machine and versions as above. {settings['runs']} x {settings['seconds']:g} s per"
            f" variant after {settings['warmup_seconds']:g} s of warm-up (closed loop); server on"
            f" core {settings['server_core']}, the generator on core {settings['load_core']}.",
            "",
            fixed_rate_table(result),
        ]
        if plot_open(result, picture):
            section += ["", f"![open-loop latency, size {result['size']}](results/{picture.name})"]
        report._replace(f"{result['size']} open loop", "\n".join(section))
    report._replace("B6", b6(result_path.parent, quick))
    report._replace("bars", summary_section(result_path.parent, quick))


def _open_loop(result: dict[str, Any]) -> list[dict[str, Any]]:
    writes = [result["writes"]] if result.get("writes") else []
    return [*(result.get("fixed_rate") or []), *writes]


PROFILE_NAMES = {"page": "the page", "{__typename} signed in": "signed-in {__typename}"}


def _ms(value: float | None, lower: float | None = None) -> str:
    if value is not None:
        return f"{value:,.1f}"
    return f"> {lower:,.0f}" if lower is not None else "no reply"


def fixed_rate_table(result: dict[str, Any]) -> str:
    """The page at a fixed rate, open loop: latency from the time each request was due."""
    entries = _open_loop(result)
    if not entries:
        return ""
    lines = [
        "| bench | variant | offered /s | replies /s | p50 ms | p95 ms | p99 ms | no reply"
        " | generator lag p99 ms / CPU | connections | CPU ms per reply: server / PostgreSQL"
        " | load avg |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for found in entries:
        m = found["median"]
        lower = m.get("unanswered_lower_bound_ms")
        lines.append(
            f"| {found['bench']} | {found['variant']} | {_cell(m['offered_per_s'])}"
            f" | {_cell(m['req_per_s'])} | {_ms(m['p50_ms'], lower)} | {_ms(m['p95_ms'], lower)}"
            f" | {_ms(m['p99_ms'], lower)} | {m['errors']} of {m['requests']}"
            f" | {_cell(m['generator_lag_ms']['p99'], 1)} / {_share(m.get('generator_cpu_share'))}"
            f" | {m['connections_opened']}"
            f" | {_cell(m.get('server_cpu_ms_per_request'), 2)} /"
            f" {_cell(m.get('postgres_cpu_ms_per_request'), 2)}"
            f" | {_cell(m.get('load_average_1m'), 2)} |"
        )
    lines += [
        "",
        "Open loop (bench/openloop.py): requests leave on schedule whatever the replies do;"
        ' latency runs from the time a request was due, so queueing counts; "no reply" are'
        " requests without a good reply 10 s after the last was due (they count as slower than"
        ' any reply, so a p95 among them shows as "> the least they waited"). Median run by p95.',
    ]
    sweeps = [f for f in entries if f.get("sweep")]
    if sweeps:
        lines += [
            "",
            "Latency against rate (`--sweep`, one run per rate):",
            "",
            "| variant | offered /s | replies /s | p50 ms | p95 ms | p99 ms | no reply |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for found in sweeps:
            for m in found["sweep"]:
                lower = m.get("unanswered_lower_bound_ms")
                lines.append(
                    f"| {found['variant']} | {_cell(m['offered_per_s'])} | {_cell(m['req_per_s'])}"
                    f" | {_ms(m['p50_ms'], lower)} | {_ms(m['p95_ms'], lower)}"
                    f" | {_ms(m['p99_ms'], lower)} | {m['errors']} of {m['requests']} |"
                )
    if result.get("writes"):
        lines += ["", writes_table(result["writes"])]
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def writes_table(writes: dict[str, Any]) -> str:
    m = writes["median"]
    lines = [
        f"B4 at {writes['rate']:g} mutations/s by staff {', '.join(map(str, writes['actors']))},"
        " each on their own open tasks, each mutation on a different task, with expectedVersion:",
        "",
        "| mutation | count | p50 ms | p95 ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind, found in m["by_kind"].items():
        lines.append(
            f"| {kind} | {found['count']} | {_ms(found['p50_ms'])} | {_ms(found['p95_ms'])} |"
        )
    checks = [writes["warmup_verification"], *(r["verification"] for r in writes["runs"])]
    checks = [c for c in checks if c]
    problems = [p for c in checks for p in c["first_problems"]]
    applied, changes = sum(c["applied"] for c in checks), sum(c["changes"] for c in checks)
    lines += [
        "",
        f"Checked in PostgreSQL after each run (warm-up included): {applied} of {changes}"
        " changes applied exactly once (due date, responsible rows, status and completed_at,"
        " version + 1, one history event by the caseworker), lost"
        f" {sum(c['lost'] for c in checks)}, doubled {sum(c['doubled'] for c in checks)},"
        f" TASK_ASSIGNED notifications {sum(c['task_assigned_notifications'] for c in checks)}"
        " (one for each reassign applied); without a reply by the deadline: applied"
        f" {sum(c.get('applied_without_reply', 0) for c in checks)}, not applied"
        f" {sum(c.get('not_applied_without_reply', 0) for c in checks)}; problems: "
        + ("; ".join(problems[:5]) if problems else "none")
        + ".",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Bar:
    bar: str
    target: str
    measured: str
    met: bool | None  # None: not measured
    margin: str
    profile: str = ""


def _ratio_bar(name: str, value: float | None, target: float, profile: str) -> Bar:
    if value is None:
        return Bar(name, f">= {target:g}x", "-", None, "not measured in this run")
    met = value >= target
    margin = (
        f"{value / target - 1:.0%} over"
        if met
        else f"{1 - value / target:.1%} short: needs {target / value:.2f}x the rate"
    )
    return Bar(name, f">= {target:g}x", f"{value:.4f}x", met, margin, "" if met else profile)


def _latency_bar(name: str, p95: float | None, lower: float | None, profile: str) -> Bar:
    if p95 is None and lower is None:
        return Bar(name, f"p95 < {LIMIT_MS:g} ms", "-", None, "not measured in this run")
    if p95 is None:
        return Bar(
            name,
            f"p95 < {LIMIT_MS:g} ms",
            f"> {lower:,.0f} ms (more than 5% without a reply)",
            False,
            f"over {lower / LIMIT_MS:,.0f}x the limit" if lower else "no replies",
            profile,
        )
    met = p95 < LIMIT_MS
    margin = f"{p95 / LIMIT_MS:.2f} of the limit" if met else f"{p95 / LIMIT_MS:,.1f}x the limit"
    return Bar(
        name, f"p95 < {LIMIT_MS:g} ms", f"{p95:,.1f} ms", met, margin, "" if met else profile
    )


def _profile_link(entry: dict[str, Any] | None, name: str) -> str:
    found = ((entry or {}).get("profiles") or {}).get(name) or {}
    files = found.get("files") or []
    svg = [f for f in files if f.endswith(".svg")]
    text = [f for f in files if f.endswith(".txt")]
    if not svg:
        return ""
    return f"[flame graph](results/{svg[0]})" + (f", [top](results/{text[0]})" if text else "")


def bars(result: dict[str, Any], folder: Path | None = None) -> list[Bar]:
    """Each bar of issue 9 for this result (at L; B6 with the newest S result of the folder)."""
    r = result["ratios"]
    page = next(
        (f for f in result.get("fixed_rate") or [] if f["variant"] == "casetasks Tasks page"),
        None,
    )
    page_profile = _profile_link(page, "page")
    found = [
        _ratio_bar(
            "B2/B3: the page vs PostGraphile as its users run it (default plans)",
            r.get("casetasks / PostGraphile, default plans"),
            1.0,
            page_profile,
        ),
        _ratio_bar(
            "B2/B3: the page as deployed (default plans) vs PostGraphile with custom plans",
            _ratio(
                _rate(result["variants"], "casetasks Tasks page"),
                _rate(result["variants"], "PostGraphile 5 Tasks page (custom plans)"),
            ),
            1.0,
            page_profile,
        ),
        _ratio_bar(
            "B2/B3: the page vs PostGraphile, both with custom plans",
            r.get("casetasks / PostGraphile, custom plans"),
            1.0,
            page_profile,
        ),
        _ratio_bar(
            "B2/B3: the page vs the raw floor at its best plan",
            r.get("casetasks / raw at its best plan, default plans"),
            0.65,
            page_profile,
        ),
    ]
    m = page["median"] if page else {}
    found.append(
        _latency_bar(
            f"the page at {result['settings'].get('rate', 200):g} requests/s (open loop)",
            m.get("p95_ms"),
            m.get("unanswered_lower_bound_ms"),
            page_profile,
        )
    )
    found.append(_scaling_bar(result, folder, page_profile))
    signed = r.get("{__typename} signed in / signed out")
    found.append(
        _ratio_bar(
            "signed-in {__typename} within 2x of signed-out (signed in / signed out)",
            signed,
            0.5,
            _profile_link(page, "{__typename} signed in"),
        )
    )
    writes = result.get("writes")
    w = writes["median"] if writes else {}
    found.append(
        _latency_bar(
            f"B4: postpone/reassign/complete at {result['settings'].get('write_rate', 100):g}/s",
            w.get("p95_ms"),
            w.get("unanswered_lower_bound_ms"),
            _profile_link(writes, "writes"),
        )
    )
    if writes:
        checks = [writes["warmup_verification"], *(x["verification"] for x in writes["runs"])]
        checks = [c for c in checks if c]
        wrong = sum(c["problems"] for c in checks)
        unreached = sum(c.get("not_applied_without_reply", 0) for c in checks)
        found.append(
            Bar(
                "B4: nothing lost, nothing doubled",
                "every change once",
                f"{sum(c['applied'] for c in checks):,} of {sum(c['changes'] for c in checks):,}"
                f" applied once; lost {sum(c['lost'] for c in checks)}, doubled"
                f" {sum(c['doubled'] for c in checks)}, wrong {wrong}"
                + (f"; {unreached:,} not reached by the deadline (no reply)" if unreached else ""),
                wrong == 0,
                "all checked in PostgreSQL" if wrong == 0 else f"{wrong} wrong",
            )
        )
    else:
        found.append(Bar("B4: nothing lost, nothing doubled", "every change once", "-", None, ""))
    found += dashboard_bars(folder)
    return found


def dashboard_bars(folder: Path | None) -> list[Bar]:
    """B5 and B7 from the newest bench/dashboards.py results (one instance, two instances)."""
    found: list[Bar] = []
    for suffix, placeholders in (
        ("dashboards", ("B5: 10,000 dashboards on one instance, every alert delivered once",)),
        ("dashboards-2", ("B7: B5 on two instances behind HAProxy sharing Redis",)),
    ):
        newest = sorted(folder.glob(f"*-{suffix}.json"))[-1:] if folder is not None else []
        # The rows are made again from the figures, so their wording follows bench/dashboards.py.
        rows = dashboards.bars(json.loads(newest[0].read_text())) if newest else None
        if rows:
            link = f"[{newest[0].name}](results/{newest[0].name})"
            found += [Bar(**row, profile=link) for row in rows]
        else:
            found += [
                Bar(name, "all, once", "-", None, "bench/dashboards.py") for name in placeholders
            ]
    return found


def _scaling_bar(
    result: dict[str, Any], folder: Path | None, profile: str, small: dict[str, Any] | None = None
) -> Bar:
    name = "B6: the page at L within 1.5x of S (rate at S / rate at L)"
    at_l = _rate(result["variants"], "casetasks Tasks page")
    other = (Path(small["file"]), small) if small else None
    if other is None and folder is not None and result["size"] == "L":
        quick = result["command"].find("--quick") >= 0
        other = _parts(folder, "S", quick).get("closed")
    at_s = _rate(other[1]["variants"], "casetasks Tasks page") if other else None
    if not at_s or not at_l:
        return Bar(name, "<= 1.5x", "-", None, "needs a result at S and one at L")
    slower = at_s / at_l
    met = slower <= 1.5
    margin = f"S {at_s:,.1f} / L {at_l:,.1f} req/s ({other[0].name if other else ''})"
    return Bar(name, "<= 1.5x", f"{slower:.2f}x", met, margin, "" if met else profile)


def bars_table(result: dict[str, Any], folder: Path | None = None) -> str:
    lines = [
        f"The bars of issue 9 from {result['when']}-{result['size']} ({result['command']}):",
        "",
        "| bar | target | measured | met | by how much | profile |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for b in bars(result, folder):
        met = _verdict(b.met)
        lines.append(f"| {b.bar} | {b.target} | {b.measured} | {met} | {b.margin} | {b.profile} |")
    if result["size"] != "L":
        lines += ["", f"(Measured at {result['size']}: the bars are set at L.)"]
    return "\n".join(lines)


def plot_open(result: dict[str, Any], path: Path) -> bool:
    """A PNG per run: latency per second of each open-loop run and its percentiles."""
    entries = _open_loop(result)
    if not entries:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sweeps = [f for f in entries if f.get("sweep")]
    panels = 3 if sweeps else 2
    figure, axes = plt.subplots(1, panels, figsize=(7 * panels, 6.5))
    left, right = axes[0], axes[1]
    if sweeps:
        _plot_sweep(axes[2], sweeps)
    for found in entries:
        seconds = found["median"]["per_second"]
        label = f"{found['variant']} at {found['rate']:g}/s"
        left.plot(
            [s["second"] for s in seconds],
            [s["p95_ms"] if s["p95_ms"] is not None else float("nan") for s in seconds],
            marker=".",
            label=label,
        )
    left.axhline(LIMIT_MS, color="grey", linestyle="--", label=f"{LIMIT_MS:g} ms")
    left.set_yscale("log")
    left.set_xlabel("second of the run (by due time)")
    left.set_ylabel("p95 latency of the requests due in that second, ms (log)")
    left.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    names = [f"{f['variant']}\nat {f['rate']:g}/s" for f in entries]
    positions = list(range(len(entries)))
    for offset, key, colour in (
        (-0.27, "p50_ms", "#55a868"),
        (0, "p95_ms", "#c44e52"),
        (0.27, "p99_ms", "#8172b2"),
    ):
        values = [
            f["median"][key] or f["median"].get("unanswered_lower_bound_ms") or 0.0 for f in entries
        ]
        right.barh(
            [p + offset for p in positions], values, height=0.27, label=key[:3], color=colour
        )
    right.axvline(LIMIT_MS, color="grey", linestyle="--")
    right.set_xscale("log")
    right.set_yticks(positions, names, fontsize=7)
    right.invert_yaxis()
    right.set_xlabel("latency ms from due time (log; no reply: the least it waited)")
    right.legend()
    figure.suptitle(f"open loop, size {result['size']}, {result['when']}")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return True


def _plot_sweep(axis: Any, sweeps: list[dict[str, Any]]) -> None:
    """p95 against the offered rate (--sweep); a point with no p95 (too many without a reply)
    is drawn at the least those requests waited, hollow."""
    for found in sweeps:
        points = sorted([*found["sweep"], found["median"]], key=lambda m: float(m["offered_per_s"]))
        rates = [m["offered_per_s"] for m in points]
        p95 = [m["p95_ms"] or m.get("unanswered_lower_bound_ms") or float("nan") for m in points]
        line = axis.plot(rates, p95, marker="o", label=found["variant"])[0]
        hollow = [(r, v) for r, v, m in zip(rates, p95, points, strict=True) if not m["p95_ms"]]
        if hollow:
            axis.plot(
                *zip(*hollow, strict=True), "o", markerfacecolor="white", color=line.get_color()
            )
    axis.axhline(LIMIT_MS, color="grey", linestyle="--")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("offered requests/s (log)")
    axis.set_ylabel("p95 ms from due time (log)")
    axis.set_title("latency against rate", fontsize=10)
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13))


def profiles_list(result: dict[str, Any]) -> str:
    lines = []
    for entry in _open_loop(result):
        for name, found in (entry.get("profiles") or {}).items():
            files = ", ".join(f"[{f.split('.', 1)[1]}](results/{f})" for f in found["files"])
            what = PROFILE_NAMES.get(name, "B4 writes")
            lines.append(f"- {what} ({found['samples']} samples): {files or found.get('note')}")
    return "\n".join(lines)


def _parts(folder: Path, size: str, quick: bool) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The newest result of the size holding each part: closed loop, fixed rate, B4 (a sitting
    may measure them in separate runs with --only)."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted(folder.glob(f"*-{size}{'-quick' if quick else ''}.json")):
        if not RESULT_FILE.fullmatch(path.name):
            continue
        result = json.loads(path.read_text())
        for part, key in (("closed", "variants"), ("rate", "fixed_rate"), ("B4", "writes")):
            if result.get(key):
                found[part] = (path, result)
    return found


def summary_section(folder: Path, quick: bool) -> str:
    """The bars from the newest L results (else S), with their plot and profiles."""
    parts = _parts(folder, "L", quick) or _parts(folder, "S", quick)
    if not parts:
        return "(No result yet.)"
    _, base = parts.get("closed") or next(iter(parts.values()))
    result = base | {
        "fixed_rate": parts["rate"][1]["fixed_rate"] if "rate" in parts else [],
        "writes": parts["B4"][1]["writes"] if "B4" in parts else None,
    }
    if "rate" in parts:
        result["settings"] = result["settings"] | {"rate": parts["rate"][1]["settings"]["rate"]}
    if "B4" in parts:
        write_rate = parts["B4"][1]["settings"]["write_rate"]
        result["settings"] = result["settings"] | {"write_rate": write_rate}
    sources = {path.name for path, _ in parts.values()}
    lines = [bars_table(result, folder)]
    if len(sources) > 1:
        lines += ["", "From " + ", ".join(f"[{n}](results/{n})" for n in sorted(sources)) + "."]
    for path in sorted({path for path, _ in parts.values()}):
        picture = path.with_name(path.stem + "-open.png")
        if picture.exists():
            lines += ["", f"![open-loop latency, {path.stem}](results/{picture.name})"]
    found = profiles_list(result)
    if found:
        lines += ["", "Profiles of the casetasks server (py-spy, `--profile`):", "", found]
    return "\n".join(lines)


def scaling_open_loop(
    small: dict[str, Any],
    large: dict[str, Any],
    small_open: dict[str, Any],
    large_open: dict[str, Any],
) -> str:
    """B6's bar, and the pages at the fixed rate at S and at L where both sizes have them."""
    verdict = _scaling_bar(large, None, "", small)
    lines = [
        "",
        "",
        f"Bar: {verdict.bar}: {verdict.measured}, {_verdict(verdict.met)} ({verdict.margin}).",
    ]
    at_s = {f["variant"]: f["median"] for f in small_open.get("fixed_rate") or []}
    at_l = {f["variant"]: f["median"] for f in large_open.get("fixed_rate") or []}
    both = [v for v in at_s if v in at_l]
    if both:
        lines += [
            "",
            "| at a fixed rate | p95 ms at S | p95 ms at L | replies/s at S | replies/s at L |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for v in both:
            s, l_ = at_s[v], at_l[v]
            lines.append(
                f"| {v} at {s['offered_per_s']:g}/s"
                f" | {_ms(s['p95_ms'], s.get('unanswered_lower_bound_ms'))}"
                f" | {_ms(l_['p95_ms'], l_.get('unanswered_lower_bound_ms'))}"
                f" | {_cell(s['req_per_s'])} | {_cell(l_['req_per_s'])} |"
            )
    return "\n".join(lines)


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[met]


def b6(folder: Path, quick: bool) -> str:
    """B6: each page's rate at L over its rate at S, from the newest results of each size."""
    newest = {size: _parts(folder, size, quick).get("closed") for size in ("S", "L")}
    if not newest["S"] or not newest["L"]:
        return "(B6 needs a result at S and one at L, both full or both quick.)"
    (small_path, small), (large_path, large) = newest["S"], newest["L"]
    small, large = small | {"file": small_path.name}, large | {"file": large_path.name}
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
    opened = {size: _parts(folder, size, quick).get("rate") for size in ("S", "L")}
    return "\n".join(lines) + scaling_open_loop(
        small, large, *(found[1] if found else {} for found in (opened["S"], opened["L"]))
    )


def main(argv: list[str]) -> None:
    """`python -m bench.summary RESULT.json ...`: rewrites bench/README.md's sections (the
    size's, B6 and the bars) and the plots from result files, S before L, without measuring."""
    if not argv:
        raise SystemExit(main.__doc__)
    paths = sorted((Path(a) for a in argv), key=lambda p: json.loads(p.read_text())["size"] != "S")
    for path in paths:
        write(json.loads(path.read_text()), path.resolve())
        print(f"README sections rewritten from {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
