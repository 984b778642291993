"""Input and output shapes of click-and-collect (interface only)."""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commerce.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    PickupSlot,
    SlotException,
    SlotHold,
    SlotSchedule,
    SlotWindow,
    order_subtotal,
)
from gateway.api.instants import instant_text
from gateway.api.money import MoneySerializer, money
from gateway.api.strict import (
    StrictBooleanField,
    StrictCharField,
    StrictInput,
    StrictIntegerField,
    StrictRegexField,
)
from loyalty.formats import CARD_NUMBER_PATTERN, CODE_PATTERN, MAX_CODES, SLUG_PATTERN
from loyalty.models import RedemptionState, is_valid_card_number

MAX_ORDER_LINES = 100
MAX_LINE_QUANTITY = 999
# Beside store_id, which stays for the clients that read it: the code is what
# every endpoint takes (commerce.api.v1.stores).
STORE_CODE_HELP = "The store's code, what every endpoint takes to name it."


# ---------------------------------------------------------------- slots


class PickupSlotOutput(serializers.ModelSerializer[PickupSlot]):
    remaining = serializers.IntegerField(help_text="Orders the slot can still take (expired holds not counted).")
    time_zone = serializers.CharField(source="store.time_zone", help_text="The store's IANA time zone.")
    store_code = serializers.CharField(source="store.code", help_text=STORE_CODE_HELP)

    class Meta:
        model = PickupSlot
        fields = [
            "id",
            "store_id",
            "store_code",
            "local_date",
            "starts_at",
            "ends_at",
            "time_zone",
            "capacity",
            "remaining",
        ]


# The columns ``pickup_slot_rows`` reads (``values()`` of an open-slots query).
PICKUP_SLOT_ROW = ("id", "store_id", "local_date", "starts_at", "ends_at", "capacity", "remaining")


def pickup_slot_rows(slots: Iterable[Mapping[str, Any]], *, store_code: str, time_zone: str) -> list[dict[str, Any]]:
    """``PickupSlotOutput``'s representation of one store's slots, from rows
    of ``PICKUP_SLOT_ROW``: the slot list is a hot read, and the serializer's
    per-field machinery and the store's row on every slot cost more than the
    query (15 ms of CPU for a list of 50 slots against 4). The serializer stays
    the contract (the schema is generated from it); tests/commerce/
    test_slot_rows.py holds the two equal, key for key and in order."""
    return [
        {
            "id": row["id"],
            "store_id": row["store_id"],
            "store_code": store_code,
            "local_date": row["local_date"].isoformat(),
            "starts_at": instant_text(row["starts_at"]),
            "ends_at": instant_text(row["ends_at"]),
            "time_zone": time_zone,
            "capacity": row["capacity"],
            "remaining": row["remaining"],
        }
        for row in slots
    ]


class PickupSlotStaffOutput(serializers.ModelSerializer[PickupSlot]):
    closed = serializers.BooleanField(source="is_closed")
    store_code = serializers.CharField(source="store.code", help_text=STORE_CODE_HELP)

    class Meta:
        model = PickupSlot
        fields = [
            "id",
            "store_id",
            "store_code",
            "local_date",
            "starts_at",
            "ends_at",
            "release_at",
            "capacity",
            "booked",
            "held",
            "closed",
            "version",
            "updated_at",
        ]


class PickupSlotUpdateInput(StrictInput):
    capacity = StrictIntegerField(min_value=0, max_value=100_000, required=False)
    closed = StrictBooleanField(required=False, help_text="Closed slots take no new orders or holds.")


# ---------------------------------------------------------------- holds


class SlotHoldCreateInput(StrictInput):
    slot_id = StrictIntegerField(min_value=1)


class SlotHoldOutput(serializers.ModelSerializer[SlotHold]):
    id = serializers.UUIDField(source="public_id")

    class Meta:
        model = SlotHold
        fields = ["id", "slot_id", "state", "expires_at"]


# ---------------------------------------------------------------- orders


class OrderLineInput(StrictInput):
    product_id = StrictIntegerField(min_value=1)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    recommendation_id = serializers.UUIDField(
        required=False,
        help_text="The recommendations answer this product was taken from (its `recommendation_id`); it must have "
        "offered this product. Counted by the recommendation analytics.",
    )


class OrderLoyaltyInput(StrictInput):
    program = StrictRegexField(
        SLUG_PATTERN, required=False, help_text="The program's code (default: the one active in the order's currency)."
    )
    card_number = StrictRegexField(
        CARD_NUMBER_PATTERN,
        required=False,
        help_text="The EAN-13 card presented (default: the customer's own membership; a shopper's must be theirs).",
    )
    codes = serializers.ListField(
        child=StrictRegexField(CODE_PATTERN),
        required=False,
        default=list,
        max_length=MAX_CODES,
        help_text="Coupon codes entered. Each must apply, or the order is refused naming the code and why.",
    )
    points = StrictIntegerField(
        min_value=0,
        max_value=100_000_000,
        required=False,
        default=0,
        help_text="Points to pay part of the order with (the member's active points; worth the program's burn rate).",
    )

    def validate_card_number(self, value: str) -> str:
        if not is_valid_card_number(value):
            raise serializers.ValidationError(_("The card number's check digit is wrong."), code="invalid_check_digit")
        return value


class OrderCreateInput(StrictInput):
    slot_id = StrictIntegerField(min_value=1, required=False, help_text="The slot to book; or give hold_id.")
    hold_id = serializers.UUIDField(required=False, help_text="A hold of yours to turn into the booking.")
    customer_id = StrictIntegerField(
        min_value=1, required=False, help_text="Store and operator clients: the customer the order is for."
    )
    lines = OrderLineInput(many=True, min_length=1, max_length=MAX_ORDER_LINES)  # type: ignore[call-arg]  # ListSerializer kwargs
    loyalty = OrderLoyaltyInput(
        required=False,
        help_text="Coupons, the member and points: priced and reserved in the order's transaction.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("slot_id" in attrs) == ("hold_id" in attrs):
            raise serializers.ValidationError({"slot_id": [_("Give either slot_id or hold_id.")]})
        seen: set[int] = set()
        for index, line in enumerate(attrs["lines"]):
            if line["product_id"] in seen:
                raise serializers.ValidationError(
                    {f"lines.{index}.product_id": [_("Each product appears once; add up the quantities.")]}
                )
            seen.add(line["product_id"])
        return attrs


class OrderLineOutput(serializers.ModelSerializer[OrderLine]):
    name = serializers.SerializerMethodField()
    unit_price = serializers.SerializerMethodField()
    line_total = serializers.SerializerMethodField(help_text="Quantity times the unit price, before the discount.")
    discount = serializers.SerializerMethodField(help_text="This line's share of the order's discounts.")
    recommendation_id = serializers.UUIDField(
        allow_null=True, help_text="The recommendations answer the line was taken from, if the app said so."
    )

    class Meta:
        model = OrderLine
        fields = ["product_id", "sku", "name", "quantity", "unit_price", "line_total", "discount", "recommendation_id"]

    def get_name(self, line: OrderLine) -> str:
        return line.name_en if get_language() == "en" and line.name_en else line.name_fr

    @extend_schema_field(MoneySerializer)
    def get_unit_price(self, line: OrderLine) -> dict[str, Any]:
        return money(line.unit_price_amount, line.order.currency)

    @extend_schema_field(MoneySerializer)
    def get_line_total(self, line: OrderLine) -> dict[str, Any]:
        return money(line.line_total_amount, line.order.currency)

    @extend_schema_field(MoneySerializer)
    def get_discount(self, line: OrderLine) -> dict[str, Any]:
        return money(line.discount_amount, line.order.currency)


class OrderActorOutput(serializers.Serializer[Any]):
    kind = serializers.CharField(help_text="operator, store, shopper, partner, or system (automatic changes).")
    client_id = serializers.CharField(allow_null=True)
    user_id = serializers.IntegerField(allow_null=True)


class OrderStatusChangeOutput(serializers.ModelSerializer[OrderStatusChange]):
    from_status = serializers.CharField(help_text="The status before; empty for the order's creation.")
    to_status = serializers.ChoiceField(choices=OrderStatus.choices)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "at", "actor", "reason"]

    @extend_schema_field(OrderActorOutput)
    def get_actor(self, change: OrderStatusChange) -> dict[str, Any]:
        client = change.actor_client
        return {
            "kind": client.kind if client is not None else "system",
            "client_id": client.client_id if client is not None else None,
            "user_id": change.actor_user_id,
        }


class OrderSlotOutput(serializers.ModelSerializer[PickupSlot]):
    class Meta:
        model = PickupSlot
        fields = ["id", "starts_at", "ends_at"]


class OrderSummaryOutput(serializers.ModelSerializer[Order]):
    id = serializers.UUIDField(source="public_id")
    store = serializers.CharField(source="store.code", help_text="Store code.")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    slot = OrderSlotOutput()
    subtotal = serializers.SerializerMethodField(help_text="The lines at catalogue price.")
    discount = serializers.SerializerMethodField(help_text="Coupons and offers (zero without).")
    total = serializers.SerializerMethodField(help_text="What is paid in money: subtotal less discount and points.")

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "store_id",
            "store",
            "slot",
            "customer_id",
            "item_count",
            "subtotal",
            "discount",
            "total",
            "version",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(MoneySerializer)
    def get_subtotal(self, order: Order) -> dict[str, Any]:
        return money(order.subtotal_amount, order.currency)

    @extend_schema_field(MoneySerializer)
    def get_discount(self, order: Order) -> dict[str, Any]:
        return money(order.discount_amount, order.currency)

    @extend_schema_field(MoneySerializer)
    def get_total(self, order: Order) -> dict[str, Any]:
        return money(order.total_amount, order.currency)


# The columns ``order_summary_rows`` reads (``values()`` of an orders query).
ORDER_SUMMARY_ROW = (
    "public_id",
    "status",
    "store_id",
    "store__code",
    "slot_id",
    "slot__starts_at",
    "slot__ends_at",
    "customer_id",
    "item_count",
    "currency",
    "total_amount",
    "discount_amount",
    "points_amount",
    "version",
    "created_at",
    "updated_at",
)


def order_summary_rows(orders: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``OrderSummaryOutput``'s representation of orders, from rows of
    ``ORDER_SUMMARY_ROW``: the order lists (the store's queue, a shopper's
    orders) are hot reads, and the serializer's per-field machinery and the
    wide order, store and slot rows cost more than the query. The serializer
    stays the contract (the schema is generated from it); tests/commerce/
    test_order_summary_rows.py holds the two equal, key for key and in order."""
    return [
        {
            "id": str(row["public_id"]),
            "status": row["status"],
            "store_id": row["store_id"],
            "store": row["store__code"],
            "slot": {
                "id": row["slot_id"],
                "starts_at": instant_text(row["slot__starts_at"]),
                "ends_at": instant_text(row["slot__ends_at"]),
            },
            "customer_id": row["customer_id"],
            "item_count": row["item_count"],
            "subtotal": money(
                order_subtotal(row["total_amount"], row["discount_amount"], row["points_amount"]), row["currency"]
            ),
            "discount": money(row["discount_amount"], row["currency"]),
            "total": money(row["total_amount"], row["currency"]),
            "version": row["version"],
            "created_at": instant_text(row["created_at"]),
            "updated_at": instant_text(row["updated_at"]),
        }
        for row in orders
    ]


class OrderCouponOutput(serializers.Serializer[Any]):
    campaign_id = serializers.IntegerField()
    campaign = serializers.CharField(help_text="The campaign's name.")
    code = serializers.CharField(allow_null=True, help_text="The code entered; null for an automatic offer.")
    state = serializers.ChoiceField(
        choices=RedemptionState.choices,
        help_text="reserved until the order is collected (confirmed) or cancelled / not collected (released).",
    )
    discount = MoneySerializer()


class OrderLoyaltyOutput(serializers.Serializer[Any]):
    program = serializers.CharField(help_text="The program's code.")
    card_number = serializers.CharField(allow_null=True, help_text="The member's card; null when anonymous.")
    coupons = OrderCouponOutput(many=True)
    points_spent = serializers.IntegerField()
    points_amount = MoneySerializer(help_text="What the points spent paid.")
    points_to_earn = serializers.IntegerField(help_text="Earned (pending) when the order is collected.")


class OrderOutput(OrderSummaryOutput):
    lines = OrderLineOutput(many=True)
    history = OrderStatusChangeOutput(many=True, help_text="Every status the order went through, oldest first.")
    loyalty = serializers.SerializerMethodField(help_text="Null for an order placed without a loyalty part.")

    class Meta(OrderSummaryOutput.Meta):
        fields = [*OrderSummaryOutput.Meta.fields, "lines", "history", "loyalty"]

    @extend_schema_field(OrderLoyaltyOutput(allow_null=True))
    def get_loyalty(self, order: Order) -> dict[str, Any] | None:
        program = order.program
        if program is None:
            return None
        member = order.member
        return {
            "program": program.code,
            "card_number": member.card_number if member is not None else None,
            "coupons": [
                {
                    "campaign_id": r.campaign_id,
                    "campaign": r.campaign.name_fr,
                    "code": r.code.code if r.code is not None else None,
                    "state": r.state,
                    "discount": money(r.discount_amount, r.currency),
                }
                for r in getattr(order, "redemptions", [])
            ],
            "points_spent": order.points_spent,
            "points_amount": money(order.points_amount, order.currency),
            "points_to_earn": order.points_to_earn,
        }


class OrderCustomerOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="What the store calls the customer at the counter.")


class OrderQueueOutput(OrderSummaryOutput):
    lines = OrderLineOutput(many=True)
    customer = serializers.SerializerMethodField()

    class Meta(OrderSummaryOutput.Meta):
        fields = [*OrderSummaryOutput.Meta.fields, "customer", "lines"]

    @extend_schema_field(OrderCustomerOutput)
    def get_customer(self, order: Order) -> dict[str, Any]:
        user = order.customer
        name = user.get_full_name() or user.get_username()
        return {"id": user.pk, "name": name}


class OrderCancelInput(StrictInput):
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


FULFIL_TARGETS = [OrderStatus.PREPARING, OrderStatus.READY, OrderStatus.COLLECTED, OrderStatus.CANCELLED]
# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] (OrderFulfilmentStatusEnum).
FULFIL_TARGET_CHOICES = [(status.value, status.label) for status in FULFIL_TARGETS]


class OrderStatusInput(StrictInput):
    status = serializers.ChoiceField(choices=FULFIL_TARGET_CHOICES)
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


# ---------------------------------------------------------------- schedules


class SlotWindowInput(StrictInput):
    weekday = StrictIntegerField(min_value=1, max_value=7, help_text="ISO weekday, 1 = Monday.")
    opens = serializers.TimeField(format="%H:%M", help_text="First slot starts (store-local).")
    closes = serializers.TimeField(
        format="%H:%M", help_text="Last slot ends (store-local); 00:00 is midnight at the end of the day."
    )
    slot_minutes = StrictIntegerField(min_value=5, max_value=24 * 60)
    capacity = StrictIntegerField(min_value=0, max_value=100_000, help_text="Orders per slot.")


class SlotWindowOutput(serializers.ModelSerializer[SlotWindow]):
    opens = serializers.TimeField(format="%H:%M")
    closes = serializers.TimeField(format="%H:%M")

    class Meta:
        model = SlotWindow
        fields = ["weekday", "opens", "closes", "slot_minutes", "capacity"]


class SlotExceptionInput(StrictInput):
    date = serializers.DateField(help_text="Store-local date.")
    slot_start = serializers.TimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Store-local start of one slot; absent for the whole day.",
    )
    closed = StrictBooleanField(default=False)
    capacity = StrictIntegerField(min_value=0, max_value=100_000, required=False, allow_null=True, default=None)
    note = StrictCharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("closed") and attrs.get("capacity") is None:
            raise serializers.ValidationError({"capacity": [_("Give a capacity, or close the date.")]})
        return attrs


class SlotExceptionOutput(serializers.ModelSerializer[SlotException]):
    slot_start = serializers.TimeField(format="%H:%M", allow_null=True)

    class Meta:
        model = SlotException
        fields = ["id", "date", "slot_start", "closed", "capacity", "note"]


class PickupScheduleInput(StrictInput):
    days_ahead = StrictIntegerField(min_value=0, max_value=60, default=7)
    release_time = serializers.TimeField(
        default=dt.time(0, 0), help_text="Store-local time the slots of D open on D - days_ahead."
    )
    hold_minutes = StrictIntegerField(min_value=1, max_value=120, default=10)
    cancel_cutoff_minutes = StrictIntegerField(min_value=0, max_value=7 * 24 * 60, default=120)
    no_show_grace_minutes = StrictIntegerField(min_value=0, max_value=7 * 24 * 60, default=60)
    is_active = StrictBooleanField(default=True)
    windows = SlotWindowInput(many=True, max_length=70)  # type: ignore[call-arg]  # ListSerializer kwargs


class PickupScheduleOutput(serializers.ModelSerializer[SlotSchedule]):
    windows = SlotWindowOutput(many=True)
    exceptions = SlotExceptionOutput(many=True)
    release_time = serializers.TimeField(format="%H:%M:%S")
    store_code = serializers.CharField(source="store.code", help_text=STORE_CODE_HELP)

    class Meta:
        model = SlotSchedule
        fields = [
            "store_id",
            "store_code",
            "days_ahead",
            "release_time",
            "hold_minutes",
            "cancel_cutoff_minutes",
            "no_show_grace_minutes",
            "is_active",
            "version",
            "windows",
            "exceptions",
            "updated_at",
        ]
