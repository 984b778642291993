"""Seeds one region of the network for the Black Friday scenario
(loadtests/locust_black_friday.py), set-based: a few statements whatever the
size, so the full region (450 stores, 180,000 stock levels, 5,000 shoppers)
takes seconds.

- click-and-collect stores spread around Paris, each with its slot schedule
  and pickup slots released for today and tomorrow (store-local dates), every
  ``--slot-minutes`` around the clock, so a run at any hour finds open slots;
- the retailer's catalogue in a few categories, stocked at every store;
- partners, each with its partner stores and its own products stocked there
  (what its system syncs every minute);
- every stock level with its opening ledger movement (reason ``sync``), so the
  ledger reconciles from the first second (``check_stock_ledger``);
- two entrance sensors per store;
- API clients with a bearer token each: the operator, one store client (staff
  app and tills) and one device client (sensor box) bound to each store, one
  client per partner, and shoppers (Django users) of the shopper app. Clients
  get a secret hash nobody knows (tokens are issued here, never through
  /oauth/token/), so no secret exists in clear;
- the loyalty program (``--member-share`` of the shoppers are members, with
  an EAN-13 card each; ``--points-share`` of the members hold ``--points``
  spendable points, earned through the points service weeks ago so the
  ledger reconciles) and its Black Friday campaign (5 EUR off a basket of
  40 EUR, a total budget of ``--coupon-budget`` redemptions): ``--code-share``
  of the members carry a code, half the public one and half a single-use code
  each. Program and campaign come from seed_coupon_rush's helpers. The
  shares default to the scenario's (loadtests/black_friday.py).

The plan the scenario follows (tokens, stores, slots dates, products,
partners' lines) goes to ``--out`` as JSON.

    manage.py seed_black_friday --stores 450 --products 400 --partners 12 --shoppers 5000 --out /tmp/plan.json
"""

import datetime as dt
import json
import random
import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, get_access_token_model, set_token_value
from oauth2_provider.settings import oauth2_settings

from commerce.models import PickupSlot, SlotRelease, SlotSchedule, SlotWindow
from footfall.models import Sensor, SensorKind
from gateway.sql import fragment, statement
from inventory.models import ClientLocation, Location, LocationKind, Product, StockLevel, StockMovement
from loadtests import black_friday as mix
from loadtests.management.commands.seed_coupon_rush import active_campaign, bench_program, coupon_codes_create
from loyalty.models import BenefitKind, BudgetScope, CampaignBudget, Member, Program, ean13_check_digit
from loyalty.services.points import points_earn
from partners.models import ApiClient, CallerKind, Partner

TIME_ZONE = "Europe/Paris"
# The region's centre (Paris) and half-sizes of its box in degrees: about 66 x 66 km, the
# density of the network's densest region (a third of 1,800 stores around Paris in seed_bench_stock).
CENTRE = (48.8566, 2.3522)
HALF_BOX = (0.3, 0.45)
CATEGORIES = ("grocery", "drinks", "household", "beauty", "toys", "electronics", "garden", "clothing")
OPENING_HOURS = {str(day): [["07:00", "22:00"]] for day in range(1, 8)}

SCOPES: dict[str, str] = {
    CallerKind.OPERATOR: "catalog:read inventory:read orders:read webhooks:manage",
    CallerKind.STORE: "catalog:read orders:read orders:write orders:fulfil footfall:ingest loyalty:redeem",
    CallerKind.DEVICE: "footfall:ingest",
    CallerKind.PARTNER: "catalog:read inventory:read inventory:write webhooks:manage",
    CallerKind.SHOPPER: "catalog:read inventory:read orders:read orders:write loyalty:read loyalty:redeem",
}

_STORES = statement(
    """
    INSERT INTO {l} ({l.code}, {l.name}, {l.kind}, {l.owner}, {l.address}, {l.city}, {l.postal_code}, {l.country},
                     {l.latitude}, {l.longitude}, {l.time_zone}, {l.opening_hours}, {l.click_and_collect},
                     {l.lead_time_days}, {l.is_active}, {l.version}, {l.created_at}, {l.updated_at})
    SELECT %(prefix)s || '-S' || lpad(i::text, 4, '0'), 'Black Friday store ' || i, %(store)s, NULL, '', 'Paris', '',
           'FR', round((%(lat)s + (random() * 2 - 1) * %(dlat)s)::numeric, 6),
           round((%(lng)s + (random() * 2 - 1) * %(dlng)s)::numeric, 6), %(tz)s, %(hours)s::jsonb, true, 0, true, 1,
           now(), now()
    FROM generate_series(1, %(count)s) AS i
    """,
    l=Location,
)

_PARTNER_STORES = statement(
    """
    INSERT INTO {l} ({l.code}, {l.name}, {l.kind}, {l.owner}, {l.address}, {l.city}, {l.postal_code}, {l.country},
                     {l.latitude}, {l.longitude}, {l.time_zone}, {l.opening_hours}, {l.click_and_collect},
                     {l.lead_time_days}, {l.is_active}, {l.version}, {l.created_at}, {l.updated_at})
    SELECT %(prefix)s || '-P' || p.id || '-' || lpad(i::text, 3, '0'), 'Partner store ' || i, %(kind)s, p.id, '',
           'Paris', '', 'FR', round((%(lat)s + (random() * 2 - 1) * %(dlat)s)::numeric, 6),
           round((%(lng)s + (random() * 2 - 1) * %(dlng)s)::numeric, 6), %(tz)s, '{{}}'::jsonb, false, 2, true, 1,
           now(), now()
    FROM unnest(%(partners)s::bigint[]) AS p(id), generate_series(1, %(count)s) AS i
    """,
    l=Location,
)

_PRODUCTS = statement(
    """
    INSERT INTO {p} ({p.owner}, {p.sku}, {p.gtin}, {p.brand}, {p.category}, {p.price_amount}, {p.price_currency},
                     {p.name_fr}, {p.name_en}, {p.description_fr}, {p.description_en}, {p.is_active}, {p.version},
                     {p.created_at}, {p.updated_at})
    SELECT o.id, %(prefix)s || CASE WHEN o.id IS NULL THEN '' ELSE '-P' || o.id END || '-' || lpad(i::text, 5, '0'),
           '', 'Black Friday', (%(categories)s::text[])[1 + i %% cardinality(%(categories)s::text[])],
           0.99 + (i * 37 %% 900) / 10.0, 'EUR', 'Article ' || i, 'Item ' || i, '', '', true, 1, now(), now()
    FROM unnest(%(owners)s::bigint[]) AS o(id), generate_series(1, %(count)s) AS i
    """,
    p=Product,
)

# The retailer's products at every store of the region; each partner's at its own partner stores.
_LEVELS = statement(
    """
    INSERT INTO {s} ({s.product}, {s.location}, {s.on_hand}, {s.reserved}, {s.version}, {s.updated_at})
    SELECT p.{p.id}, l.{l.id}, %(on_hand)s / 2 + (random() * %(on_hand)s)::int, 0, 1, now()
    FROM {l} l JOIN {p} p ON p.{p.owner} IS NOT DISTINCT FROM l.{l.owner}
    WHERE l.{l.code} LIKE %(like)s AND p.{p.sku} LIKE %(like)s
    ORDER BY l.{l.id}, p.{p.id}
    """,
    s=StockLevel,
    l=Location,
    p=Product,
)

_LEDGER = statement(
    """
    INSERT INTO {m} ({m.stock_level}, {m.reason}, {m.delta_on_hand}, {m.delta_reserved}, {m.on_hand_after},
                     {m.reserved_after}, {m.actor}, {m.idempotency_key}, {m.reference}, {m.created_at})
    SELECT s.{s.id}, 'sync', s.{s.on_hand}, 0, s.{s.on_hand}, 0, NULL, '', 'black-friday-seed', now()
    FROM {s} s JOIN {l} l ON l.{l.id} = s.{s.location}
    WHERE l.{l.code} LIKE %(like)s
    """,
    m=StockMovement,
    s=StockLevel,
    l=Location,
)

_SCHEDULES = statement(
    """
    INSERT INTO {c} ({c.store}, {c.days_ahead}, {c.release_time}, {c.hold_minutes}, {c.cancel_cutoff_minutes},
                     {c.no_show_grace_minutes}, {c.is_active}, {c.version}, {c.created_at}, {c.updated_at})
    SELECT l.{l.id}, 1, time '00:00', 10, 120, 60, true, 1, now(), now()
    FROM {l} l WHERE l.{l.code} LIKE %(like)s AND l.{l.kind} = %(store)s
    """,
    c=SlotSchedule,
    l=Location,
)

_WINDOWS = statement(
    """
    INSERT INTO {w} ({w.schedule}, {w.weekday}, {w.opens}, {w.closes}, {w.slot_minutes}, {w.capacity})
    SELECT c.{c.id}, d, time '07:00', time '22:00', %(minutes)s, %(capacity)s
    FROM {c} c JOIN {l} l ON l.{l.id} = c.{c.store}, generate_series(1, 7) AS d
    WHERE l.{l.code} LIKE %(like)s
    """,
    w=SlotWindow,
    c=SlotSchedule,
    l=Location,
)

# Today's and tomorrow's slots in each store's own zone, released a day ago.
_SLOTS = statement(
    """
    INSERT INTO {s} ({s.store}, {s.local_date}, {s.starts_at}, {s.ends_at}, {s.release_at}, {s.capacity},
                     {s.booked}, {s.held}, {s.is_closed}, {s.version}, {s.created_at}, {s.updated_at})
    SELECT l.{l.id}, d.day, (d.day + make_interval(mins => m)) AT TIME ZONE l.{l.time_zone},
           (d.day + make_interval(mins => m + %(minutes)s)) AT TIME ZONE l.{l.time_zone}, now() - interval '1 day',
           %(capacity)s, 0, 0, false, 1, now(), now()
    FROM {l} l
    CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE l.{l.time_zone})::date + k AS day FROM generate_series(0, 1) k) d
    CROSS JOIN generate_series(0, 24 * 60 - %(minutes)s, %(minutes)s) AS m
    WHERE l.{l.code} LIKE %(like)s AND l.{l.kind} = %(store)s
    ON CONFLICT ({s.store}, {s.starts_at}) DO NOTHING
    """,
    s=PickupSlot,
    l=Location,
)

# The two days count as released (what the release task records), so its next tick leaves them be.
_RELEASES = statement(
    """
    INSERT INTO {r} ({r.store}, {r.local_date}, {r.release_at}, {r.slot_count}, {r.released_at})
    SELECT s.{s.store}, s.{s.local_date}, min(s.{s.release_at}), count(*), now()
    FROM {s} s JOIN {l} l ON l.{l.id} = s.{s.store}
    WHERE l.{l.code} LIKE %(like)s
    GROUP BY s.{s.store}, s.{s.local_date}
    ON CONFLICT ({r.store}, {r.local_date}) DO NOTHING
    """,
    r=SlotRelease,
    s=PickupSlot,
    l=Location,
)

_SENSORS = statement(
    """
    INSERT INTO {n} ({n.store}, {n.code}, {n.name}, {n.kind}, {n.device}, {n.device_serial}, {n.channel},
                     {n.is_active}, {n.version}, {n.created_at}, {n.updated_at})
    SELECT l.{l.id}, l.{l.code} || '-E' || e, 'Entrance ' || e, %(kind)s, NULL, '', '', true, 1, now(), now()
    FROM {l} l, generate_series(1, 2) AS e
    WHERE l.{l.code} LIKE %(like)s AND l.{l.kind} = %(store)s
    """,
    n=Sensor,
    l=Location,
)

# Seeding runs in one transaction, before autovacuum could see the rows. A fragment, not a
# statement: PREPARE (the suite's parse check of registered statements) does not take ANALYZE.
_ANALYZE = fragment(
    "ANALYZE {l}, {p}, {s}, {m}, {slot}", l=Location, p=Product, s=StockLevel, m=StockMovement, slot=PickupSlot
)


class Command(BaseCommand):
    help = "Seed a region for the Black Friday scenario (stores, stock, slots, clients with tokens); writes its plan."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=450)
        parser.add_argument("--products", type=int, default=400, help="Retailer products, stocked at every store.")
        parser.add_argument("--partners", type=int, default=12)
        parser.add_argument("--partner-stores", type=int, default=10, help="Partner stores per partner.")
        parser.add_argument("--partner-products", type=int, default=500, help="Products per partner.")
        parser.add_argument("--shoppers", type=int, default=5000)
        parser.add_argument("--on-hand", type=int, default=400, help="Mean units of a product at a location.")
        parser.add_argument("--capacity", type=int, default=12, help="Orders per pickup slot.")
        parser.add_argument("--slot-minutes", type=int, default=30)
        parser.add_argument("--prefix", default="BF", help="Codes and SKUs start with it (letters and digits).")
        parser.add_argument("--seed", type=float, default=0.42, help="PostgreSQL random seed, -1 to 1.")
        parser.add_argument("--member-share", type=float, default=mix.MEMBER_SHARE, help="Shoppers who are members.")
        parser.add_argument("--code-share", type=float, default=mix.CODE_SHARE, help="Members carrying a code.")
        parser.add_argument("--points-share", type=float, default=mix.POINTS_SHARE, help="Members with points.")
        parser.add_argument("--points", type=int, default=5000, help="Spendable points of a member who has some.")
        parser.add_argument("--coupon-budget", type=int, default=1000, help="Redemptions the campaign may give.")
        parser.add_argument("--out", required=True, help="Where to write the plan (JSON).")

    def handle(self, *args: Any, **options: Any) -> None:
        sizes = ("stores", "products", "partners", "partner_stores", "partner_products", "shoppers", "capacity")
        if any(options[name] < 1 for name in sizes) or options["on_hand"] < 2:
            raise CommandError("Every size must be positive (--on-hand at least 2).")
        if not options["prefix"].isalnum() or 1440 % options["slot_minutes"]:
            raise CommandError("--prefix is letters and digits; --slot-minutes divides a day.")
        shares = ("member_share", "code_share", "points_share")
        if any(not 0 <= options[name] <= 1 for name in shares) or options["coupon_budget"] < 1:
            raise CommandError("--member-share, --code-share and --points-share are in [0, 1]; --coupon-budget >= 1.")
        if Location.objects.filter(code__startswith=f"{options['prefix']}-").exists():
            raise CommandError(f"A region with prefix {options['prefix']} is already seeded; pick another --prefix.")
        with transaction.atomic():
            partners = _partners(options["prefix"], options["partners"])
            _locations_and_stock(options, [p.pk for p in partners])
            plan = _clients_and_tokens(options, partners)
            plan["loyalty"] = _loyalty(options, plan["stores"])
            with connection.cursor() as cursor:
                cursor.execute(_ANALYZE)
        plan.update(_region_plan(options["prefix"], partners, plan.pop("partner_tokens")))
        Path(options["out"]).write_text(json.dumps(plan))
        loyalty = plan["loyalty"]
        self.stdout.write(
            f"seeded {len(plan['stores'])} stores, {len(plan['products'])} products, {len(partners)} partners, "
            f"{len(plan['shopper_tokens'])} shoppers ({len(loyalty['members'])} loyalty members, "
            f"{sum(1 for m in loyalty['members'] if m['code'])} with a code, budget {options['coupon_budget']}); "
            f"slots for {plan['dates'][0]} and {plan['dates'][1]}"
        )


def _partners(prefix: str, count: int) -> list[Partner]:
    return Partner.objects.bulk_create(
        [Partner(name=f"Partner {index}", slug=f"{prefix.lower()}-partner-{index:02d}") for index in range(count)]
    )


def _locations_and_stock(options: dict[str, Any], partner_ids: list[int]) -> None:
    prefix, like = options["prefix"], f"{options['prefix']}-%"
    box: dict[str, Any] = {
        "lat": CENTRE[0],
        "lng": CENTRE[1],
        "dlat": HALF_BOX[0],
        "dlng": HALF_BOX[1],
        "tz": TIME_ZONE,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [options["seed"]])
        cursor.execute(
            _STORES,
            {**box, "prefix": prefix, "store": LocationKind.STORE, "hours": json.dumps(OPENING_HOURS),
             "count": options["stores"]},
        )  # fmt: skip
        cursor.execute(
            _PARTNER_STORES,
            {**box, "prefix": prefix, "kind": LocationKind.PARTNER_STORE, "partners": partner_ids,
             "count": options["partner_stores"]},
        )  # fmt: skip
        products = {"prefix": prefix, "categories": list(CATEGORIES)}
        cursor.execute(_PRODUCTS, {**products, "owners": [None], "count": options["products"]})
        cursor.execute(_PRODUCTS, {**products, "owners": partner_ids, "count": options["partner_products"]})
        cursor.execute(_LEVELS, {"like": like, "on_hand": options["on_hand"]})
        cursor.execute(_LEDGER, {"like": like})
        cursor.execute(_SCHEDULES, {"like": like, "store": LocationKind.STORE})
        slots = {"like": like, "minutes": options["slot_minutes"], "capacity": options["capacity"]}
        cursor.execute(_WINDOWS, slots)
        cursor.execute(_SLOTS, {**slots, "store": LocationKind.STORE})
        cursor.execute(_RELEASES, {"like": like})
        cursor.execute(_SENSORS, {"like": like, "store": LocationKind.STORE, "kind": SensorKind.ENTRANCE})


def _clients_and_tokens(options: dict[str, Any], partners: list[Partner]) -> dict[str, Any]:
    """Clients in one bulk INSERT, their store bindings in another, and a
    token each (shoppers: a user and a token each) in a third."""
    prefix = options["prefix"]
    stores = list(Location.objects.filter(code__startswith=f"{prefix}-S", kind=LocationKind.STORE).order_by("pk"))
    # One hash for every client, of a secret thrown away: make_password runs once, not per client.
    unusable = make_password(secrets.token_urlsafe(32), hasher=oauth2_settings.CLIENT_SECRET_HASHER)

    def client(kind: str, name: str, partner: Partner | None = None) -> ApiClient:
        public = kind == CallerKind.SHOPPER
        return ApiClient(
            name=name,
            kind=kind,
            partner=partner,
            allowed_scopes=SCOPES[kind],
            default_scopes=SCOPES[kind],
            authorization_grant_type=AbstractApplication.GRANT_AUTHORIZATION_CODE
            if public
            else AbstractApplication.GRANT_CLIENT_CREDENTIALS,
            client_type=AbstractApplication.CLIENT_PUBLIC if public else AbstractApplication.CLIENT_CONFIDENTIAL,
            client_secret="" if public else unusable,
            redirect_uris="https://shop.example/callback" if public else "",
            rate_limit_tier="internal",
            skip_authorization=public,
            algorithm="",
        )

    operator, shopper_app = (
        client(CallerKind.OPERATOR, f"{prefix} operator"),
        client(CallerKind.SHOPPER, f"{prefix} app"),
    )
    staff = [client(CallerKind.STORE, f"{store.code} staff") for store in stores]
    devices = [client(CallerKind.DEVICE, f"{store.code} sensors") for store in stores]
    partner_clients = [client(CallerKind.PARTNER, f"{p.slug} system", p) for p in partners]
    ApiClient.objects.bulk_create([operator, shopper_app, *staff, *devices, *partner_clients])
    ClientLocation.objects.bulk_create(
        [
            ClientLocation(client=bound, location=store)
            for store, staff_client, device in zip(stores, staff, devices, strict=True)
            for bound in (staff_client, device)
        ]
    )
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"{prefix.lower()}-shopper-{index:05d}") for index in range(options["shoppers"])]
    )
    issued = _tokens([(operator, None), *((c, None) for c in [*staff, *devices, *partner_clients])])
    shopper_tokens = _tokens([(shopper_app, user) for user in users])
    return {
        "operator_token": issued[0],
        "stores": [
            {
                "id": store.pk,
                "code": store.code,
                "lat": float(store.latitude or 0),
                "lng": float(store.longitude or 0),
                "staff_token": issued[1 + index],
                "device_token": issued[1 + len(stores) + index],
                "sensors": [f"{store.code}-E1", f"{store.code}-E2"],
            }
            for index, store in enumerate(stores)
        ],
        "partner_tokens": issued[1 + 2 * len(stores) :],
        "shopper_tokens": shopper_tokens,
    }


def _loyalty(options: dict[str, Any], stores: list[dict[str, Any]]) -> dict[str, Any]:
    """The program, its members (a share of the shoppers, by shopper index),
    their points and the Black Friday campaign with its codes; what the
    scenario needs of it."""
    prefix, shoppers = options["prefix"], options["shoppers"]
    rng = random.Random(shoppers)
    program = bench_program(code=f"{prefix.lower()}-club", name=f"Black Friday club {prefix}")
    indexes = sorted(rng.sample(range(shoppers), k=round(shoppers * options["member_share"])))
    users = dict(
        get_user_model().objects.filter(username__startswith=f"{prefix.lower()}-shopper-").values_list("username", "pk")
    )
    first = Member.objects.count()
    members = Member.objects.bulk_create(
        [
            Member(
                program=program,
                user_id=users[f"{prefix.lower()}-shopper-{index:05d}"],
                card_number=_card(first + position),
                home_store_id=stores[index % len(stores)]["id"],
            )
            for position, index in enumerate(indexes)
        ]
    )
    holders = set(rng.sample(range(len(members)), k=round(len(members) * options["points_share"])))
    earned_at = timezone.now() - dt.timedelta(days=program.pending_days + 2)  # past the return window: spendable
    for position in sorted(holders):
        member = members[position]
        points_earn(program=program, member_id=member.pk, points=options["points"],
                    source=f"seed:{member.card_number}", earned_at=earned_at)  # fmt: skip
    codes = _black_friday_codes(program, prefix, rng, len(members), options)
    return {
        "program": program.code,
        "campaign_id": codes["campaign_id"],
        "members": [
            {"shopper": index, "card": member.card_number, "code": codes["by_member"][position],
             "points": options["points"] if position in holders else 0}
            for position, (index, member) in enumerate(zip(indexes, members, strict=True))
        ],
    }  # fmt: skip


def _black_friday_codes(
    program: Program, prefix: str, rng: random.Random, members: int, options: dict[str, Any]
) -> dict[str, Any]:
    """The campaign (5 EUR off 40 EUR, a total budget), its public code and
    single-use codes, and which member carries which (None: no code)."""
    campaign = active_campaign(
        program,
        "Black Friday: 5 EUR off 40 EUR",
        benefit=BenefitKind.AMOUNT_OFF_BASKET,
        benefit_amount=mix.COUPON_DISCOUNT,
        min_basket_amount=mix.COUPON_MINIMUM,
    )
    budget = options["coupon_budget"]
    CampaignBudget.objects.create(
        campaign=campaign, scope=BudgetScope.TOTAL, limit_count=budget, limit_amount=mix.COUPON_DISCOUNT * budget
    )
    carriers = rng.sample(range(members), k=round(members * options["code_share"]))
    public = f"{prefix}FRIDAY"
    single_use = [f"{prefix}-FRIDAY-{n:05d}" for n in range(len(carriers[1::2]))]
    coupon_codes_create(campaign, public=public, single_use=single_use)
    by_member: list[str | None] = [None] * members
    for position in carriers[0::2]:
        by_member[position] = public
    for position, code in zip(carriers[1::2], single_use, strict=True):
        by_member[position] = code
    return {"campaign_id": campaign.pk, "by_member": by_member}


def _card(number: int) -> str:
    """The ``number``-th bench card: an EAN-13 in the in-store range 29, check digit included."""
    body = f"29{number:010d}"
    return body + str(ean13_check_digit(body))


def _tokens(holders: list[tuple[ApiClient, Any]]) -> list[str]:
    """A bearer token for each (client, user), valid for the day, in one bulk INSERT."""
    access_token = get_access_token_model()
    expires = timezone.now() + dt.timedelta(hours=12)
    raws, rows = [], []
    for app, user in holders:
        raw = secrets.token_urlsafe(32)
        row = access_token(application=app, user=user, scope=app.default_scopes, expires=expires)
        set_token_value(row, raw)
        raws.append(raw)
        rows.append(row)
    access_token.objects.bulk_create(rows, batch_size=2000)
    return raws


def _region_plan(prefix: str, partners: list[Partner], tokens: list[str]) -> dict[str, Any]:
    products = [
        {"id": pk, "sku": sku, "category": category, "price": str(price)}
        for pk, sku, category, price in Product.objects.filter(owner=None, sku__startswith=f"{prefix}-")
        .order_by("pk")
        .values_list("id", "sku", "category", "price_amount")
    ]
    partner_plan = []
    for partner, token in zip(partners, tokens, strict=True):
        codes = list(Location.objects.filter(owner=partner).order_by("pk").values_list("code", flat=True))
        skus = list(Product.objects.filter(owner=partner).order_by("pk").values_list("sku", flat=True))
        partner_plan.append({"id": partner.pk, "slug": partner.slug, "token": token, "locations": codes, "skus": skus})
    dates = sorted({str(day) for day in PickupSlot.objects.filter(store__code__startswith=f"{prefix}-S")
                    .values_list("local_date", flat=True).distinct()})  # fmt: skip
    return {
        "prefix": prefix,
        "centre": list(CENTRE),
        "half_box": list(HALF_BOX),
        "dates": dates,
        "categories": list(CATEGORIES),
        "products": products,
        "skus": {str(row["id"]): row["sku"] for row in products},
        "partners": partner_plan,
    }
