"""The executor graphql-core runs operations with: Strawberry's, less a leak in subscriptions.

graphql-core 3.3 executes each subscription event on a shallow copy of the subscription's
executor (`build_per_event_executor`), so every event's copy writes into the one memo of
collected subfields the subscription holds. The memo is keyed by the identity of each event's
own field lists and keeps those lists alive, so it never serves a later event: it only grows, by
every object selection of every event, for as long as the dashboard stays subscribed. With
10,000 dashboards that was millions of objects for the collector to walk (bench/README.md, B5).
Each event's executor gets its own memo, which still serves lists of objects within the event.
"""

from __future__ import annotations

from typing import Any

from graphql.pyutils.ref_map import RefMap
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class CasetasksExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> CasetasksExecutionContext:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        executor._stream_usages = RefMap()
        return executor  # type: ignore[return-value]
