"""Till tickets' request and response bodies (interface only: the rules live
in loyalty.services.tickets)."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from gateway.api.money import MoneySerializer, money
from gateway.api.strict import DecimalStringField, StrictCharField, StrictInput, StrictIntegerField, StrictRegexField
from loyalty import pricing
from loyalty.api.v1.serializers import (
    MAX_BASKET_LINES,
    AppliedOfferOutput,
    CardNumberField,
    StrictDateTimeField,
)
from loyalty.formats import CODE_PATTERN, MAX_CODES, SLUG_PATTERN, reason_message
from loyalty.models import TillTicket

# A ticket id as tills print them: letters, digits, '.', '_', '-' (it is a path segment too).
TICKET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
STORE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


class TicketLineInput(StrictInput):
    sku = StrictCharField(max_length=64, help_text="The product's SKU (the retailer's, else the one partner's).")
    quantity = StrictIntegerField(min_value=1, max_value=10_000, help_text="Units sold (a positive integer).")
    unit_price = DecimalStringField(
        max_digits=12, decimal_places=2, min_value=Decimal(0), help_text="The till's shelf price of one unit."
    )


class TicketCreateInput(StrictInput):
    program = StrictRegexField(SLUG_PATTERN, help_text="The program's code.")
    store = StrictRegexField(STORE_CODE_PATTERN, help_text="The store's code (a store client: its own).")
    ticket_id = StrictRegexField(TICKET_ID_PATTERN, help_text="The till's ticket id, unique in the store.")
    card_number = CardNumberField(required=False)
    codes = serializers.ListField(
        child=StrictRegexField(CODE_PATTERN), required=False, default=list, max_length=MAX_CODES
    )
    lines = TicketLineInput(many=True, min_length=1, max_length=MAX_BASKET_LINES)  # type: ignore[call-arg]  # ListSerializer kwargs
    till_time = StrictDateTimeField(help_text="When the till rang the ticket up (RFC 3339 with offset).")


class TicketReturnLineInput(StrictInput):
    line = StrictIntegerField(min_value=0, max_value=MAX_BASKET_LINES - 1, help_text="The ticket line's index.")
    quantity = StrictIntegerField(min_value=1, max_value=10_000, help_text="Units returned.")


class TicketReturnInput(StrictInput):
    return_id = StrictRegexField(TICKET_ID_PATTERN, help_text="The till's return id: the same id is one return.")
    lines = TicketReturnLineInput(many=True, min_length=1, max_length=MAX_BASKET_LINES)  # type: ignore[call-arg]  # ListSerializer kwargs


class TicketLineOutput(serializers.Serializer[Any]):
    line = serializers.IntegerField(help_text="The line's index in the ticket.")
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneySerializer()
    subtotal = MoneySerializer()
    discount = MoneySerializer()
    total = MoneySerializer()


class TicketRefusedCodeOutput(serializers.Serializer[Any]):
    code = serializers.CharField(
        allow_null=True, help_text="null: an offer without a code that a late ticket lost to its spent budget."
    )
    reason = serializers.ChoiceField(choices=[(r, r) for r in pricing.REASONS])
    message = serializers.CharField()
    campaign_id = serializers.IntegerField(allow_null=True)
    details = serializers.DictField(child=serializers.CharField())
    late = serializers.BooleanField(
        help_text="A late ticket found the budget spent: counted on the budget's counters, not applied."
    )


class TicketPointsOutput(serializers.Serializer[Any]):
    earned = serializers.IntegerField(help_text="Points the member earned (0 without a card).")
    activates_at = serializers.DateTimeField(allow_null=True, help_text="They stay pending until then.")
    expires_at = serializers.DateTimeField(allow_null=True)


class ReturnLineOutput(serializers.Serializer[Any]):
    line = serializers.IntegerField()
    quantity = serializers.IntegerField()
    discount = MoneySerializer(help_text="The discount these units carried, given back to the budgets.")


class ReturnPointsOutput(serializers.Serializer[Any]):
    requested = serializers.IntegerField(help_text="Points the returned units earned.")
    from_pending = serializers.IntegerField()
    from_active = serializers.IntegerField()
    debt = serializers.IntegerField(help_text="Taken beyond the balance (return policy allow_negative).")
    kept = serializers.IntegerField(help_text="Left with the member: the return policy does not take them.")


class TicketReturnOutput(serializers.Serializer[Any]):
    return_id = serializers.CharField()
    received_at = serializers.DateTimeField()
    lines = ReturnLineOutput(many=True)
    discount = MoneySerializer()
    points = ReturnPointsOutput()


class TicketOutput(serializers.Serializer[Any]):
    program = serializers.CharField()
    store = serializers.CharField()
    ticket_id = serializers.CharField()
    card_number = serializers.CharField(allow_null=True)
    till_time = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    late = serializers.BooleanField(help_text="Received more than 10 minutes after its till time.")
    subtotal = MoneySerializer()
    discount = MoneySerializer()
    total = MoneySerializer()
    lines = TicketLineOutput(many=True)
    applied = AppliedOfferOutput(many=True)
    refused = TicketRefusedCodeOutput(many=True)
    points = TicketPointsOutput()
    returns = TicketReturnOutput(many=True)


def _money_of(amount: str, currency: str) -> dict[str, str]:
    return money(Decimal(amount), currency)


def return_body(entry: dict[str, Any], currency: str) -> dict[str, Any]:
    return {
        "return_id": entry["return_id"],
        "received_at": entry["received_at"],
        "lines": [
            {"line": line["line"], "quantity": line["quantity"], "discount": _money_of(line["discount"], currency)}
            for line in entry["lines"]
        ],
        "discount": _money_of(entry["discount"], currency),
        "points": entry["points"],
    }


def ticket_body(ticket: TillTicket) -> dict[str, Any]:
    """The API shape of a recorded ticket (messages in the language served)."""
    cur = ticket.currency
    outcome = ticket.outcome
    return {
        "program": ticket.program.code,
        "store": ticket.store.code,
        "ticket_id": ticket.ticket_id,
        "card_number": ticket.member.card_number if ticket.member else None,
        "till_time": serializers.DateTimeField().to_representation(ticket.till_time),
        "received_at": serializers.DateTimeField().to_representation(ticket.received_at),
        "late": ticket.late,
        "subtotal": money(ticket.subtotal_amount, cur),
        "discount": money(ticket.discount_amount, cur),
        "total": _money_of(outcome["total"], cur),
        "lines": [
            {"line": line["line"], "sku": line["sku"], "quantity": line["quantity"],
             "unit_price": _money_of(line["unit_price"], cur), "subtotal": _money_of(line["subtotal"], cur),
             "discount": _money_of(line["discount"], cur), "total": _money_of(line["total"], cur)}
            for line in outcome["lines"]
        ],
        "applied": [
            {**{k: v for k, v in a.items() if k != "lines"}, "discount": _money_of(a["discount"], cur),
             "lines": [{"key": str(line["line"]), "discount": _money_of(line["discount"], cur)}
                       for line in a["lines"]]}
            for a in outcome["applied"]
        ],
        "refused": [{**r, "message": reason_message(r["reason"])} for r in outcome["refused"]],
        "points": outcome["points"],
        "returns": [return_body(entry, cur) for entry in outcome.get("returns", [])],
    }  # fmt: skip
