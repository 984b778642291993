"""Click-and-collect test data: stores with schedules, released slots,
products with stock (set through inventory's own service, so the ledger
sums to the levels from the start), shopper tokens."""

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value

from commerce.models import PickupSlot, SlotSchedule, SlotWindow
from inventory.local_time import zone
from inventory.models import Location, Product, StockLevel, StockMovement
from inventory.services import stock_set
from partners.models import ApiClient, CallerKind
from tests.factories import LocationFactory, UserFactory, api_as, make_client, token_for

AccessToken = get_access_token_model()


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name_fr = factory.Sequence(lambda n: f"Produit {n}")
    name_en = factory.Sequence(lambda n: f"Product {n}")
    price_amount = Decimal("2.50")
    price_currency = "EUR"


def store_with_schedule(
    *, time_zone: str = "Europe/Paris", windows: list[tuple[int, str, str, int, int]] | None = None, **settings: Any
) -> Location:
    """A click-and-collect store and its schedule; ``windows`` as
    (weekday, opens, closes, slot_minutes, capacity), every day 08:00-20:00 by 30 min x 10 if absent."""
    store = LocationFactory.create(time_zone=time_zone)
    schedule = SlotSchedule.objects.create(store=store, **settings)
    specs = windows if windows is not None else [(day, "08:00", "20:00", 30, 10) for day in range(1, 8)]
    SlotWindow.objects.bulk_create(
        [
            SlotWindow(
                schedule=schedule,
                weekday=weekday,
                opens=dt.time.fromisoformat(opens),
                closes=dt.time.fromisoformat(closes),
                slot_minutes=minutes,
                capacity=capacity,
            )
            for weekday, opens, closes, minutes, capacity in specs
        ]
    )
    return store


def open_slot(
    store: Location,
    *,
    capacity: int = 10,
    starts_in: dt.timedelta = dt.timedelta(days=1),
    minutes: int = 30,
    release_at: dt.datetime | None = None,
) -> PickupSlot:
    """A slot of ``store`` (released an hour ago unless ``release_at`` says otherwise)."""
    now = timezone.now()
    starts_at = (now + starts_in).replace(microsecond=0)
    return PickupSlot.objects.create(
        store=store,
        local_date=starts_at.astimezone(zone(store.time_zone)).date(),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        release_at=release_at or now - dt.timedelta(hours=1),
        capacity=capacity,
    )


def stocked_product(store: Location, *, on_hand: int = 20, price: str = "2.50", **fields: Any) -> Product:
    product = ProductFactory.create(price_amount=Decimal(price), **fields)
    stock_set(location=store, product=product, on_hand=on_hand)
    return product


def stock_of(store: Location, product: Product) -> StockLevel:
    return StockLevel.objects.get(location=store, product=product)


def ledger_matches_levels() -> bool:
    """Every stock level equals the sum of its movements."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM inventory_stocklevel s
            LEFT JOIN (
                SELECT stock_level_id, sum(delta_on_hand) AS on_hand, sum(delta_reserved) AS reserved
                FROM inventory_stockmovement GROUP BY stock_level_id
            ) m ON m.stock_level_id = s.id
            WHERE s.on_hand <> COALESCE(m.on_hand, 0) OR s.reserved <> COALESCE(m.reserved, 0)
            """
        )
        mismatched: int = cursor.fetchone()[0]
    return mismatched == 0 and StockMovement.objects.exists()


def shopper_app() -> ApiClient:
    return make_client(CallerKind.SHOPPER)


def shopper(app: ApiClient | None = None) -> tuple[Any, Any]:
    """(DRF test client, user) of a signed-in shopper."""
    user = UserFactory.create()
    return api_as(app or shopper_app(), user=user), user


def shopper_token(app: ApiClient, user: Any) -> str:
    return token_for(app, user=user)


def idempotency_key() -> str:
    return secrets.token_hex(12)


def crowd_tokens(app: ApiClient, count: int, *, scopes: str = "orders:read orders:write") -> list[str]:
    """``count`` shoppers and one access token each, written set-based (two INSERTs)."""
    prefix = secrets.token_hex(4)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"crowd-{prefix}-{index}") for index in range(count)]
    )
    expires = timezone.now() + dt.timedelta(minutes=30)
    raws, tokens = [], []
    for user in users:
        raw = secrets.token_urlsafe(24)
        token = AccessToken(application=app, user=user, scope=scopes, expires=expires)
        set_token_value(token, raw)
        raws.append(raw)
        tokens.append(token)
    AccessToken.objects.bulk_create(tokens)
    return raws
