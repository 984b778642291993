"""Bulk stock sync: error policies, per-line codes, the batch limit,
idempotent replay, unchanged lines, and the ledger afterwards."""

import json

import pytest
from django.core.management import call_command

from inventory.models import MovementReason, StockLevel, StockMovement
from inventory.selectors.ledger import stock_ledger_mismatches
from inventory.services import SYNC_MAX_LINES
from partners.models import Event
from tests.inventory.factories import ProductFactory, problem

pytestmark = pytest.mark.django_db


def sync(api, lines, policy: str | None = None, key: str = "sync-1", **extra):
    body: dict = {"lines": lines, **extra}
    if policy:
        body["error_policy"] = policy
    return api.post("/api/v1/stock/sync", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def on_hand(location, product) -> int | None:
    return StockLevel.objects.filter(location=location, product=product).values_list("on_hand", flat=True).first()


GOOD = {"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 120}


def test_a_clean_batch_applies_every_line_with_one_movement_and_event_each(network) -> None:
    fresh = ProductFactory.create(owner=network.partner_a, sku="ACME-MUESLI")
    response = sync(
        network.api("partner_a"),
        [GOOD, {"sku": "ACME-MUESLI", "location": "ACME-WH1", "delta": 15}],
        reference="feed-2026-11-22",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["applied"], body["unchanged"], body["failed"]) == (2, 0, 0)
    assert body["results"][0] == {
        "index": 0,
        "status": "applied",
        "on_hand": 120,
        "reserved": 0,
        "available": 120,
        "version": 3,
    }
    assert body["results"][1]["on_hand"] == 15
    assert on_hand(network.warehouse_a, fresh) == 15
    new = StockMovement.objects.filter(reason=MovementReason.SYNC).order_by("id")
    assert [(m.delta_on_hand, m.on_hand_after, m.reference, m.idempotency_key) for m in new] == [
        (20, 120, "feed-2026-11-22", "sync-1"),
        (15, 15, "feed-2026-11-22", "sync-1"),
    ]
    events = Event.objects.filter(type="stock.changed", payload__reason="sync")
    assert {(e.subject, e.partner_id) for e in events} == {
        ("stock:ACME-WH1:ACME-GRANOLA", network.partner_a.pk),
        ("stock:ACME-WH1:ACME-MUESLI", network.partner_a.pk),
    }


BAD_LINES = [
    ({"sku": "NOPE", "location": "ACME-WH1", "on_hand": 1}, "unknown_sku", "lines.{i}.sku"),
    ({"sku": "FRESH-EGGS", "location": "ACME-WH1", "on_hand": 1}, "unknown_sku", "lines.{i}.sku"),
    ({"sku": "ACME-GRANOLA", "location": "NOWHERE", "on_hand": 1}, "unknown_location", "lines.{i}.location"),
    ({"sku": "FRESH-EGGS", "location": "FRESH-WH1", "on_hand": 1}, "unknown_location", "lines.{i}.location"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": -1}, "invalid_quantity", "lines.{i}.on_hand"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 1.5}, "invalid_quantity", "lines.{i}.on_hand"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": "7"}, "invalid_quantity", "lines.{i}.on_hand"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": True}, "invalid_quantity", "lines.{i}.on_hand"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 2**63}, "quantity_too_large", "lines.{i}.on_hand"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "delta": -(10**12)}, "quantity_too_large", "lines.{i}.delta"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1"}, "invalid_quantity", "lines.{i}"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 1, "delta": 1}, "invalid_quantity", "lines.{i}"),
    ({"sku": "", "location": "ACME-WH1", "on_hand": 1}, "invalid_sku", "lines.{i}.sku"),
    ({"sku": 42, "location": "ACME-WH1", "on_hand": 1}, "invalid_sku", "lines.{i}.sku"),
    ({"sku": "ACME-GRANOLA", "location": None, "on_hand": 1}, "invalid_location", "lines.{i}.location"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 1, "owner": "x"}, "invalid_line", "lines.{i}"),
    ([1, 2, 3], "invalid_line", "lines.{i}"),
    ({"sku": "ACME-GRANOLA", "location": "ACME-WH1", "delta": -101}, "insufficient_stock", "lines.{i}"),
    (
        {"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 5, "expected_on_hand": 99},
        "on_hand_mismatch",
        "lines.{i}",
    ),
    (
        {"sku": "ACME-GRANOLA", "location": "ACME-WH1", "delta": 5, "expected_on_hand": 100},
        "invalid_quantity",
        "lines.{i}.expected_on_hand",
    ),
]


@pytest.mark.parametrize(("line", "code", "field"), BAD_LINES)
def test_apply_valid_applies_the_good_lines_and_reports_each_bad_one(network, line, code: str, field: str) -> None:
    fresh = ProductFactory.create(owner=network.partner_a, sku="ACME-MUESLI")
    good = {"sku": "ACME-MUESLI", "location": "ACME-WH1", "on_hand": 9}

    response = sync(network.api("partner_a"), [good, line], "apply_valid")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["applied"], body["failed"]) == (1, 1)
    failed = body["results"][1]
    assert (failed["index"], failed["status"], failed["code"], failed["field"]) == (
        1,
        "failed",
        code,
        field.format(i=1),
    )
    assert failed["message"]
    assert on_hand(network.warehouse_a, fresh) == 9
    assert on_hand(network.warehouse_a, network.product_a) == 100


@pytest.mark.parametrize(("line", "code", "field"), BAD_LINES)
def test_reject_all_applies_nothing_and_lists_the_bad_lines(network, line, code: str, field: str) -> None:
    fresh = ProductFactory.create(owner=network.partner_a, sku="ACME-MUESLI")
    before = StockMovement.objects.count(), Event.objects.count()

    response = sync(network.api("partner_a"), [{"sku": "ACME-MUESLI", "location": "ACME-WH1", "on_hand": 9}, line])

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "sync_rejected"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field.format(i=1), code)]
    assert on_hand(network.warehouse_a, fresh) is None  # not even the level was created
    assert (StockMovement.objects.count(), Event.objects.count()) == before


def test_a_set_below_reserved_fails_that_line_only(network) -> None:
    response = sync(
        network.api("store"),
        [{"sku": "MILK-1L", "location": "PAR01", "on_hand": 1}, {"sku": "MILK-1L", "location": "PAR01", "delta": 0}],
        "apply_valid",
    )
    single = sync(
        network.api("store"), [{"sku": "MILK-1L", "location": "PAR01", "on_hand": 1}], "apply_valid", key="k2"
    )

    assert response.json()["results"][1]["code"] == "duplicate_line"
    assert single.json()["results"][0]["code"] == "below_reserved"
    level = StockLevel.objects.get(location=network.store, product=network.retail_product)
    assert (level.on_hand, level.reserved) == (30, 2)


def test_unchanged_lines_make_no_movement_and_no_event(network) -> None:
    before = StockMovement.objects.count(), Event.objects.count()

    response = sync(
        network.api("operator"),
        [
            {"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": 100},
            {"sku": "FRESH-EGGS", "location": "FRESH-WH1", "delta": 0},
        ],
    )

    body = response.json()
    assert (body["applied"], body["unchanged"]) == (0, 2)
    assert [r["status"] for r in body["results"]] == ["unchanged", "unchanged"]
    assert body["results"][0]["on_hand"] == 100
    assert (StockMovement.objects.count(), Event.objects.count()) == before


def test_the_operator_syncs_any_location_in_the_owners_namespace(network) -> None:
    response = sync(
        network.api("operator"),
        [
            {"sku": "ACME-GRANOLA", "location": "ACME-WH1", "delta": -10},
            {"sku": "FRESH-EGGS", "location": "FRESH-WH1", "on_hand": 41},
            {"sku": "MILK-1L", "location": "LYO01", "on_hand": 6, "expected_on_hand": 5},
        ],
    )

    assert response.json()["applied"] == 3
    assert on_hand(network.other_store, network.retail_product) == 6


def test_a_replay_answers_the_first_outcome_and_applies_nothing_again(network) -> None:
    api = network.api("partner_a")
    lines = [{"sku": "ACME-GRANOLA", "location": "ACME-WH1", "delta": 7}]

    first = sync(api, lines, key="replay-1")
    replay = sync(api, lines, key="replay-1")
    other_body = sync(api, [{"sku": "ACME-GRANOLA", "location": "ACME-WH1", "delta": 8}], key="replay-1")

    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert other_body.status_code == 422
    assert problem(other_body)["code"] == "idempotency_key_reused"
    assert on_hand(network.warehouse_a, network.product_a) == 107
    assert StockMovement.objects.filter(idempotency_key="replay-1").count() == 1


def test_a_rejected_batch_is_replayed_as_rejected(network) -> None:
    api = network.api("partner_a")
    lines = [{"sku": "NOPE", "location": "ACME-WH1", "on_hand": 1}]

    first, replay = sync(api, lines, key="bad-1"), sync(api, lines, key="bad-1")

    assert first.status_code == replay.status_code == 422
    assert replay.json()["errors"] == first.json()["errors"]


def test_the_idempotency_key_is_required(network) -> None:
    response = network.api("partner_a").post("/api/v1/stock/sync", {"lines": [GOOD]}, format="json")

    assert response.status_code == 428


def test_a_batch_over_the_limit_is_rejected_whole_with_413(network) -> None:
    lines = [{"sku": "ACME-GRANOLA", "location": "ACME-WH1", "on_hand": i} for i in range(SYNC_MAX_LINES + 1)]

    response = sync(network.api("partner_a"), lines, "apply_valid")

    assert response.status_code == 413
    body = problem(response)
    assert (body["code"], body["max_lines"]) == ("batch_too_large", SYNC_MAX_LINES)
    assert on_hand(network.warehouse_a, network.product_a) == 100


def test_a_full_batch_of_the_limit_is_applied(network) -> None:
    products = ProductFactory.create_batch(SYNC_MAX_LINES // 2, owner=network.partner_a)
    lines = [{"sku": p.sku, "location": "ACME-WH1", "on_hand": i + 1} for i, p in enumerate(products)]

    response = sync(network.api("partner_a"), lines)

    assert response.status_code == 200
    assert response.json()["applied"] == len(products)
    assert StockLevel.objects.filter(location=network.warehouse_a).count() == len(products) + 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ([GOOD], 422, "lines"),
        ({"lines": []}, 422, "lines"),
        ({"lines": "all"}, 422, "lines"),
        ({"lines": [GOOD], "error_policy": "best_effort"}, 422, "error_policy"),
        ({"lines": [GOOD], "reference": 7}, 422, "reference"),
        ({"lines": [GOOD], "dry_run": True}, 422, "dry_run"),
    ],
)
def test_bad_envelopes_are_4xx(network, body, status: int, field: str) -> None:
    response = network.api("partner_a").post("/api/v1/stock/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="env")

    assert response.status_code == status
    assert problem(response)["errors"][0]["field"] == field


def test_malformed_json_is_400(network) -> None:
    response = network.api("partner_a").post(
        "/api/v1/stock/sync", '{"lines": [', content_type="application/json", HTTP_IDEMPOTENCY_KEY="m"
    )

    assert response.status_code == 400
    assert problem(response)["code"] == "malformed_request"


def test_the_ledger_reconciles_after_mixed_batches(network, capsys) -> None:
    products = ProductFactory.create_batch(30, owner=network.partner_a)
    api = network.api("partner_a")
    sync(api, [{"sku": p.sku, "location": "ACME-WH1", "on_hand": 10 + i} for i, p in enumerate(products)], key="a")
    sync(
        api,
        [{"sku": p.sku, "location": "ACME-WH1", "delta": -i} for i, p in enumerate(products)]
        + [{"sku": "NOPE", "location": "ACME-WH1", "delta": 1}],
        "apply_valid",
        key="b",
    )
    sync(api, [{"sku": p.sku, "location": "ACME-WH1", "on_hand": 10} for p in products], "apply_valid", key="c")

    assert stock_ledger_mismatches() == (StockLevel.objects.count(), [])
    call_command("check_stock_ledger")
    assert "ledger OK" in capsys.readouterr().out
    assert set(StockLevel.objects.filter(product__in=products).values_list("on_hand", flat=True)) == {10}


def test_results_are_plain_json_in_request_order(network) -> None:
    lines = [{"sku": "NOPE", "location": "ACME-WH1", "on_hand": 1}, GOOD, {"sku": "X", "location": "Y", "delta": 1}]

    body = json.loads(sync(network.api("partner_a"), lines, "apply_valid").content)

    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert [r["status"] for r in body["results"]] == ["failed", "applied", "failed"]
