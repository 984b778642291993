"""The hot paths' plain-SQL lookups show exactly what the ORM selectors show,
for every kind of caller: one location by code (``location_visible_by_code``
against ``locations_visible_to``), products by SKU (``products_visible_by_sku``
against ``products_visible_to``), and the store an availability question
names (``availability_store_get`` against the ORM filter it replaced)."""

import pytest

from inventory.models import Location, LocationKind
from inventory.selectors.availability import availability_store_get
from inventory.selectors.callers import STORE_MEMO, store_id_of_caller
from inventory.selectors.locations import location_visible_by_code, locations_visible_to
from inventory.selectors.products import products_visible_by_sku, products_visible_to
from partners.callers import Caller
from partners.models import CallerKind
from tests.factories import LocationFactory, PartnerFactory, make_client
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _places() -> tuple[list[Location], dict[str, object]]:
    mine, theirs = PartnerFactory.create(), PartnerFactory.create()
    own_store = LocationFactory.create(code="OWN01")
    places = [
        own_store,
        LocationFactory.create(code="PUB01"),
        LocationFactory.create(code="SHUT01", is_active=False),
        LocationFactory.create(code="NOCC01", click_and_collect=False),
        LocationFactory.create(code="WH01", kind=LocationKind.WAREHOUSE, click_and_collect=False),
        LocationFactory.create(code="MINE01", kind=LocationKind.PARTNER_STORE, owner=mine),
        LocationFactory.create(code="MINE02", kind=LocationKind.WAREHOUSE, owner=mine, is_active=False),
        LocationFactory.create(code="THEIRS01", kind=LocationKind.PARTNER_STORE, owner=theirs),
        LocationFactory.create(code="OWNEDSTORE", kind=LocationKind.STORE, owner=theirs),
    ]
    return places, {"mine": mine, "own_store": own_store}


@pytest.mark.parametrize("kind", [k for k, _label in CallerKind.choices])
@pytest.mark.parametrize("bound", [True, False])
def test_the_plain_lookup_sees_what_the_selector_sees(kind, bound):
    places, refs = _places()
    store = refs["own_store"] if bound and kind in (CallerKind.STORE, CallerKind.SHOPPER, CallerKind.DEVICE) else None
    partner = refs["mine"] if kind == CallerKind.PARTNER else None
    client = make_client(kind, partner=partner, store=store)  # type: ignore[arg-type]
    caller = Caller(client=client, scopes=frozenset())
    expected = set(locations_visible_to(caller=caller).values_list("code", flat=True))
    seen = {p.code for p in places if location_visible_by_code(caller=caller, code=p.code)}
    assert seen == expected
    assert location_visible_by_code(caller=caller, code="NOWHERE") is None


def test_the_plain_lookup_builds_the_whole_location():
    place = LocationFactory.create(code="FULL01", opening_hours={"1": [["09:00", "19:00"]]}, subdivision="")
    operator = Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset())
    found = location_visible_by_code(caller=operator, code="FULL01")
    assert found is not None
    stored = Location.objects.get(pk=place.pk)
    for field in Location._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
    assert found.opening_hours == {"1": [["09:00", "19:00"]]}


@pytest.mark.parametrize("kind", [k for k, _label in CallerKind.choices])
def test_the_plain_product_lookup_sees_what_the_selector_sees(kind):
    mine, theirs = PartnerFactory.create(), PartnerFactory.create()
    for sku, owner, active in [
        ("RET-1", None, True),
        ("RET-OFF", None, False),
        ("SHARED", None, True),
        ("SHARED", mine, True),
        ("SHARED", theirs, False),
        ("MINE-OFF", mine, False),
        ("THEIRS-1", theirs, True),
    ]:
        ProductFactory.create(sku=sku, owner=owner, is_active=active)
    client = make_client(kind, partner=mine if kind == CallerKind.PARTNER else None)
    caller = Caller(client=client, scopes=frozenset())
    skus = ["RET-1", "RET-OFF", "SHARED", "MINE-OFF", "THEIRS-1", "NOWHERE"]
    expected = sorted(products_visible_to(caller=caller).filter(sku__in=skus).values_list("pk", "sku", "owner_id"))
    seen = sorted((p.product_id, p.sku, p.owner_id) for p in products_visible_by_sku(caller=caller, skus=skus))
    assert seen == expected


@pytest.mark.parametrize("bound", [True, False])
def test_a_store_clients_own_store_is_read_with_the_first_lookup(bound):
    """The statement reads the store a store client acts for along with the
    location; a lookup on a fresh caller and one on a caller that already
    knows its store see the same, and the first leaves the binding known."""
    places, refs = _places()
    client = make_client(CallerKind.STORE, store=refs["own_store"] if bound else None)  # type: ignore[arg-type]
    expected = store_id_of_caller(caller=Caller(client=client, scopes=frozenset()))
    assert expected == (refs["own_store"].pk if bound else None)  # type: ignore[attr-defined]
    knowing = Caller(client=client, scopes=frozenset())
    store_id_of_caller(caller=knowing)
    for place in places:
        fresh = Caller(client=client, scopes=frozenset())
        found = location_visible_by_code(caller=fresh, code=place.code)
        assert (found is None) == (location_visible_by_code(caller=knowing, code=place.code) is None), place.code
        if found is not None:
            assert fresh.memo[STORE_MEMO] == expected


def test_the_availability_store_is_any_active_store_of_the_retailer():
    places, _refs = _places()
    expected = set(
        Location.objects.filter(kind=LocationKind.STORE, is_active=True, owner__isnull=True).values_list(
            "code", flat=True
        )
    )
    seen = {p.code for p in places if availability_store_get(code=p.code) is not None}
    assert seen == expected == {"OWN01", "PUB01", "NOCC01"}
    found = availability_store_get(code="PUB01")
    assert found is not None
    stored = Location.objects.get(code="PUB01")
    for field in Location._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
    assert availability_store_get(code="NOWHERE") is None
