"""`--profile`: py-spy samples the casetasks server during a run, for the bars it misses.

py-spy (`pip install -r bench/requirements.txt`) attaches to the server's process without
stopping it (`--nonblocking`, 100 Hz, idle threads left out), itself pinned to the load core, and
writes collapsed stacks. From them come, in bench/results/:
- `<stem>.speedscope.json`: open in https://www.speedscope.app (left heavy, sandwich);
- `<stem>.svg`: a flame graph (hover a frame for its share);
- `<stem>.txt`: the top functions by own time and by time inside, and own time by package
  (SQLAlchemy, asyncpg, graphql-core, Strawberry, the event loop, ours...).
Time inside C extensions (asyncpg's protocol, uvloop, the json encoder) shows as the Python
frame that called them: `PreparedStatement.__do_execute` is asyncpg's Cython protocol at work.
"""

from __future__ import annotations

import asyncio
import html
import json
import shutil
import signal
import sys
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import LOAD_CORE, pinning

RATE_HZ = 100
TOP = 25
OURS = ("casetasks", "services", "resolvers", "schema", "models", "subscriptions", "bench")
PACKAGES = {
    "sqlalchemy": "SQLAlchemy",
    "sqlmodel": "SQLModel",
    "asyncpg": "asyncpg",
    "graphql": "graphql-core",
    "strawberry": "Strawberry",
    "starlette": "Starlette",
    "uvicorn": "uvicorn",
    "uvloop": "event loop",
    "asyncio": "event loop",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "jwt": "PyJWT",
    "orjson": "orjson",
}


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


@dataclass
class Recording:
    stem: Path
    files: list[str] = field(default_factory=list)
    samples: int = 0
    note: str | None = None


@asynccontextmanager
async def recording(pid: int, stem: Path) -> AsyncIterator[Recording]:
    """Samples `pid` (and its children) while the block runs; the files appear after it."""
    found = Recording(stem)
    tool = py_spy()
    if tool is None:
        found.note = "py-spy is not installed (pip install -r bench/requirements.txt)"
        yield found
        return
    raw = stem.with_suffix(".collapsed.txt")
    command = [tool, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--nonblocking"]
    command += ["--subprocesses", "--full-filenames", "--format", "raw", "--output", str(raw)]
    process = await asyncio.create_subprocess_exec(
        *pinning(LOAD_CORE),
        *command,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield found
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        _, err = await process.communicate()
    if not raw.exists():
        found.note = f"py-spy wrote nothing: {err.decode()[-300:]}"
        return
    try:
        stacks = read_collapsed(raw.read_text())
        found.samples = sum(stacks.values())
        stem.with_suffix(".speedscope.json").write_text(json.dumps(speedscope(stacks, stem.name)))
        stem.with_suffix(".svg").write_text(flamegraph(stacks, stem.name))
        stem.with_suffix(".txt").write_text(summary(stacks, stem.name))
    except (ValueError, IndexError, OSError) as error:  # a profile never stops the bench
        found.note = f"the profile could not be read ({error!r}); raw stacks kept in {raw.name}"
        return
    found.files = [stem.name + suffix for suffix in (".svg", ".speedscope.json", ".txt")]
    raw.unlink()


def read_collapsed(text: str) -> Counter[tuple[str, ...]]:
    """py-spy's raw format: `frame;frame;...;leaf count` per line, frames `name (file:line)`."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = stack.split(";")
            if frames[0].startswith("process "):  # --subprocesses names the process first
                frames = frames[1:] or ["(no Python frame)"]
            stacks[tuple(frames)] += int(count)
    return stacks


def _file(frame: str) -> str:
    return frame.rpartition(" (")[2].rstrip(")").rsplit(":", 1)[0]


def short(frame: str) -> str:
    """`name (package/module.py:line)`: the path from the package on, not the virtualenv's."""
    if " (" not in frame:
        return frame
    name, _, where = frame.rpartition(" (")
    path = where.rstrip(")")
    for marker in ("site-packages/", "/lib/python3.", "/wt/", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker in ("/lib/python3.", "/wt/"):
                path = path.split("/", 1)[1] if "/" in path else path
    return f"{name} ({path})"


def package(frame: str) -> str:
    path = _file(frame)
    if "site-packages/" in path:
        top = path.split("site-packages/", 1)[1].split("/", 1)[0]
        return PACKAGES.get(top, top)
    parts = Path(path).parts
    for part in parts:
        if part in OURS:
            return "ours (" + part + ")"
    if "asyncio" in parts:
        return "event loop"
    if "/lib/python3." in path:
        return "standard library"
    return "other"


def _table(counts: Counter[str], total: int) -> list[str]:
    return [
        f"{count / total:6.1%} {count:7d}  {name}"
        for name, count in counts.most_common(TOP)
        if count
    ]


def summary(stacks: Counter[tuple[str, ...]], title: str) -> str:
    total = sum(stacks.values()) or 1
    own: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for stack, count in stacks.items():
        own[short(stack[-1])] += count
        packages[package(stack[-1])] += count
        for frame in {short(f) for f in stack}:
            inside[frame] += count
    lines = [f"{title}: {total} samples at {RATE_HZ} Hz (idle left out)", ""]
    lines += ["own time by package", *_table(packages, total), ""]
    lines += [f"top {TOP} functions by own time", *_table(own, total), ""]
    lines += [f"top {TOP} functions by time inside", *_table(inside, total)]
    return "\n".join(lines) + "\n"


def speedscope(stacks: Counter[tuple[str, ...]], title: str) -> dict[str, object]:
    frames: dict[str, int] = {}
    samples, weights = [], []
    for stack, count in stacks.items():
        samples.append([frames.setdefault(short(f), len(frames)) for f in stack])
        weights.append(count)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "name": title,
        "exporter": "bench.profiling",
        "shared": {"frames": [{"name": name} for name in frames]},
        "profiles": [
            {
                "type": "sampled",
                "name": title,
                "unit": "none",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
    }


@dataclass
class _Node:
    count: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def flamegraph(stacks: Counter[tuple[str, ...]], title: str, width: int = 1400) -> str:
    """A plain SVG flame graph: the root at the bottom, each frame as wide as its samples."""
    root = _Node()
    for stack, count in stacks.items():
        root.count += count
        node = root
        for frame in stack:
            node = node.children.setdefault(short(frame), _Node())
            node.count += count

    def depth(node: _Node) -> int:
        return 1 + max((depth(c) for c in node.children.values()), default=0)

    row, levels = 17, depth(root)
    height = row * levels + 30
    total = root.count or 1
    boxes: list[str] = []

    def draw(name: str, node: _Node, x: float, level: int) -> None:
        w = node.count / total * width
        if w < 1.0:  # narrower than a pixel: in the .txt and the speedscope file
            return
        y = height - (level + 1) * row
        hue = 10 + zlib.crc32(package_of_short(name).encode()) % 50
        label = html.escape(name)
        text = html.escape(name[: int(w / 7)]) if w > 30 else ""
        boxes.append(
            f"<g><title>{label} ({node.count} samples, {node.count / total:.1%})</title>"
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}"'
            f' fill="hsl({hue},80%,60%)"/>'
            f'<text x="{x + 3:.1f}" y="{y + 12}">{text}</text></g>'
        )
        for child_name, child in sorted(node.children.items()):
            draw(child_name, child, x, level + 1)
            x += child.count / total * width

    draw("all", root, 0.0, 0)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="monospace" font-size="11">'
        f'<text x="4" y="16" font-size="14">{html.escape(title)}: {root.count} samples</text>'
        + "".join(boxes)
        + "</svg>\n"
    )


def package_of_short(name: str) -> str:
    return name.rpartition(" (")[2].split("/", 1)[0]
