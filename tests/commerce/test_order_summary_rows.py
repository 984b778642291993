"""The order lists write their rows by hand (commerce/api/v1/serializers.py
``order_summary_rows``) while ``OrderSummaryOutput`` stays the contract the
schema is generated from: the two are held equal here, key for key and in
order, for every status, discounts and points, a currency of other minor
units, and instants with and without a fraction of a second. The list's
cursor still walks orders that share their creation instant."""

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from commerce.api.v1.serializers import ORDER_SUMMARY_ROW, OrderSummaryOutput, order_summary_rows
from commerce.models import Order, OrderStatus
from tests.commerce.factories import idempotency_key

pytestmark = pytest.mark.django_db


def place(api, slot, product, quantity=1) -> str:
    response = api.post(
        "/api/v1/orders",
        {"slot_id": slot.pk, "lines": [{"product_id": product.pk, "quantity": quantity}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(),
    )
    assert response.status_code == 201, response.json()
    public_id: str = response.json()["id"]
    return public_id


def test_the_hand_written_rows_are_the_serializers(alice, slot, apples, bread) -> None:
    ids = [place(alice[0], slot, apples, quantity=n) for n in (1, 2, 3)] + [place(alice[0], slot, bread)]
    now = timezone.now().replace(microsecond=0)
    Order.objects.filter(public_id=ids[0]).update(
        status=OrderStatus.PREPARING,
        discount_amount=Decimal("0.10"),
        points_amount=Decimal("0.05"),
        created_at=now + dt.timedelta(microseconds=250_000),
        updated_at=now,
    )
    Order.objects.filter(public_id=ids[1]).update(
        status=OrderStatus.CANCELLED, currency="JPY", total_amount=Decimal("1234.00"), discount_amount=Decimal("5.00")
    )
    Order.objects.filter(public_id=ids[2]).update(status=OrderStatus.COLLECTED, version=4)
    orders = Order.objects.select_related("store", "slot").order_by("-created_at", "-pk")
    expected = json.loads(json.dumps(OrderSummaryOutput(orders, many=True).data))
    rows = order_summary_rows(orders.values(*ORDER_SUMMARY_ROW))
    assert len(rows) == 4
    assert rows == expected
    assert [list(row) for row in rows] == [list(row) for row in expected]  # the same keys in the same order
    assert [list(row["slot"]) for row in rows] == [list(row["slot"]) for row in expected]
    assert {row["status"] for row in rows} == {"placed", "preparing", "cancelled", "collected"}
    assert {row["total"]["amount"] for row in rows} >= {"1234", "0.45"}
    assert any(row["created_at"].endswith(".250000Z") for row in rows)


def test_the_cursor_walks_orders_created_at_the_same_instant(alice, slot, apples) -> None:
    ids = [place(alice[0], slot, apples) for _ in range(5)]
    Order.objects.filter(public_id__in=ids).update(created_at=timezone.now())
    seen = []
    response = alice[0].get("/api/v1/orders?page_size=2").json()
    seen += [row["id"] for row in response["results"]]
    while response["next"]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(response["next"]).query).items()}
        response = alice[0].get("/api/v1/orders", query).json()
        seen += [row["id"] for row in response["results"]]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 5
