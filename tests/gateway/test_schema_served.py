"""The schema served to many clients at once: drf-spectacular's generation
is not safe across threads of one process (four Schemathesis runs fetching
it together got a 500), so each process generates it once and serves that."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.conftest import GatewayServer

pytestmark = pytest.mark.concurrency


def test_clients_fetching_the_schema_at_once_all_get_the_same_schema(transactional_db: Any) -> None:
    server = GatewayServer(workers=1, threads=8)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda _n: requests.get(f"{server.url}/api/v1/schema/", timeout=60), range(12)))
        json_answer = requests.get(f"{server.url}/api/v1/schema/?format=json", timeout=60)
    finally:
        server.stop()

    assert [answer.status_code for answer in answers] == [200] * 12
    assert len({answer.content for answer in answers}) == 1
    assert json_answer.json()["openapi"] == "3.1.0"
