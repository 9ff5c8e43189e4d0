"""GraphiQL that works offline: Strawberry's page with its files shipped as package data.

Strawberry's GraphiQL page loads React, GraphiQL (which bundles graphql-ws, so subscriptions run
over graphql-transport-ws), js-cookie and the explorer plugin from unpkg, each pinned by version
and subresource integrity. Those files are vendored under casetasks/static/graphiql/ (laid out
as on the CDN, listed with their integrity in manifest.json) and installed with the package, so
the page served here points at ASSETS_ROUTE and never at the CDN.

The page opens with the README tour's first step (signing in) instead of Strawberry's welcome
text, and is served with a Content-Security-Policy that allows its own inline script by hash,
the vendored files and connections to this server only.

`python -m casetasks.graphiql` is the maintainer's tool: after a Strawberry upgrade changes the
versions its page pins, it fetches exactly those files from the npm registry (`npm pack`),
checks each against the page's integrity hash, and rewrites the folder and its manifest.

GraphiQL sends the headers editor's JSON as the websocket's connection_init payload, so
{"Authorization": "Bearer <token>"} there authenticates subscriptions as it does queries.
"""

from __future__ import annotations

import argparse
import base64
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
from functools import cache
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

from casetasks.http_guard import page_policy

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
MANIFEST = "manifest.json"
ASSETS_ROUTE = "/graphiql-assets"
CDN = "https://unpkg.com/"

_ASSET = re.compile(
    r'(?P<attribute>src|href)="https://unpkg\.com/(?P<path>[^"]+)"'
    r'(?:\s+integrity="(?P<integrity>[^"]*)")?'
)
_INLINE_SCRIPT = re.compile(r"<script>(?P<body>.*?)</script>", re.DOTALL)
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)

# The README's tour, first step. Demo logins only: `make run` loads them into an empty database.
TOUR = """\
# Welcome to casetasks' GraphQL API.
#
# 1. Sign in: run this mutation (the play button, or Ctrl-Enter). With the demo data that
#    `make run` loads, the logins are ana@northside.example (administrator),
#    ben@northside.example, chloe@northside.example, dev@harbour.example (administrator)
#    and emma@harbour.example, all with the password demo-password.
# 2. Copy the token from the result into the Headers pane below, as
#    {"Authorization": "Bearer <token>"}
#    Queries, mutations and subscriptions then run as that person.
# 3. Then try a query in its place, e.g.
#    { tasks(first: 10) { totalCount edges { node { name dueDate } } } }
#    The Docs pane (top left) describes every type and field.

mutation SignIn {
  login(email: "ana@northside.example", password: "demo-password") {
    token
    errors { field code message }
    viewer { ... on Staff { id name } }
  }
}
"""


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


@dataclass(frozen=True)
class Page:
    html: str
    content_security_policy: str


def assets(page: str) -> list[Asset]:
    """The CDN files a page loads."""
    found = {m["path"]: Asset(m["path"], m["integrity"]) for m in _ASSET.finditer(page)}
    return list(found.values())


def missing(page: str, directory: Path = ASSETS_DIR) -> list[Asset]:
    """The page's files that are not in the folder as the page's integrity expects them."""
    return [asset for asset in assets(page) if not _intact(directory / asset.path, asset)]


def _source_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def content_security_policy(html: str) -> str:
    """Its vendored files and its inline script, by hash. Styles stay 'unsafe-inline': GraphiQL
    and CodeMirror set them at run time, and a style cannot run code; fonts come as data:."""
    hashes = [_source_hash(m["body"]) for m in _INLINE_SCRIPT.finditer(html)]
    return page_policy(hashes, inline_styles=True, data_fonts=True)


def local_page(page: str, prefix: str = ASSETS_ROUTE) -> Page:
    """Strawberry's page with its files at `prefix` and the tour in the editor."""
    base = prefix.rstrip("/") + "/"
    html = _ASSET.sub(lambda m: m[0].replace(CDN, base, 1), page)
    tour = "const EXAMPLE_QUERY = " + json.dumps(TOUR) + ";"
    html, replaced = _EXAMPLE_QUERY.subn(lambda _m: tour, html)
    if replaced != 1:
        raise RuntimeError("Strawberry's GraphiQL page has no EXAMPLE_QUERY to replace")
    return Page(html, content_security_policy(html))


@cache
def served_page(page: str, prefix: str) -> Page:
    """The page as served: built once per process (and per root path)."""
    return local_page(page, prefix)


def fetch(directory: Path = ASSETS_DIR, page: str | None = None, npm: str = "npm") -> list[Asset]:
    """Fetch the page's files that are missing or altered, and write the manifest; returns
    those written."""
    page = page if page is not None else get_graphql_ide_html("graphiql")
    wanted = missing(page, directory)
    if wanted:
        if shutil.which(npm) is None:
            raise RuntimeError(f"{npm} is not installed: it fetches GraphiQL's files")
        _fetch_from_registry(wanted, directory, npm)
    write_manifest(page, directory)
    return wanted


def _fetch_from_registry(wanted: list[Asset], directory: Path, npm: str) -> None:
    with tempfile.TemporaryDirectory(prefix="graphiql-") as tmp:
        specs = sorted({a.package for a in wanted})
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
        for asset in wanted:
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


def write_manifest(page: str, directory: Path = ASSETS_DIR) -> None:
    """What is vendored, for readers and for the packaging test: package, file, integrity."""
    entries = [
        {"package": a.package, "file": a.file, "path": a.path, "integrity": a.integrity}
        for a in assets(page)
    ]
    (directory / MANIFEST).write_text(json.dumps({"assets": entries}, indent=2) + "\n")


def manifest(directory: Path = ASSETS_DIR) -> list[Asset]:
    data = json.loads((directory / MANIFEST).read_text())
    return [Asset(entry["path"], entry["integrity"]) for entry in data["assets"]]


def _intact(path: Path, asset: Asset) -> bool:
    return path.is_file() and asset.matches(path.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m casetasks.graphiql",
        description="Refresh the vendored GraphiQL files to the versions Strawberry's page pins.",
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
    print(f"graphiql: {len(written)} of {total} files fetched; all present in {args.dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
