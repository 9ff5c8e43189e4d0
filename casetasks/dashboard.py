"""/dashboard: the reference frontend (plain HTML and ES modules in casetasks/static/dashboard/).

Sign in, the first page of the Tasks screen and the Dashboard Notifications Widget, kept live
over graphql-transport-ws with the graphql-ws client (vendored under vendor/, pinned by
version). Nothing inline, so the page's policy allows scripts and styles from this origin only.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from casetasks.http_guard import page_policy

FILES = Path(__file__).resolve().parent / "static" / "dashboard"
POLICY = page_policy()


class DashboardFiles(StaticFiles):
    """The page's scripts and styles, under the same policy as the page."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Content-Security-Policy"] = POLICY
        return response


async def page(_request: Request) -> Response:
    return FileResponse(FILES / "index.html", headers={"Content-Security-Policy": POLICY})


def routes() -> list[Route | Mount]:
    return [
        Route("/dashboard", page),
        Mount("/dashboard/static", DashboardFiles(directory=FILES), name="dashboard"),
    ]
