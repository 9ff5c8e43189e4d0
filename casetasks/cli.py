"""The `casetasks` command: migrate, create-provider, demo, materialize, remind, serve, schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import select
from sqlmodel import col

from casetasks import demo
from casetasks.db import create_engine, create_session_factory, unit_of_work
from casetasks.settings import Settings, get_settings
from casetasks.workers import WorkersRefused
from schema.ids import to_global_id
from services import providers
from services.clock import FixedClock, SystemClock
from services.errors import InvalidInput


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"casetasks: {message} (see casetasks --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="casetasks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    commands.add_parser("migrate", help="bring the database to the latest revision")

    provider = commands.add_parser(
        "create-provider", help="create a service provider with its first administrator"
    )
    provider.add_argument("--name", required=True)
    provider.add_argument("--timezone", required=True, help="IANA name, e.g. Australia/Sydney")
    provider.add_argument("--group", help="the provider group; created when missing")
    provider.add_argument("--admin-name", required=True)
    provider.add_argument("--admin-email", required=True)
    provider.add_argument("--admin-password", required=True)
    provider.add_argument(
        "--group-admin", action="store_true", help="the administrator also administers the group"
    )

    serve = commands.add_parser("serve", help="serve GraphQL over HTTP and websockets")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes on one port (more than 1 needs a shared BROADCAST_URL)",
    )

    commands.add_parser("demo", help="load demo data into an empty database, print the logins")
    commands.add_parser(
        "materialize", help="make the due occurrences of repeating tasks (idempotent)"
    )
    remind = commands.add_parser(
        "remind",
        help="one reminder pass: each provider's reminders for its day once its sendAtHour has "
        "come, and escalations (idempotent)",
    )
    remind.add_argument(
        "--at",
        type=_instant,
        help="run as of this moment, an ISO 8601 time with its offset, "
        "e.g. 2027-03-01T08:05:00+11:00 (default: now)",
    )
    digest = commands.add_parser("digest", help="the e-mail digests")
    digest.add_argument(
        "--preview",
        metavar="EMAIL",
        required=True,
        help="print the digest this staff member would get today (nothing is sent)",
    )
    digest.add_argument("--at", type=_instant, help="as of this moment instead of now")
    commands.add_parser(
        "schema", help="print the served schema as SDL, with descriptions (for code generators)"
    )
    return parser


async def _create_provider(settings: Settings, args: argparse.Namespace) -> dict[str, object]:
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            created = await providers.create_provider(
                session,
                SystemClock(),
                name=args.name,
                timezone=args.timezone,
                group_name=args.group,
                admin_name=args.admin_name,
                admin_email=args.admin_email,
                admin_password=args.admin_password,
                group_admin=args.group_admin,
            )
    finally:
        await engine.dispose()
    admin = created.administrator
    return {
        "provider": {
            "id": to_global_id("ServiceProvider", created.provider.id or 0),
            "name": created.provider.name,
            "timezone": created.provider.timezone,
        },
        "group": (
            {
                "id": to_global_id("ServiceProviderGroup", created.group.id or 0),
                "name": created.group.name,
            }
            if created.group
            else None
        ),
        "administrator": {
            "id": to_global_id("Staff", admin.id or 0),
            "name": admin.name,
            "email": admin.email,
            "isGroupAdministrator": admin.is_group_administrator,
        },
    }


async def _preview(settings: Settings, email: str, at: datetime | None) -> str:
    from models import ServiceProvider, Staff
    from services.auth import normalise_email
    from services.digests import compose

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            staff = await session.scalar(
                select(Staff).where(col(Staff.email) == normalise_email(email))
            )
            if staff is None:
                raise LookupError(f"no staff member signs in as {email}")
            provider = await session.get(ServiceProvider, staff.provider_id)
            assert provider is not None
            now = at or SystemClock().now()
            digest = await compose(session, staff, provider, now)
    finally:
        await engine.dispose()
    if digest is None:
        return f"{staff.name} would get no digest today: nothing due, overdue or newly assigned."
    note = "" if staff.email_digest else "(The digest is off in their preferences.)\n"
    return f"{note}To: {staff.email}\nSubject: {digest.subject}\n\n{digest.text}"


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs its UTC offset, e.g. +11:00 or Z")
    return moment


async def _scheduled(settings: Settings, job: str, at: datetime | None = None) -> Any:
    """One pass of a scheduler job, publishing through the shared broadcast backend when
    there is one."""
    from casetasks.app import build_services
    from casetasks.scheduler import materialize_due, remind_due, send_digests

    services, engine = build_services(settings, FixedClock(at) if at else SystemClock())
    shared = not settings.broadcast_backend_url.startswith("memory://")
    hub = services.hub if shared else None
    services.hub = hub
    try:
        if hub is not None:
            await hub.start()
        if job == "materialize":
            return await materialize_due(services)
        sent = await remind_due(services, every_day_pass=True)
        await send_digests(services)
        return sent
    finally:
        if hub is not None:
            await hub.stop()
        await engine.dispose()


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    """Graceful on SIGTERM: websockets closed with 1001, in-flight requests finished within
    SHUTDOWN_TIMEOUT_SECONDS, then a clean exit (see casetasks/shutdown.py); with --workers,
    in every worker (casetasks/workers.py)."""
    from casetasks import workers
    from casetasks.trusted_documents import check_trusted_documents

    host, port = args.host or settings.host, args.port or settings.port
    workers.check(settings, args.workers)
    check_trusted_documents(settings)
    if args.workers == 1:
        workers.server(settings, host, port).run()
    else:
        workers.run(settings, host, port, args.workers)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":  # needs no settings, database or secret
        import schema

        print(schema.build_schema().as_str())
        return 0
    try:
        settings = get_settings()
        if args.command == "migrate":
            from casetasks.migrate import upgrade

            upgrade(settings.database_url)
            print("database is at the latest revision")
        elif args.command == "create-provider":
            print(json.dumps(asyncio.run(_create_provider(settings, args)), indent=2))
        elif args.command == "materialize":
            print(f"made {asyncio.run(_scheduled(settings, 'materialize'))} occurrences")
        elif args.command == "remind":
            sent = asyncio.run(_scheduled(settings, "remind", args.at))
            print(
                f"sent {sent.due_soon} DUE_SOON, {sent.overdue} OVERDUE and "
                f"{sent.escalations} UNASSIGNED_ESCALATION reminders; "
                f"{sent.digests} e-mail digests to send"
            )
        elif args.command == "digest":
            print(asyncio.run(_preview(settings, args.preview, args.at)), end="")
        elif args.command == "demo":
            print(asyncio.run(demo.load(settings)))
        elif args.command == "serve":
            _serve(settings, args)
    except WorkersRefused as refused:
        print(f"casetasks: {refused}", file=sys.stderr)
        return 2
    except InvalidInput as invalid:
        reasons = [
            f"{problem.field[-1]}: {problem.message}" if problem.field else problem.message
            for problem in invalid.problems
        ]
        print("casetasks: " + "; ".join(reasons), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        print(f"casetasks: {type(error).__name__}: {_first_line(error)}", file=sys.stderr)
        return 1
    return 0


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else "failed"


if __name__ == "__main__":
    sys.exit(main())
