"""GraphiQL without a CDN: strawberry's page, served with its assets from a local copy when fetched.

Strawberry's GraphiQL page loads React, GraphiQL (which bundles graphql-ws, so subscriptions run
over graphql-transport-ws) and the explorer plugin from unpkg. `python -m casetasks.graphiql`
fetches exactly the files the page names, at the versions it pins, from the npm registry
(`npm pack`), checks each against the page's own integrity hash and keeps them under
casetasks/static/graphiql/ (git-ignored), laid out as on the CDN. When every one is there, the page
is served with those URLs pointing at ASSETS_ROUTE instead; otherwise it is left as strawberry
wrote it, and a browser with internet loads the CDN.

GraphiQL sends the headers editor's JSON as the websocket's connection_init payload, so
{"Authorization": "Bearer <token>"} there authenticates subscriptions as it does queries.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_ROUTE = "/graphiql-assets"
CDN = "https://unpkg.com/"

_ASSET = re.compile(
    r'(?P<attribute>src|href)="https://unpkg\.com/(?P<path>[^"]+)"'
    r'(?:\s+integrity="(?P<integrity>[^"]*)")?'
)


@dataclass(frozen=True)
class Asset:
    path: str  # as under the CDN: "react@18.2.0/umd/react.production.min.js"
    integrity: str | None  # the page's subresource integrity, "sha384-…"

    @property
    def package(self) -> str:
        """The npm spec: "react@18.2.0", "@graphiql/plugin-explorer@1.0.2"."""
        parts = self.path.split("/")
        return "/".join(parts[: 2 if parts[0].startswith("@") else 1])

    @property
    def file(self) -> str:
        """The file's path inside the package's tarball, under package/."""
        return self.path[len(self.package) + 1 :]

    def matches(self, data: bytes) -> bool:
        if not self.integrity:
            return True
        for token in self.integrity.split():
            algorithm, _, expected = token.partition("-")
            if algorithm in ("sha256", "sha384", "sha512"):
                digest = hashlib.new(algorithm, data).digest()
                if base64.b64encode(digest).decode() == expected.split("?")[0]:
                    return True
        return False


def assets(page: str) -> list[Asset]:
    """The CDN files a page loads."""
    found = {m["path"]: Asset(m["path"], m["integrity"]) for m in _ASSET.finditer(page)}
    return list(found.values())


def present(page: str, directory: Path = ASSETS_DIR) -> bool:
    wanted = assets(page)
    return bool(wanted) and all((directory / asset.path).is_file() for asset in wanted)


def local_page(page: str, prefix: str = ASSETS_ROUTE, directory: Path = ASSETS_DIR) -> str:
    """The page loading its assets from `prefix` when all are in `directory`, else unchanged."""
    if not present(page, directory):
        return page
    base = prefix.rstrip("/") + "/"
    return _ASSET.sub(lambda m: m[0].replace(CDN, base, 1), page)


class AssetFiles(StaticFiles):
    """The fetched files; a 404, not an error, while the folder does not exist."""

    def __init__(self, directory: Path = ASSETS_DIR) -> None:
        super().__init__(directory=directory, check_dir=False)

    async def check_config(self) -> None:
        with contextlib.suppress(RuntimeError):  # no folder yet: each file is a 404
            await super().check_config()


def fetch(directory: Path = ASSETS_DIR, page: str | None = None, npm: str = "npm") -> list[Asset]:
    """Fetch the page's assets that are missing or altered; returns those written."""
    wanted = assets(page if page is not None else get_graphql_ide_html("graphiql"))
    missing = [a for a in wanted if not _intact(directory / a.path, a)]
    if not missing:
        return []
    if shutil.which(npm) is None:
        raise RuntimeError(f"{npm} is not installed: it fetches GraphiQL's files from the registry")
    with tempfile.TemporaryDirectory(prefix="graphiql-") as tmp:
        specs = sorted({a.package for a in missing})
        packed = subprocess.run(
            [npm, "pack", "--json", "--silent", "--pack-destination", tmp, *specs],
            check=True,
            capture_output=True,
            text=True,
        )
        tarballs = {
            f"{entry['name']}@{entry['version']}": Path(tmp) / entry["filename"]
            for entry in json.loads(packed.stdout)
        }
        for asset in missing:
            with tarfile.open(tarballs[asset.package]) as tar:
                member = tar.extractfile(f"package/{asset.file}")
                if member is None:
                    raise RuntimeError(f"{asset.package} has no file {asset.file}")
                data = member.read()
            if not asset.matches(data):
                raise RuntimeError(f"{asset.path} does not match the page's integrity hash")
            target = directory / asset.path
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(data)
            os.replace(partial, target)
    return missing


def _intact(path: Path, asset: Asset) -> bool:
    return path.is_file() and asset.matches(path.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m casetasks.graphiql",
        description="Fetch GraphiQL's files from the npm registry so /graphql works offline.",
    )
    parser.add_argument("--dir", type=Path, default=ASSETS_DIR, help="where to keep them")
    args = parser.parse_args(argv)
    try:
        written = fetch(args.dir)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", None) or ""
        print(f"graphiql: {error} {detail}".strip(), file=sys.stderr)
        return 1
    total = len(assets(get_graphql_ide_html("graphiql")))
    if written:
        print(f"graphiql: fetched {len(written)} of {total} files into {args.dir}")
    else:
        print(f"graphiql: all {total} files present in {args.dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
