"""The Strawberry schema served at /graphql."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from casetasks.request_ids import current_request_id
from schema.admission import Admission
from schema.descriptions import document
from schema.errors import ErrorCodes, is_unexpected
from schema.execution import CasetasksExecutionContext
from schema.mutations import Mutation
from schema.node import BindContext, resolve_attribute
from schema.notifications import Notification
from schema.observed import OperationMetrics, OperationSpan
from schema.people import Client, ServiceProvider, ServiceProviderGroup, Staff
from schema.planned import PlannedReads
from schema.production import hiding_extensions
from schema.query import Query
from schema.scalars import SCALAR_OVERRIDES
from schema.series import TaskSeries
from schema.subscription import Subscription
from schema.tasks import Task

log = logging.getLogger("casetasks.graphql")


class CasetasksSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (not found, forbidden, bad input) are answers, not incidents.
        for error in errors:
            if is_unexpected(error):
                log.error(
                    "unexpected error in %s",
                    error.path,
                    exc_info=error.original_error,
                    extra={"fields": {"request_id": current_request_id()}},
                )


@cache
def build_schema(introspection: bool = True, traced: bool = False) -> strawberry.Schema:
    """Built once per process: the schema is immutable, and the validation cache is keyed by it.
    Without introspection (production mode), suggestions are hidden too."""
    built = CasetasksSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Task,
            Staff,
            Client,
            ServiceProvider,
            ServiceProviderGroup,
            Notification,
            TaskSeries,
        ],
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(default_resolver=resolve_attribute),
        execution_context_class=CasetasksExecutionContext,
        extensions=[
            # First: they time, count and trace everything the others do.
            *([OperationSpan] if traced else []),
            OperationMetrics,
            BindContext,
            ErrorCodes,
            # Factories: a fresh extension per request, sharing module-level LRU caches.
            # Admission parses (cached) within the limits and admits or refuses the request;
            # listed after ErrorCodes so that its codes are set before ErrorCodes sees them.
            Admission,
            # After Admission: a planned query is admitted like any other.
            PlannedReads,
            *hiding_extensions(introspection),
        ],
    )
    document(built._schema)
    return built


__all__: list[Any] = ["build_schema"]
