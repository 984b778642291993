"""The slot list writes its rows by hand (commerce/api/v1/serializers.py
``pickup_slot_rows``) while ``PickupSlotOutput`` stays the contract the schema
is generated from: the two are held equal here, key for key and in order,
for slots with and without bookings, a fraction of a second, and another
time zone."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from commerce import selectors
from commerce.api.v1.serializers import PICKUP_SLOT_ROW, PickupSlotOutput, pickup_slot_rows
from commerce.models import PickupSlot
from tests.commerce.factories import open_slot, store_with_schedule

pytestmark = pytest.mark.django_db


def both(store_id: int) -> tuple[list[dict], list[dict]]:
    today = timezone.now().date()
    query = selectors.pickup_slots_open(
        store_id=store_id, date_from=today - dt.timedelta(days=1), date_to=today + dt.timedelta(days=5)
    )
    expected = PickupSlotOutput(query.select_related("store"), many=True).data
    store = PickupSlot.objects.filter(store_id=store_id).select_related("store").first().store  # type: ignore[union-attr]
    rows = pickup_slot_rows(query.values(*PICKUP_SLOT_ROW), store_code=store.code, time_zone=store.time_zone)
    return json.loads(json.dumps(expected)), rows


@pytest.mark.parametrize("time_zone", ["Europe/Paris", "America/New_York"])
def test_the_hand_written_rows_are_the_serializers(time_zone: str) -> None:
    store = store_with_schedule()
    store.time_zone = time_zone
    store.save(update_fields=["time_zone"])
    booked = open_slot(store, capacity=4)
    PickupSlot.objects.filter(pk=booked.pk).update(booked=3, held=1)
    open_slot(store, capacity=6, starts_in=dt.timedelta(days=2))
    odd = open_slot(store, capacity=2, starts_in=dt.timedelta(days=3))
    PickupSlot.objects.filter(pk=odd.pk).update(
        starts_at=odd.starts_at + dt.timedelta(microseconds=250_000), ends_at=odd.ends_at + dt.timedelta(seconds=1)
    )
    expected, rows = both(store.pk)
    assert len(rows) == 3
    assert rows == expected
    assert [list(row) for row in rows] == [list(row) for row in expected]  # the same keys in the same order
    assert {row["remaining"] for row in rows} == {0, 6, 2}
