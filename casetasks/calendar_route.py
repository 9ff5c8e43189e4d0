"""GET /calendar/<secret>.ics: a staff member's open tasks as an iCalendar feed
(services/calendar_feed.py), with an ETag so polling calendars get 304."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from resolvers.context import Services
from services import calendar_feed

MEDIA_TYPE = "text/calendar; charset=utf-8"


def routes(services: Services) -> list[Route]:
    async def calendar(request: Request) -> Response:
        secret = str(request.path_params["secret"])
        async with services.session_factory() as session:
            found = await calendar_feed.feed(session, secret)
        if found is None:
            return Response("Not found\n", 404, media_type="text/plain")
        headers = {
            "ETag": found.etag,
            # Private: a shared cache must not keep someone's tasks.
            "Cache-Control": "private, no-cache",
            "Content-Disposition": 'inline; filename="tasks.ics"',
        }
        wanted = request.headers.get("if-none-match", "")
        if found.etag in [tag.strip() for tag in wanted.split(",")] or wanted.strip() == "*":
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=MEDIA_TYPE, headers=headers)

    return [Route(calendar_feed.PATH + "{secret}.ics", calendar, methods=["GET", "HEAD"])]
