"""The plain-SQL reads of one order (``commerce.selectors.order_pk`` and
``order_get``) against the ORM: they find exactly the orders
``orders_visible_to`` shows, for every kind of caller, and ``order_get``
builds the order, its store, slot, loyalty part, lines and history (with
its actors) as the ORM query it replaced built them, so that the answers of
the order detail and of a status change stay the same, without a lazy read."""

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from commerce.api.v1.serializers import OrderOutput
from commerce.errors import ObjectNotFound
from commerce.models import Order, OrderLine, OrderStatus, OrderStatusChange, RecommendationImpression
from commerce.selectors import order_get, order_pk, orders_visible_to
from commerce.services.lifecycle import Actor, order_transition
from commerce.services.orders import order_events
from loyalty.models import SourceKind
from loyalty.selectors.redemptions import source_redemptions
from partners.callers import Caller
from partners.models import CallerKind, Event
from tests.commerce.factories import open_slot, shopper, stocked_product, store_with_schedule
from tests.commerce.test_orders import place
from tests.factories import PartnerFactory, make_client
from tests.loyalty.factories import TOTAL, MemberFactory, ProgramFactory, campaign, code

pytestmark = pytest.mark.django_db


def _orm_order(public_id: uuid.UUID) -> Order:
    """The order as the ORM selector read it before the plain statement."""
    order = (
        Order.objects.select_related("store", "slot", "program", "member")
        .prefetch_related(
            "lines", Prefetch("history", queryset=OrderStatusChange.objects.select_related("actor_client"))
        )
        .get(public_id=public_id)
    )
    if order.program_id is not None:
        order.redemptions = source_redemptions(  # type: ignore[attr-defined]
            source_kind=SourceKind.ORDER, source_reference=f"order:{order.public_id}"
        )
    return order


@pytest.mark.parametrize(
    "who",
    ["operator", "own_store", "other_store", "unbound_store", "alice", "bob", "anonymous_shopper", "partner", "device"],
)
def test_the_plain_reads_see_what_the_selector_sees(app, store, slot, apples, who) -> None:
    alice, bob = shopper(app), shopper(app)
    other_store = store_with_schedule()
    orders = [
        place(alice[0], {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]}).json()["id"],
        place(bob[0], {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 1}]}).json()["id"],
        place(
            alice[0],
            {
                "slot_id": open_slot(other_store).pk,
                "lines": [{"product_id": stocked_product(other_store).pk, "quantity": 1}],
            },
        ).json()["id"],
    ]
    callers = {
        "operator": lambda: Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset()),
        "own_store": lambda: Caller(client=make_client(CallerKind.STORE, store=store), scopes=frozenset()),
        "other_store": lambda: Caller(client=make_client(CallerKind.STORE, store=other_store), scopes=frozenset()),
        "unbound_store": lambda: Caller(client=make_client(CallerKind.STORE), scopes=frozenset()),
        "alice": lambda: Caller(client=app, scopes=frozenset(), user_id=alice[1].pk),
        "bob": lambda: Caller(client=app, scopes=frozenset(), user_id=bob[1].pk),
        "anonymous_shopper": lambda: Caller(client=app, scopes=frozenset()),
        "partner": lambda: Caller(client=make_client(CallerKind.PARTNER), scopes=frozenset()),
        "device": lambda: Caller(client=make_client(CallerKind.DEVICE, store=store), scopes=frozenset()),
    }
    caller = callers[who]()
    expected = {str(public_id) for public_id in orders_visible_to(caller=caller).values_list("public_id", flat=True)}
    assert expected <= set(orders)
    seen_pk, seen_get = set(), set()
    for public_id in [*orders, str(uuid.uuid4())]:
        try:
            pk = order_pk(caller=caller, order_id=uuid.UUID(public_id))
        except ObjectNotFound:
            pass
        else:
            assert pk == Order.objects.get(public_id=public_id).pk
            seen_pk.add(public_id)
        try:
            order = order_get(caller=caller, order_id=uuid.UUID(public_id))
        except ObjectNotFound:
            pass
        else:
            assert str(order.public_id) == public_id
            seen_get.add(public_id)
    assert seen_pk == seen_get == expected
    if who in ("operator", "own_store", "alice"):
        assert expected, "a caller that sees orders must see some here"


def test_the_plain_read_builds_what_the_orm_read_builds(app, store, slot, store_client) -> None:
    # given a member's order with a coupon, two lines (one from a
    # recommendation), moved by the store and then cancelled by the system
    alice = shopper(app)
    program = ProgramFactory.create(code="club", earn_rate=Decimal(1), burn_rate=Decimal("0.01"))
    member = MemberFactory.create(program=program, user=alice[1])
    code(campaign(program, min_basket_amount=Decimal("100.00"), budgets=[(TOTAL, 100, "1000.00")]), "DIX")
    wine = stocked_product(store, on_hand=50, price="12.00", name_fr="Vin", name_en="Wine", category="wine")
    bread = stocked_product(store, on_hand=50, price="1.35", name_fr="Pain")
    body: dict[str, Any] = {
        "slot_id": slot.pk,
        "lines": [{"product_id": wine.pk, "quantity": 10}, {"product_id": bread.pk, "quantity": 3}],
        "loyalty": {"codes": ["DIX"]},
    }
    placed = place(alice[0], body)
    assert placed.status_code == 201, placed.json()
    order_id = Order.objects.get(public_id=placed.json()["id"]).pk
    assert Order.objects.get(pk=order_id).member_id == member.pk
    impression = RecommendationImpression.objects.create(id=uuid.uuid4(), store=store, client=app, items=[])
    OrderLine.objects.filter(order_id=order_id, product=bread).update(
        recommendation=impression, recommendation_kind="upsell", recommendation_source="curated"
    )
    order_transition(order_id=order_id, to_status=OrderStatus.PREPARING, actor=Actor(client=store_client))
    order_transition(order_id=order_id, to_status=OrderStatus.CANCELLED, actor=Actor(), reason="no stock left")
    public_id = uuid.UUID(placed.json()["id"])
    operator = Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset())
    # when the order is read by the plain statement and by the ORM
    order = order_get(caller=operator, order_id=public_id)
    expected = _orm_order(public_id)
    # then every field and related row is the same, of the same type
    assert _fields(order) == _fields(expected)
    assert (order.store.code, order.slot.starts_at, order.slot.ends_at) == (
        expected.store.code,
        expected.slot.starts_at,
        expected.slot.ends_at,
    )
    assert (order.program.code, order.member.card_number) == ("club", member.card_number)  # type: ignore[union-attr]
    lines, expected_lines = list(order.lines.all()), list(expected.lines.order_by("id"))
    assert [_fields(line) for line in lines] == [_fields(line) for line in expected_lines]
    assert any(line.recommendation_id is not None for line in lines)
    history, expected_history = list(order.history.all()), list(expected.history.order_by("at", "id"))
    assert [_fields(change) for change in history] == [_fields(change) for change in expected_history]
    assert [(c.actor_client.kind, c.actor_client.client_id) if c.actor_client else None for c in history] == [
        (app.kind, app.client_id),
        (store_client.kind, store_client.client_id),
        None,
    ]
    # and the answer is the same bytes, rendered without a further read
    with CaptureQueriesContext(connection) as queries:
        rendered = JSONRenderer().render(OrderOutput().to_representation(order))
    assert queries.captured_queries == []
    assert rendered == JSONRenderer().render(OrderOutput().to_representation(expected))
    assert b'"code":"DIX"' in rendered


def test_an_order_without_loyalty_reads_the_same(alice, slot, apples) -> None:
    placed = place(alice[0], {"slot_id": slot.pk, "lines": [{"product_id": apples.pk, "quantity": 2}]}).json()
    public_id = uuid.UUID(placed["id"])
    caller = Caller(client=make_client(CallerKind.OPERATOR), scopes=frozenset())
    order = order_get(caller=caller, order_id=public_id)
    assert (order.program, order.member) == (None, None)
    assert _fields(order) == _fields(_orm_order(public_id))
    rendered = JSONRenderer().render(OrderOutput().to_representation(order))
    assert rendered == JSONRenderer().render(OrderOutput().to_representation(_orm_order(public_id)))
    assert rendered.count(b'"quantity":2') == 1


def _fields(instance: Any) -> list[tuple[str, Any, type]]:
    return [
        (field.attname, getattr(instance, field.attname), type(getattr(instance, field.attname)))
        for field in instance._meta.concrete_fields
    ]


def test_a_status_change_writes_the_events_the_orm_read_order_gives(app, store, slot, store_client) -> None:
    # given an order of three lines, two of a partner's products
    partner = PartnerFactory.create()
    products = [stocked_product(store, owner=partner), stocked_product(store), stocked_product(store, owner=partner)]
    body = {"slot_id": slot.pk, "lines": [{"product_id": p.pk, "quantity": i + 1} for i, p in enumerate(products)]}
    placed = place(shopper(app)[0], body)
    assert placed.status_code == 201, placed.json()
    order = Order.objects.get(public_id=placed.json()["id"])
    # when the store moves it on
    before = Event.objects.count()
    order_transition(order_id=order.pk, to_status=OrderStatus.PREPARING, actor=Actor(client=store_client))
    # then the events are those of the order and lines as the ORM reads them (lines as placed)
    order = Order.objects.select_related("store", "slot").get(pk=order.pk)
    lines = list(OrderLine.objects.filter(order=order).select_related("product").order_by("id"))
    expected = order_events(
        "order.status_changed",
        order=order,
        owners={line.product_id: line.product.owner_id for line in lines},
        lines=lines,
        extra={"previous_status": "placed"},
    )
    written = list(Event.objects.filter(type="order.status_changed").order_by("id"))
    assert Event.objects.count() == before + 2
    assert [(e.partner_id, e.subject, e.payload) for e in written] == [
        (e.partner_id, e.subject, e.payload) for e in expected
    ]
    assert [line["product_id"] for line in written[1].payload["lines"]] == [products[0].pk, products[2].pk]
