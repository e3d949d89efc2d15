import httpx
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_smoke(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/films", params={"select": "id,title", "order": "id"})
    print(r.status_code, r.headers, r.text)
    assert r.status_code == 200
