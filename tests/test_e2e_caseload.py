"""The caseload bar from outside: a contract-only client of a real `casetasks serve`, as an
administrator, hands over a caseload of tasks, a repeating task and clients and sees every one
moved with history and one CASELOAD_RECEIVED; a bulk change with one bad id saves nothing; a
skipped date leaves upcoming."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.graphql_client import Api
from tests.test_e2e_serve import EMAIL, PASSWORD, _create_provider, serve

LOGIN = """mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  token errors { message } } }"""
CREATE_STAFF = """mutation($i: CreateStaffInput!) { createStaff(input: $i) {
  staff { id } errors { message } } }"""
CREATE_CLIENT = """mutation($i: CreateClientInput!) { createClient(input: $i) {
  client { id } errors { message } } }"""
CREATE_TASK = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id version series { id upcoming(first: 3) } } errors { message } } }"""
HAND_OVER = """mutation($i: HandOverCaseloadInput!) { handOverCaseload(input: $i) {
  tasks series clients errors { field code message } } }"""
COMPLETE_MANY = """mutation($i: CompleteTasksInput!) { completeTasks(input: $i) {
  tasks { id } errors { field code message } } }"""
SKIP = """mutation($i: SkipOccurrenceInput!) { skipOccurrence(input: $i) {
  series { skippedDates upcoming(first: 3) } errors { field message } } }"""
TASKS = """{ tasks(filter: {includeCompleted: true}, first: 100) { edges { node {
  id status responsible { name } history { kind summary } } } } }"""


async def _sign_in(api: Api, email: str) -> str:
    payload = await api.mutate("login", LOGIN, {"e": email, "p": PASSWORD})
    assert payload["errors"] == [], payload
    return str(payload["token"])


async def _ok(api: Api, name: str, query: str, variables: dict[str, Any], token: str) -> Any:
    payload = await api.mutate(name, query, variables, token)
    assert payload["errors"] == [], payload
    return payload


async def test_a_contract_client_hands_over_a_caseload(database_url: str, tmp_path: Path) -> None:
    await _create_provider(database_url, tmp_path)
    monday = date.today() + timedelta(days=7 - date.today().weekday())  # next Monday
    async with serve(database_url, tmp_path) as (_server, http):
        api = Api(http)
        admin = await _sign_in(api, EMAIL)
        people = {}
        for name in ("Ana Leaving", "Ben Staying"):
            email = f"{name.split()[0].lower()}@serve.example"
            made = await _ok(
                api,
                "createStaff",
                CREATE_STAFF,
                {"i": {"name": name, "email": email, "password": PASSWORD}},
                admin,
            )
            people[name] = made["staff"]["id"]
        ana, ben = people["Ana Leaving"], people["Ben Staying"]
        ben_token = await _sign_in(api, "ben@serve.example")
        client = (
            await _ok(
                api,
                "createClient",
                CREATE_CLIENT,
                {"i": {"name": "Dana", "caseworkerId": ana}},
                admin,
            )
        )["client"]["id"]
        tasks = [
            (
                await _ok(
                    api,
                    "createTask",
                    CREATE_TASK,
                    {
                        "i": {
                            "name": f"Call {n}",
                            "dueDate": monday.isoformat(),
                            "responsibleIds": [ana],
                        }
                    },
                    admin,
                )
            )["task"]
            for n in range(3)
        ]
        weekly = (
            await _ok(
                api,
                "createTask",
                CREATE_TASK,
                {
                    "i": {
                        "name": "Weekly check-in",
                        "dueDate": monday.isoformat(),
                        "responsibleIds": [ana],
                        "clientId": client,
                        "recurrence": {"frequency": "WEEKLY"},
                    }
                },
                admin,
            )
        )["task"]

        # All or nothing: one id that is no task saves nothing.
        bad = await api.mutate(
            "completeTasks",
            COMPLETE_MANY,
            {"i": {"ids": [tasks[0]["id"], "bm90LWEtdGFzaw", tasks[1]["id"]]}},
            admin,
        )
        assert bad["tasks"] == [] and [e["field"] for e in bad["errors"]] == [["input", "ids", "1"]]

        # A public holiday: the series' second date is skipped.
        holiday = monday + timedelta(weeks=1)
        skipped = await _ok(
            api,
            "skipOccurrence",
            SKIP,
            {"i": {"seriesId": weekly["series"]["id"], "date": holiday.isoformat()}},
            admin,
        )
        assert skipped["series"]["skippedDates"] == [holiday.isoformat()]
        assert holiday.isoformat() not in skipped["series"]["upcoming"]

        moved = await _ok(
            api, "handOverCaseload", HAND_OVER, {"i": {"fromStaffId": ana, "toStaffId": ben}}, admin
        )
        assert (moved["tasks"], moved["series"], moved["clients"]) == (4, 1, 1)

        listed = (await api.data(TASKS, token=admin))["tasks"]["edges"]
        assert len(listed) == 4
        for edge in listed:
            node = edge["node"]
            assert node["status"] == "OPEN"
            assert node["responsible"] == [{"name": "Ben Staying"}]
            assert node["history"][-1]["kind"] == "REASSIGNED"
            assert "Ana Leaving -> Ben Staying" in node["history"][-1]["summary"]
        caseworker = await api.data(
            "query($id: ID!) { client(id: $id) { caseworker { name } } }", {"id": client}, admin
        )
        assert caseworker["client"]["caseworker"] == {"name": "Ben Staying"}
        inbox = await api.data(
            "{ notifications { edges { node { kind message } } } }", token=ben_token
        )
        kinds = [edge["node"]["kind"] for edge in inbox["notifications"]["edges"]]
        assert kinds == ["CASELOAD_RECEIVED"]
