"""Till ticket endpoints (``loyalty:redeem``: a store's till, or the operator):
post a ticket, read it, return some of its lines. Thin: the rules live in
loyalty.services.tickets."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.idempotency import idempotent
from gateway.api.problems import FieldInvalid
from gateway.api.strict import validated_body
from loyalty import selectors
from loyalty.api.v1 import ticket_serializers as t
from loyalty.models import Program
from loyalty.selectors.tickets import ensure_till, ticket_get, ticket_store
from loyalty.services.tickets import TicketLine, ticket_record, ticket_return
from partners.callers import Caller, caller_from_request

TAG = ["loyalty"]

_TICKET_EXAMPLE = {
    "program": "demo",
    "store": "PAR01",
    "ticket_id": "T-0042-000981",
    "card_number": "2900000000018",
    "codes": ["BIENVENUE10"],
    "lines": [
        {"sku": "FR-APPLE-1KG", "quantity": 3, "unit_price": "2.49"},
        {"sku": "FR-BREAD", "quantity": 1, "unit_price": "1.20"},
    ],
    "till_time": "2026-12-05T17:42:10+01:00",
}


def _program(caller: Caller, code: str) -> Program:
    program = selectors.program_visible_by_code(caller=caller, code=code)
    if program is None:
        raise FieldInvalid("program", "No such program.", code="unknown_program")
    return program


class TicketCreateView(APIView):
    required_scopes = {"POST": ["loyalty:redeem"]}
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_tickets_create",
        summary="Send a till ticket: its discounts and points",
        description="A store's till (or the operator) sends what it rang up: ticket id, card (optional), codes, "
        "lines at the till's own prices, till time. The ticket is priced as a quote is, at its till time "
        "(campaign windows, weekdays and hours in the program's zone, that day's budgets); the campaigns it gets "
        "are redeemed at once and the member earns the points (pending through the program's return window).\n\n"
        "- **Idempotent by ticket id** (per store): the same ticket again answers 200 with what was recorded; "
        "the same id with other content is 409 `ticket_conflict`.\n"
        "- **Codes never refuse the ticket** (the sale was rung up): each code that does not apply is in "
        "`refused` with its reason (`unknown_code`, `not_for_member`, `expired`, `budget_used_up`, ...).\n"
        "- **Late tickets** (offline tills): a ticket counts up to the program's `late_ticket_days` after its "
        "till time (422 `ticket_too_late` after), in the campaign window of its till time; one more than 5 "
        "minutes ahead of the server's clock is 422 `ticket_in_the_future`. A ticket received more than 10 "
        "minutes after its till time is `late`; when it finds a budget spent, the code is refused "
        "`budget_used_up` with `late: true` and the budget's counters count it (`refused_late`).\n"
        "- A bad card check digit, an unknown SKU, a quantity below 1 are 422 naming the field; nothing is "
        "written.",
        request=t.TicketCreateInput,
        responses={
            201: t.TicketOutput,
            200: OpenApiResponse(t.TicketOutput, description="The same ticket was already recorded."),
        },
        examples=[OpenApiExample("A ticket with a card and a code", request_only=True, value=_TICKET_EXAMPLE)],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        ensure_till(caller=caller)
        fields = validated_body(t.TicketCreateInput, request.data)
        recorded = ticket_record(
            caller=caller,
            program=_program(caller, fields["program"]),
            store=ticket_store(caller=caller, code=fields["store"], field="store"),
            ticket_id=fields["ticket_id"],
            card_number=fields.get("card_number"),
            codes=fields["codes"],
            lines=[TicketLine(line["sku"], line["quantity"], line["unit_price"]) for line in fields["lines"]],
            till_time=fields["till_time"],
        )
        ticket = recorded.ticket
        return Response(
            t.ticket_body(ticket),
            status=201 if recorded.created else 200,
            headers={"Location": f"/api/v1/loyalty/tickets/{ticket.store.code}/{ticket.ticket_id}"},
        )


class TicketDetailView(APIView):
    required_scopes = {"GET": ["loyalty:redeem"]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_tickets_detail",
        summary="A till ticket as recorded, with its returns",
        description="A store reads its own tickets, the operator any (404 otherwise).",
        responses=t.TicketOutput,
    )
    def get(self, request: Request, store: str, ticket_id: str) -> Response:
        ticket = ticket_get(caller=caller_from_request(request), store_code=store, ticket_id=ticket_id)
        return Response(t.ticket_body(ticket))


class TicketReturnView(APIView):
    required_scopes = {"POST": ["loyalty:redeem"]}
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="loyalty_tickets_returns_create",
        summary="Return lines of a till ticket",
        description="Units of the ticket's lines come back: the discount they carried is rolled back (given back "
        "to the campaigns' budgets, within the program's return window: 409 `redemption_state_conflict` after) "
        "and the points they earned are taken back per the program's return policy (`only_pending`, "
        "`within_balance`, `allow_negative`; what the policy does not take is `kept`). Idempotent by "
        "`return_id`: the same return again answers 200, with other lines 409 `return_conflict`. Returning "
        "more units than the ticket sold (all returns together) is 422 `return_exceeds_ticket`.",
        request=t.TicketReturnInput,
        responses={
            201: t.TicketReturnOutput,
            200: OpenApiResponse(t.TicketReturnOutput, description="The same return was already recorded."),
        },
        examples=[
            OpenApiExample(
                "One unit of the first line",
                request_only=True,
                value={"return_id": "R-0042-000017", "lines": [{"line": 0, "quantity": 1}]},
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request: Request, store: str, ticket_id: str) -> Response:
        ticket = ticket_get(caller=caller_from_request(request), store_code=store, ticket_id=ticket_id)
        fields = validated_body(t.TicketReturnInput, request.data)
        recorded = ticket_return(
            ticket=ticket,
            return_id=fields["return_id"],
            lines=[(line["line"], line["quantity"]) for line in fields["lines"]],
        )
        return Response(
            t.return_body(recorded.entry, recorded.ticket.currency), status=201 if recorded.created else 200
        )
