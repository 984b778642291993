"""Seeds a midnight release, set-based: click-and-collect stores with a
schedule whose next release is a few seconds away, products with stock at
those stores (through inventory's set-based stock engine, so the ledger sums
to the levels), and shoppers with an access token each (two INSERTs). Writes
the plan the load test needs (tokens, slots, products, the release instant)
to a JSON file. Meant for benchmark databases (loadtests/bench_midnight_release.py).

    manage.py seed_midnight_release --shoppers 3000 --release-in 20 --out /tmp/plan.json
"""

import datetime as dt
import json
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value

from commerce.clock import db_now
from commerce.models import PickupSlot, SlotSchedule, SlotWindow
from commerce.services.release import slots_release_due
from inventory.local_time import zone
from inventory.models import Location, LocationKind, MovementReason, Product
from inventory.services import StockChanges, stock_changes_apply
from partners.models import ApiClient, CallerKind
from partners.services import api_client_create

SHOPPER_APP = "bench-shopper-app"
TIME_ZONE = "Europe/Paris"


class Command(BaseCommand):
    help = "Seed stores, stock, shoppers with tokens and a slot release a few seconds away (benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shoppers", type=int, default=3000)
        parser.add_argument("--stores", type=int, default=3)
        parser.add_argument("--products", type=int, default=40, help="Products stocked at every store.")
        parser.add_argument("--on-hand", type=int, default=100_000, help="Units of each product at each store.")
        parser.add_argument("--capacity", type=int, default=50, help="Orders per slot.")
        parser.add_argument("--slot-minutes", type=int, default=30)
        parser.add_argument("--release-in", type=float, default=20.0, help="Seconds from the end of seeding.")
        parser.add_argument("--out", required=True, help="Where to write the plan (JSON).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["shoppers"] < 1 or options["stores"] < 1 or options["products"] < 1:
            raise CommandError("--shoppers, --stores and --products must be positive.")
        suffix = secrets.token_hex(3).upper()
        with transaction.atomic():
            stores = _stores(options["stores"], suffix)
            products = _products(options["products"], suffix)
            _stock(stores, products, options["on_hand"])
        tokens = _shoppers(options["shoppers"], suffix)
        release_at = _release_soon(
            stores,
            capacity=options["capacity"],
            slot_minutes=options["slot_minutes"],
            release_in=dt.timedelta(seconds=options["release_in"]),
        )
        plan = _plan(stores, products, tokens, release_at)
        Path(options["out"]).write_text(json.dumps(plan))
        slots = sum(len(store["slot_ids"]) for store in plan["stores"])
        self.stdout.write(
            f"seeded {len(stores)} stores, {len(products)} products, {len(tokens)} shoppers; "
            f"{slots} slots open at {release_at.isoformat()}"
        )


def _stores(count: int, suffix: str) -> list[Location]:
    return Location.objects.bulk_create(
        [
            Location(
                code=f"RUSH-{suffix}-{index:02d}",
                name=f"Midnight rush store {index}",
                kind=LocationKind.STORE,
                city="Paris",
                time_zone=TIME_ZONE,
                click_and_collect=True,
            )
            for index in range(1, count + 1)
        ]
    )


def _products(count: int, suffix: str) -> list[Product]:
    return Product.objects.bulk_create(
        [
            Product(
                sku=f"RUSH-{suffix}-{index:04d}",
                name_fr=f"Article {index}",
                name_en=f"Item {index}",
                price_amount=Decimal(49 + (index * 37) % 900) / 100,
                price_currency="EUR",
            )
            for index in range(1, count + 1)
        ]
    )


def _stock(stores: list[Location], products: list[Product], on_hand: int) -> None:
    changes = StockChanges()
    for store in stores:
        for product in products:
            changes.add(
                product_id=product.pk,
                location_id=store.pk,
                quantity=on_hand,
                is_set=True,
                sku=product.sku,
                location_code=store.code,
                audience=None,
            )
    stock_changes_apply(changes=changes, reason=MovementReason.SYNC, actor_id=None, all_or_nothing=True)


def _shoppers(count: int, suffix: str) -> list[str]:
    app = ApiClient.objects.filter(client_id=SHOPPER_APP).first()
    if app is None:
        app, _secret = api_client_create(
            name="Bench shopper app",
            kind=CallerKind.SHOPPER,
            partner=None,
            scopes=["orders:read", "orders:write"],
            client_id=SHOPPER_APP,
            redirect_uris="https://shop.example/callback",
            rate_limit_tier="internal",
        )
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"rush-{suffix}-{index:05d}") for index in range(count)]
    )
    access_token = get_access_token_model()
    expires = timezone.now() + dt.timedelta(hours=2)
    raws, rows = [], []
    for user in users:
        raw = secrets.token_urlsafe(32)
        row = access_token(application=app, user=user, scope="orders:read orders:write", expires=expires)
        set_token_value(row, raw)
        raws.append(raw)
        rows.append(row)
    access_token.objects.bulk_create(rows, batch_size=1000)
    return raws


def _release_soon(stores: list[Location], *, capacity: int, slot_minutes: int, release_in: dt.timedelta) -> dt.datetime:
    """Schedules whose next day opens ``release_in`` from now (database clock);
    its rows are written now, carrying release_at, and refused until then."""
    release_at = (db_now() + release_in).replace(microsecond=0)
    local = release_at.astimezone(zone(TIME_ZONE))
    target_weekday = (local.date() + dt.timedelta(days=7)).isoweekday()
    for store in stores:
        schedule = SlotSchedule.objects.create(store=store, days_ahead=7, release_time=local.time())
        SlotWindow.objects.create(
            schedule=schedule,
            weekday=target_weekday,
            opens=dt.time(8, 0),
            closes=dt.time(20, 0),
            slot_minutes=slot_minutes,
            capacity=capacity,
        )
    slots_release_due(store_ids=[store.pk for store in stores])
    return release_at


def _plan(
    stores: list[Location], products: list[Product], tokens: list[str], release_at: dt.datetime
) -> dict[str, Any]:
    return {
        "release_at": release_at.isoformat(),
        "release_epoch": release_at.timestamp(),
        "date": (release_at.astimezone(zone(TIME_ZONE)).date() + dt.timedelta(days=7)).isoformat(),
        "tokens": tokens,
        "skus": {str(product.pk): product.sku for product in products},
        "stores": [
            {
                "id": store.pk,
                "code": store.code,
                "slot_ids": list(
                    PickupSlot.objects.filter(store=store, release_at=release_at)
                    .order_by("starts_at")
                    .values_list("pk", flat=True)
                ),
                "product_ids": [product.pk for product in products],
            }
            for store in stores
        ],
    }
