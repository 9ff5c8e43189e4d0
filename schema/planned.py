"""Planned reads: a query the read planner covers is answered from one SQL statement.

Runs after Admission (limits, token, rate budget), so a planned query is admitted exactly like
any other; it only replaces field-by-field execution. In "check" mode the query also runs field
by field and any difference fails it (logged with both answers).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    SelectionSetNode,
    Visitor,
    execute,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from casetasks.db import database_unavailable
from resolvers import planner
from resolvers.context import Context
from schema.admission import looked_up, masked_failure
from schema.ids import from_global_id
from services.recent import Recent

log = logging.getLogger("casetasks.planner")

# How queries were answered in this process: "planned", "declined: <why>", "not found".
OUTCOMES: Counter[str] = Counter()


# The alias under which a rewritten mutation asks for its payload task's id.
PLANNED_ID = "ctPlannedId"


def _asking_for_ids(document: DocumentNode, payloads: list[planner.PayloadTask]) -> DocumentNode:
    """The document with each payload's `task { ... }` reduced to the task's id."""
    targets = {id(detail.node) for payload in payloads for detail in payload.fields}
    only_id = SelectionSetNode(
        selections=(FieldNode(alias=NameNode(value=PLANNED_ID), name=NameNode(value="id")),)
    )

    class Rewrite(Visitor):
        def enter_field(self, node: FieldNode, *_args: Any) -> FieldNode | None:
            if id(node) not in targets:
                return None
            return FieldNode(
                alias=node.alias,
                name=node.name,
                arguments=node.arguments,
                directives=node.directives,
                selection_set=only_id,
            )

    rewritten: DocumentNode = visit(document, Rewrite())
    return rewritten


def _differs(planned: Any, answered: Any) -> bool:
    """A payload read after the commit differs from the one answered field by field, unless
    another change committed in between (a newer version: a race the suite runs on purpose)."""
    if (
        isinstance(planned, dict)
        and isinstance(answered, dict)
        and planned.get("version", 0) != answered.get("version", 0)
    ):
        return False
    return json.dumps(planned) != json.dumps(answered)


@dataclass(frozen=True)
class PreparedPayloads:
    """A mutation's payload tasks for one shape of call (planner.payload_shape): where each
    sits in the answer, the document asking the mutation for their ids only, and the plans
    reading them, by which of them came back (all, usually)."""

    asked: planner.Asked  # as the first call of the shape asked it
    payloads: tuple[planner.PayloadTask, ...]
    asking_for_ids: DocumentNode
    plans: dict[tuple[int, ...], planner.Plan] = field(default_factory=dict)

    def plan_for(self, wanted: tuple[int, ...]) -> planner.Plan:
        """The statement reading these of the payloads' tasks (by index), made once."""
        found = self.plans.get(wanted)
        if found is None:
            chosen = [self.payloads[index] for index in wanted]
            found = self.plans[wanted] = planner.plan_tasks(self.asked, chosen)
        return found


_PREPARED: Recent[tuple[Any, ...], PreparedPayloads] = Recent(1024)


class PlannedJson:
    """A planned answer's data as the database wrote it, sent on as it is: parsing it into
    Python objects only for the response encoder to write them out again cost more server
    time than anything else of ours on the Tasks page. The encoder (casetasks.app) takes it
    through `as_fragment`; check mode, and a query whose root fields must be looked at,
    parse it as before."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def as_fragment(self) -> orjson.Fragment:
        return orjson.Fragment(self.text)

    def parsed(self) -> Any:
        return orjson.loads(self.text)


class PlannerMismatch(Exception):
    """The planned answer differs from the field-by-field one (check mode)."""


class PlannedReads(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            context = self.execution_context.context
            if isinstance(context, Context):
                await context.release()

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context):
            yield
            return
        planning = context.services.planner != "off"
        if planning and execution.operation_type is OperationType.MUTATION:
            async for _ in self._mutation(context):
                yield
            return
        if not planning or execution.operation_type is not OperationType.QUERY:
            await self._field_by_field(context)
            yield
            return
        try:
            data = await self._planned(context)
        except Exception as error:
            if database_unavailable(error):
                raise masked_failure(context, error, "a planned query failed") from None
            # Whatever went wrong, the field-by-field path answers (and reports its own errors).
            log.warning("a planned query failed; answering field by field", exc_info=True)
            OUTCOMES["failed"] += 1
            data = None
        if isinstance(data, dict) and context.services.planner == "check":
            try:
                await self._compare(context, data)
            except Exception as error:
                raise masked_failure(context, error, "a planned query differs") from None
        if data is not None:
            # PlannedJson stands for the data until the response is encoded (casetasks.app).
            execution.result = GraphQLExecutionResult(data=data, errors=None)  # type: ignore[arg-type]
        else:
            await self._field_by_field(context)
        yield

    @staticmethod
    async def _field_by_field(context: Context) -> None:
        """Before resolvers run: the viewer looked up if it is still provisional (they rely on
        it), then the request's connection back to the pool (the loaders open their own)."""
        await looked_up(context, context.verify())
        await context.release()

    async def _mutation(self, context: Context) -> AsyncIterator[None]:
        """The mutation runs field by field; its payloads' `task { ... }` are read afterwards,
        committed, through the planner: the document asks the mutation for the task's id only.
        In check mode the payload is answered field by field and compared instead."""
        execution = self.execution_context
        assert execution.graphql_document is not None
        prepared = await self._prepared_payloads(context)
        checking = context.services.planner == "check"
        if prepared.payloads and not checking:
            execution.graphql_document = prepared.asking_for_ids
        # The unit of work takes a connection of its own: at most one at a time per request.
        await context.release()
        yield
        result = execution.result
        data = getattr(result, "data", None)
        if not prepared.payloads or not isinstance(data, dict):
            return
        wanted: list[int] = []  # indexes into prepared.payloads
        task_ids: list[int] = []
        for index, payload in enumerate(prepared.payloads):
            task = (data.get(payload.root_key) or {}).get(payload.task_key)
            if task is None:
                continue
            global_id = task[PLANNED_ID] if not checking else task.get("id")
            decoded = from_global_id(global_id) if isinstance(global_id, str) else None
            if decoded is None:
                if checking:
                    continue  # the selection has no id to compare by
                raise PlannerMismatch("a payload's task came back without its id")
            wanted.append(index)
            task_ids.append(decoded[1])
        if not wanted:
            return
        try:
            planned = prepared.plan_for(tuple(wanted))
            text = await planner.run(
                await context.connection(generic_plan=not planned.custom_plans),
                planned,
                context.clock.now(),
                task_ids,
            )
        except Exception as error:
            raise masked_failure(context, error, "reading a payload's task failed") from None
        read: dict[str, Any] = orjson.loads(text)
        OUTCOMES["planned payload"] += len(wanted)
        for position, index in enumerate(wanted):
            payload = prepared.payloads[index]
            planned_task = read[str(position)]
            answered = data[payload.root_key]
            if checking and _differs(planned_task, answered[payload.task_key]):
                log.error(
                    "planned payload differs\nquery: %s\nfield by field: %s\nplanned: %s",
                    execution.query,
                    json.dumps(answered[payload.task_key]),
                    json.dumps(planned_task),
                )
                raise masked_failure(
                    context,
                    PlannerMismatch("a planned payload differs"),
                    "a planned payload differs",
                )
            answered[payload.task_key] = planned_task

    async def _prepared_payloads(self, context: Context) -> PreparedPayloads:
        """The mutation's payloads as planned for the first call of its shape
        (planner.payload_shape): found, tried and rewritten once, not on every call."""
        query = self.execution_context.query
        assert query is not None
        asked = self._asked(context)
        shape = planner.payload_shape(asked, query)
        found = _PREPARED.get(shape)
        if found is not None:
            return found
        remember = True
        plans: dict[tuple[int, ...], planner.Plan] = {}
        payloads: list[planner.PayloadTask] = []
        try:  # a selection the planner declines is answered field by field, as before
            payloads = planner.payload_tasks(asked)
            if payloads:
                trial = planner.plan_tasks(asked, payloads)
                if asked.dialect_name == "sqlite":  # its parser's stack is fixed: try it
                    ids = [0] * len(payloads)
                    await planner.run(await context.connection(), trial, context.clock.now(), ids)
                plans[tuple(range(len(payloads)))] = trial
        except planner.Declined as reason:
            OUTCOMES[f"declined payload: {reason}"] += 1
            # Variables that cannot be coerced fail the mutation itself: not a shape to keep.
            remember = str(reason) != "variables"
            payloads = []
        except Exception:  # the mutation itself runs next, and reports what is wrong
            log.debug("trying a payload's plan failed", exc_info=True)
            remember = False
            payloads = []
        found = PreparedPayloads(
            asked=asked,
            payloads=tuple(payloads),
            asking_for_ids=_asking_for_ids(asked.document, payloads)
            if payloads
            else asked.document,
            plans=plans,
        )
        if remember:
            _PREPARED.put(shape, found)
        return found

    def _asked(self, context: Context) -> planner.Asked:
        """What this request's plans are made from."""
        execution = self.execution_context
        assert execution.graphql_document is not None
        viewer = context.viewer
        return planner.Asked(
            schema=execution.schema._schema,
            document=execution.graphql_document,
            variables=execution.variables,
            operation_name=execution.operation_name,
            viewer=viewer,
            viewer_today=context.today(viewer.provider_timezone) if viewer is not None else None,
            dialect_name=self._dialect(context),
        )

    @staticmethod
    def _dialect(context: Context) -> str:
        return str(context.services.session_factory.kw["bind"].dialect.name)

    async def _planned(self, context: Context) -> dict[str, Any] | PlannedJson | None:
        query = self.execution_context.query
        assert query is not None
        planned = planner.cached_plan(self._asked(context), query)
        if isinstance(planned, planner.Declined):
            log.debug("field by field: %s", planned)
            OUTCOMES[f"declined: {planned}"] += 1
            return None
        now = context.clock.now()
        check = context.viewer_check(now)
        try:
            connection = await context.connection(generic_plan=not planned.custom_plans)
            if check is None:
                text = await planner.run(connection, planned, now)
            else:
                text, viewer_row = await planner.run_confirming(connection, planned, now, *check)
        except planner.Declined as reason:
            log.debug("field by field: %s", reason)
            OUTCOMES[f"declined: {reason}"] += 1
            return None
        if check is not None and not context.confirm(viewer_row):
            OUTCOMES["viewer changed"] += 1
            return None  # planned for who the token no longer names: field by field, as now
        if not planned.needs_value and context.services.planner == "on":
            OUTCOMES["planned"] += 1
            return PlannedJson(text)
        data: dict[str, Any] = orjson.loads(text)
        if any(data.get(key) is None for key in planned.needs_value):
            OUTCOMES["not found"] += 1
            return None  # not found, or not the viewer's: the field-by-field path says which
        OUTCOMES["planned"] += 1
        return data

    async def _compare(self, context: Context, planned: dict[str, Any]) -> None:
        execution = self.execution_context
        assert execution.graphql_document is not None
        result = execute(
            execution.schema._schema,
            execution.graphql_document,
            context_value=context,
            variable_values=execution.variables,
            operation_name=execution.operation_name,
        )
        if not isinstance(result, GraphQLExecutionResult):
            result = await result
        errors = [error.formatted for error in result.errors or []]
        expected = json.dumps(result.data)
        got = json.dumps(planned)
        if errors or expected != got:
            log.error(
                "planned answer differs\nquery: %s\nvariables: %s\nfield by field: %s %s\n"
                "planned:        %s",
                execution.query,
                execution.variables,
                expected,
                errors,
                got,
            )
            raise PlannerMismatch("the planned answer differs from the field-by-field one")
