"""Bulk stock sync: up to 5,000 lines a request, set or delta, by SKU and location code."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.api.idempotency import idempotent
from gateway.api.strict import refuse_unknown_fields
from inventory.api.v1.serializers import StockSyncInput, StockSyncOutput
from inventory.errors import SyncBatchTooLarge
from inventory.services.sync import (
    REJECT_ALL,
    SYNC_LINES,
    SYNC_MAX_LINES,
    SYNC_POLICY,
    SYNC_REFERENCE,
    SYNC_REQUEST,
    stock_sync,
)
from partners.callers import caller_from_request


def _body(data: Any) -> tuple[list[Any], str, str]:
    """The batch's envelope, checked with SYNC_REQUEST's rules (the schema is
    written from the same rules): the lines themselves are checked by the
    service, one by one, since a bad line is reported, not refused, under
    ``apply_valid``."""
    if not isinstance(data, dict):
        raise serializers.ValidationError({"lines": [_("Send an object with a list of lines.")]})
    refuse_unknown_fields(data, SYNC_REQUEST.names)
    lines = data.get("lines")
    policy, reference = data.get("error_policy", REJECT_ALL), data.get("reference", "")
    if type(lines) is not list or len(lines) < SYNC_LINES.min_items:
        raise serializers.ValidationError({"lines": [_("A list of 1 to %(max)d lines.") % {"max": SYNC_MAX_LINES}]})
    if len(lines) > SYNC_MAX_LINES:
        raise SyncBatchTooLarge(
            _("%(count)d lines sent; a batch holds at most %(max)d. Send several requests.")
            % {"count": len(lines), "max": SYNC_MAX_LINES},
            extra={"max_lines": SYNC_MAX_LINES},
        )
    if not SYNC_POLICY.accepts(policy):
        raise serializers.ValidationError({"error_policy": [_("reject_all or apply_valid.")]}, code="invalid_choice")
    if not SYNC_REFERENCE.accepts(reference):
        raise serializers.ValidationError(
            {"reference": [_("A string of at most 120 characters, without control characters.")]}
        )
    return lines, policy, reference


class StockSyncView(APIView):
    required_scopes = ["inventory:write"]

    @extend_schema(
        tags=["stock"],
        operation_id="stock_sync",
        summary="Bulk stock sync",
        description=(
            f"Requires `{IDEMPOTENCY_HEADER}`. At most **{SYNC_MAX_LINES} lines** per request; a larger batch is "
            "rejected whole with 413 `batch_too_large` (send several requests). Each line names a SKU and a "
            "location code and carries either `on_hand` (absolute; optionally `expected_on_hand` as a "
            "compare-and-swap guard) or `delta`. A location the caller may not change is `unknown_location`; a "
            "SKU is looked up among the products of the location's owner.\n\n"
            "`error_policy=reject_all` (default): any bad line and nothing is applied (422 `sync_rejected`, "
            "`errors[].field` = `lines.<index>[.<field>]`). `apply_valid`: the good lines are applied and each "
            "bad one is reported in `results` with its code: `invalid_line`, `invalid_sku`, `invalid_location`, "
            "`invalid_quantity`, `quantity_too_large`, `unknown_sku`, `unknown_location`, `duplicate_line`, "
            "`below_reserved`, `insufficient_stock`, `on_hand_mismatch`.\n\n"
            "One ledger movement (reason `sync`) and one `stock.changed` event per changed line; a set to the "
            "current figure is `unchanged` and records nothing."
        ),
        request=StockSyncInput,
        responses={200: StockSyncOutput},
        examples=[
            OpenApiExample(
                "Two lines",
                value={
                    "error_policy": "apply_valid",
                    "lines": [
                        {"sku": "ACME-GRANOLA-500", "location": "ACME-WH1", "on_hand": 120},
                        {"sku": "ACME-MUESLI-750", "location": "ACME-WH1", "delta": -4},
                    ],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Per-line results",
                value={
                    "error_policy": "apply_valid",
                    "applied": 1,
                    "unchanged": 0,
                    "failed": 1,
                    "results": [
                        {
                            "index": 0,
                            "status": "applied",
                            "on_hand": 120,
                            "reserved": 3,
                            "available": 117,
                            "version": 8,
                        },
                        {
                            "index": 1,
                            "status": "failed",
                            "code": "unknown_sku",
                            "field": "lines.1.sku",
                            "message": "No product with this SKU at this location.",
                        },
                    ],
                },
                response_only=True,
            ),
        ],
    )
    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        lines, policy, reference = _body(request.data)
        report = stock_sync(
            caller=caller_from_request(request),
            lines=lines,
            error_policy=policy,
            reference=reference,
            idempotency_key=request.headers.get(IDEMPOTENCY_HEADER, ""),
        )
        return Response(
            {
                "error_policy": policy,
                "applied": report.applied,
                "unchanged": report.unchanged,
                "failed": report.failed,
                "results": report.results,
            }
        )
