"""Writes on inventory. Every change of a stock counter goes through
``stock_apply``: one guarded UPDATE for the batch (the WHERE clause mirrors
the CHECK constraints, so a counter never crosses its bound), one ledger
movement per changed level, and ``stock.changed`` events in the outbox."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _

from inventory.errors import InsufficientStock
from inventory.locks import lock_stock_levels
from inventory.models import ClientLocation, Location, MovementReason, Product, StockLevel, StockMovement
from partners.models import ApiClient
from partners.services import NewEvent, events_record


def client_location_bind(*, client: ApiClient, location: Location) -> ClientLocation:
    """Bind a store or device client to the store it acts for (replacing any earlier binding)."""
    with transaction.atomic():
        binding, _ = ClientLocation.objects.update_or_create(client=client, defaults={"location": location})
    return binding


@dataclass(frozen=True)
class StockLine:
    product_id: int
    quantity: int


# reason -> (sign on on_hand, sign on reserved) for a positive quantity
_EFFECTS: dict[str, tuple[int, int]] = {
    MovementReason.RESERVATION: (0, 1),
    MovementReason.RELEASE: (0, -1),
    MovementReason.SALE: (-1, -1),
    MovementReason.RETURN: (1, 0),
}


def stock_apply(
    *,
    location_id: int,
    lines: Sequence[StockLine],
    reason: str,
    actor: ApiClient | None = None,
    reference: str = "",
    idempotency_key: str = "",
) -> None:
    """Reserve, release, sell or return ``lines`` at one location, all or
    nothing. Raises InsufficientStock listing every line that cannot move
    (the caller's transaction then rolls back). Quantities are positive."""
    on_hand_sign, reserved_sign = _EFFECTS[reason]
    merged: dict[int, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    with transaction.atomic():
        levels = lock_stock_levels(location_id=location_id, product_ids=merged)
        values = [
            (levels[pid][0], qty * on_hand_sign, qty * reserved_sign) for pid, qty in merged.items() if pid in levels
        ]
        changed = _guarded_update(values) if values else {}
        failed = [pid for pid in merged if pid not in levels or levels[pid][0] not in changed]
        if failed:
            raise InsufficientStock(
                _("Not enough stock for %(count)d line(s).") % {"count": len(failed)},
                extra={"lines": _shortfalls(location_id, failed, merged, levels)},
            )
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    stock_level_id=level_id,
                    reason=reason,
                    delta_on_hand=d_on_hand,
                    delta_reserved=d_reserved,
                    on_hand_after=changed[level_id][0],
                    reserved_after=changed[level_id][1],
                    actor=actor,
                    reference=reference,
                    idempotency_key=idempotency_key,
                )
                for level_id, d_on_hand, d_reserved in values
            ]
        )
        by_level = {level[0]: (pid, level) for pid, level in levels.items()}
        events_record(
            events=[
                stock_changed_event(
                    sku=by_level[level_id][1][1],
                    location_code=by_level[level_id][1][2],
                    owner_id=by_level[level_id][1][3],
                    on_hand=changed[level_id][0],
                    reserved=changed[level_id][1],
                    reason=reason,
                )
                for level_id, _d1, _d2 in values
            ]
        )


def stock_changed_event(
    *, sku: str, location_code: str, owner_id: int | None, on_hand: int, reserved: int, reason: str
) -> NewEvent:
    return NewEvent(
        type="stock.changed",
        partner_id=owner_id,
        subject=f"stock:{location_code}:{sku}",
        payload={
            "sku": sku,
            "location": location_code,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": on_hand - reserved,
            "reason": reason,
        },
    )


def _guarded_update(values: list[tuple[int, int, int]]) -> dict[int, tuple[int, int]]:
    """One UPDATE for the batch; rows whose bound would break are left out.
    Returns {stock_level_id: (on_hand, reserved)} of the rows changed."""
    placeholders = ", ".join(["(%s::bigint, %s::int, %s::int)"] * len(values))
    params = [item for row in values for item in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE inventory_stocklevel s
            SET on_hand = s.on_hand + v.d_on_hand, reserved = s.reserved + v.d_reserved,
                version = s.version + 1, updated_at = now()
            FROM (VALUES {placeholders}) AS v(id, d_on_hand, d_reserved)
            WHERE s.id = v.id
              AND s.on_hand + v.d_on_hand >= 0
              AND s.reserved + v.d_reserved >= 0
              AND s.reserved + v.d_reserved <= s.on_hand + v.d_on_hand
            RETURNING s.id, s.on_hand, s.reserved
            """,  # noqa: S608  placeholders only, values are parameters
            params,
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def _shortfalls(
    location_id: int, failed: list[int], wanted: dict[int, int], levels: dict[int, tuple[int, str, str, int | None]]
) -> list[dict[str, object]]:
    available = dict(
        StockLevel.objects.filter(location_id=location_id, product_id__in=failed).values_list("product_id", "available")
    )
    skus = dict(Product.objects.filter(id__in=failed).values_list("id", "sku"))
    return [
        {"sku": skus.get(pid, ""), "requested": wanted[pid], "available": max(available.get(pid, 0), 0)}
        for pid in failed
    ]
