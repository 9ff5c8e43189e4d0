"""GraphiQL's files ship with the package, as Strawberry's page pins them, and the page served
uses only them: no CDN, the tour in the editor, a policy allowing its inline script by hash."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from strawberry.http.ides import get_graphql_ide_html

from casetasks import graphiql
from tests.conftest import Env

ROOT = Path(__file__).resolve().parents[1]
STRAWBERRY_PAGE = get_graphql_ide_html("graphiql")


def test_every_file_the_page_names_is_vendored_intact() -> None:
    pinned = graphiql.assets(STRAWBERRY_PAGE)
    names = {asset.package.rsplit("@", 1)[0] for asset in pinned}
    assert {"graphiql", "react", "react-dom", "@graphiql/plugin-explorer"} <= names
    # After a Strawberry upgrade this fails until `python -m casetasks.graphiql` is run.
    assert graphiql.manifest() == pinned
    assert graphiql.missing(STRAWBERRY_PAGE) == []


def test_a_changed_file_is_caught(tmp_path: Path) -> None:
    asset = graphiql.assets(STRAWBERRY_PAGE)[0]
    copy = tmp_path / asset.path
    copy.parent.mkdir(parents=True)
    copy.write_bytes((graphiql.ASSETS_DIR / asset.path).read_bytes() + b"\n// altered")
    assert asset in graphiql.missing(STRAWBERRY_PAGE, tmp_path)


def test_the_page_uses_the_vendored_files_and_opens_with_the_tour() -> None:
    page = graphiql.local_page(STRAWBERRY_PAGE, "/base/graphiql-assets")
    assert "unpkg.com" not in page.html
    for asset in graphiql.assets(STRAWBERRY_PAGE):
        assert f'"/base/graphiql-assets/{asset.path}"' in page.html
    assert "Welcome to GraphiQL" not in page.html
    assert 'login(email: \\"ana@northside.example\\"' in page.html
    assert "Headers pane" in page.html


def test_the_policy_allows_the_inline_script_by_hash_and_nothing_from_elsewhere() -> None:
    page = graphiql.local_page(STRAWBERRY_PAGE)
    directives = dict(d.strip().split(" ", 1) for d in page.content_security_policy.split(";"))
    assert directives["default-src"] == "'none'"
    hashes = re.findall(r"'sha256-[^']+'", directives["script-src"])
    inline = re.findall(r"<script>(.*?)</script>", page.html, re.DOTALL)
    assert len(hashes) == len(inline) == 1
    assert graphiql._source_hash(inline[0]) == hashes[0]
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in directives["script-src"]
    assert directives["connect-src"] == "'self'"
    assert "http" not in page.content_security_policy


def test_a_built_wheel_carries_the_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--wheel-dir", str(tmp_path), str(ROOT)),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("casetasks-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in graphiql.manifest():
        assert f"casetasks/static/graphiql/{asset.path}" in names
    assert "casetasks/static/graphiql/manifest.json" in names


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_graphiql_and_its_files_are_served(env: Env) -> None:
    live_http = env.api.http
    response = await live_http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "unpkg.com" not in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    for asset in graphiql.assets(STRAWBERRY_PAGE):
        served = await live_http.get(f"/graphiql-assets/{asset.path}")
        assert served.status_code == 200, asset.path
        assert asset.matches(served.content), asset.path
    assert (await live_http.get("/graphiql-assets/nothing-here.js")).status_code == 404
