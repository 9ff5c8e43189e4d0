"""/dashboard and its files: served with their media types and the page's policy, which allows
nothing inline and nothing from another origin; the vendored graphql-ws ships with the package."""

from __future__ import annotations

import re

import pytest

from casetasks.dashboard import FILES
from tests.conftest import Env

FILES_SERVED = {
    "/dashboard": "text/html",
    "/dashboard/static/dashboard.js": "text/javascript",
    "/dashboard/static/graphql.js": "text/javascript",
    "/dashboard/static/dashboard.css": "text/css",
    "/dashboard/static/vendor/graphql-ws@6.4.2/client.js": "text/javascript",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_page_and_its_files_are_served_under_the_policy(env: Env) -> None:
    for path, media_type in FILES_SERVED.items():
        response = await env.api.http.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(media_type), path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "default-src 'none'" in policy, path
        assert "unsafe" not in policy
    assert (await env.api.http.get("/dashboard/static/nothing.js")).status_code == 404


def test_the_page_has_nothing_inline_and_labels_its_sign_in_form() -> None:
    html = (FILES / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    for field in ("email", "password"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert '<button type="submit">Sign in</button>' in html


def test_every_module_the_page_imports_is_there() -> None:
    for script in FILES.rglob("*.js"):
        for imported in re.findall(r'from\s+"(\.[^"]+)"|from\s+\'(\.[^\']+)\'', script.read_text()):
            path = next(p for p in imported if p)
            assert (script.parent / path).resolve().is_file(), f"{script.name} imports {path}"
    assert (FILES / "vendor" / "graphql-ws@6.4.2" / "LICENSE.md").is_file()
