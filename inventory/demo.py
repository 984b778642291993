"""Demo locations: a few stores in their real time zones and partner warehouses."""

from decimal import Decimal
from typing import Any

from django.core.management.base import OutputWrapper

from inventory.models import Location, LocationKind
from inventory.services import client_location_bind
from partners.models import ApiClient, Partner

_HOURS = {str(day): [["08:30", "20:30"]] for day in range(1, 7)} | {"7": [["09:00", "13:00"]]}

DEMO_LOCATIONS: list[dict[str, Any]] = [
    {
        "code": "PAR01",
        "name": "Paris Bastille",
        "kind": LocationKind.STORE,
        "city": "Paris",
        "postal_code": "75011",
        "latitude": Decimal("48.853100"),
        "longitude": Decimal("2.369100"),
        "click_and_collect": True,
    },
    {
        "code": "PAR02",
        "name": "Paris Montparnasse",
        "kind": LocationKind.STORE,
        "city": "Paris",
        "postal_code": "75014",
        "latitude": Decimal("48.842100"),
        "longitude": Decimal("2.321900"),
        "click_and_collect": True,
    },
    {
        "code": "LYO01",
        "name": "Lyon Part-Dieu",
        "kind": LocationKind.STORE,
        "city": "Lyon",
        "postal_code": "69003",
        "latitude": Decimal("45.760600"),
        "longitude": Decimal("4.859700"),
        "click_and_collect": True,
    },
    {
        "code": "ACME-WH1",
        "name": "Acme Foods Rungis warehouse",
        "kind": LocationKind.WAREHOUSE,
        "owner": "acme-foods",
        "city": "Rungis",
        "latitude": Decimal("48.746800"),
        "longitude": Decimal("2.348900"),
        "lead_time_days": 2,
    },
    {
        "code": "FRESH-PS1",
        "name": "Fresh Farm shop Versailles",
        "kind": LocationKind.PARTNER_STORE,
        "owner": "fresh-farm",
        "city": "Versailles",
        "latitude": Decimal("48.804900"),
        "longitude": Decimal("2.130100"),
        "lead_time_days": 1,
    },
]

DEMO_BINDINGS = [("demo-store-par01", "PAR01"), ("demo-device-par01", "PAR01")]


def load(*, stdout: OutputWrapper, options: dict[str, Any]) -> None:
    for spec in DEMO_LOCATIONS:
        data = dict(spec)
        owner = data.pop("owner", None)
        data["owner"] = Partner.objects.get(slug=owner) if owner else None
        data.setdefault("opening_hours", _HOURS)
        Location.objects.update_or_create(code=data.pop("code"), defaults=data)
    for client_id, code in DEMO_BINDINGS:
        client_location_bind(
            client=ApiClient.objects.get(client_id=client_id), location=Location.objects.get(code=code)
        )
    stdout.write(f"  {len(DEMO_LOCATIONS)} demo locations; store clients act for PAR01")
