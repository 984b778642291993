"""Per-client rate limits in Redis: headers, 429, tiers, fail-open."""

import pytest

from gateway.api import ratelimit
from partners.models import CallerKind, RateTier
from tests.factories import PartnerFactory, api_as, make_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/partners/me"


@pytest.fixture
def small_quota(settings):
    settings.RATE_LIMIT_TIERS = {"standard": 3, "premium": 6, "internal": 100}
    settings.RATE_LIMIT_WINDOW_SECONDS = 60


def test_every_response_carries_the_draft_headers(small_quota) -> None:
    api = api_as(make_client(CallerKind.PARTNER))
    response = api.get(URL)
    assert response.status_code == 200
    assert response["RateLimit-Policy"] == '"standard";q=3;w=60'
    assert response["RateLimit"].startswith('"standard";r=2;t=')


def test_over_the_quota_is_429_with_retry_after(small_quota) -> None:
    api = api_as(make_client(CallerKind.PARTNER))
    statuses = [api.get(URL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get(URL)
    assert limited.json()["code"] == "rate_limited"
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited["RateLimit"].startswith('"standard";r=0;')


def test_limits_are_per_client_not_shared(small_quota) -> None:
    first, second = api_as(make_client(CallerKind.PARTNER)), api_as(make_client(CallerKind.PARTNER))
    for _ in range(3):
        first.get(URL)
    assert first.get(URL).status_code == 429
    assert second.get(URL).status_code == 200


def test_two_tokens_of_one_client_share_its_quota(small_quota) -> None:
    client = make_client(CallerKind.PARTNER)
    one, two = api_as(client), api_as(client)
    assert [one.get(URL).status_code, two.get(URL).status_code, one.get(URL).status_code] == [200, 200, 200]
    assert two.get(URL).status_code == 429


def test_partner_tier_raises_the_quota(small_quota) -> None:
    api = api_as(make_client(CallerKind.PARTNER, partner=PartnerFactory.create(tier=RateTier.PREMIUM)))
    assert [api.get(URL).status_code for _ in range(6)] == [200] * 6
    assert api.get(URL)["RateLimit-Policy"] == '"premium";q=6;w=60'


def test_redis_down_fails_open_and_counts_it(settings, small_quota) -> None:
    api = api_as(make_client(CallerKind.PARTNER))
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    ratelimit._client = None
    before = ratelimit.metrics.RATE_LIMITER_FAIL_OPEN._value.get()
    try:
        statuses = [api.get(URL).status_code for _ in range(5)]
    finally:
        ratelimit._client = None
    assert statuses == [200] * 5
    assert ratelimit.metrics.RATE_LIMITER_FAIL_OPEN._value.get() == before + 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_burst_never_exceeds_the_quota(settings) -> None:
    import threading

    from django.db import connection
    from rest_framework.test import APIClient

    from tests.factories import token_for

    settings.RATE_LIMIT_TIERS = {"standard": 10, "premium": 10, "internal": 10}
    raw = token_for(make_client(CallerKind.PARTNER))
    statuses: list[int] = []
    barrier = threading.Barrier(25)

    def call() -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        barrier.wait()
        statuses.append(api.get(URL).status_code)
        connection.close()

    threads = [threading.Thread(target=call) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) == 10
    assert statuses.count(429) == 15
