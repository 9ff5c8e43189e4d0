from tests.conftest import Env


async def test_create_and_list_task(env: Env) -> None:
    provider = await env.world.provider()
    task = await env.world.task(provider.admin, name="Call Ana")
    assert task["name"] == "Call Ana"
    assert task["version"] == 1
    data = await env.api.data("{ tasks { totalCount edges { node { id name } } } }", token=provider.admin.token)
    assert data["tasks"]["totalCount"] == 1
