"""The one place that publishes events: after the unit of work has committed."""

from __future__ import annotations

import logging

from services.outbox import Outbox
from subscriptions.hub import AccessChanged, EventHub, HubEvent, NotificationAdded

log = logging.getLogger("casetasks.events")


async def publish_committed(hub: EventHub | None, box: Outbox) -> None:
    """Best effort: the notifications are stored already, and replay delivers what is missed."""
    if hub is None or not box:
        return
    events: list[HubEvent] = [NotificationAdded(r, n) for r, n in box.notifications]
    events += [AccessChanged(s, x) for s, x in box.access_changes]
    try:
        await hub.publish(events)
    except (ConnectionError, TimeoutError) as error:
        log.warning(
            "broker unavailable; %d committed events wait for the catch-up (%r)", len(events), error
        )
    except Exception:
        log.exception("could not publish %d committed events", len(events))
