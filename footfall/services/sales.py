"""Ingest of till sales per store and interval (tickets and net revenue),
the numerator of conversion and sales per visitor.

Who posts: the operator (the retailer's back office, where till data of
every store usually lands) for any store, naming it in each record; a store
client (a till) for its own store only, ``store`` optional. Both need the
``footfall:ingest`` scope. Sensor devices never post sales."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from footfall.errors import InvalidBatch, SalesNotForDevices
from footfall.locks import lock_stores_for_sales
from footfall.services.adapters import check_batch_size, parse_timestamp
from footfall.services.formats import CURRENCY, MAX_REGISTER, MAX_REVENUE_DIGITS, MAX_TICKETS, SALES
from footfall.services.records import CLOCK_SKEW, MAX_INTERVAL, RecordResult, record_error
from footfall.sql import sales as sales_sql
from gateway.api.strict import DECIMAL_STRING, is_clean_text
from gateway.sql import bulk_execute, bulk_fetch
from inventory import local_time
from inventory.models import Location, LocationKind
from inventory.selectors import store_id_of_caller
from partners.callers import Caller
from partners.models import CallerKind

_CURRENCY = re.compile(CURRENCY)
MAX_REVENUE = Decimal("9" * MAX_REVENUE_DIGITS + ".99")


@dataclass(slots=True)
class _SalesRow:
    index: int
    store_id: int
    register: str
    start: dt.datetime
    end: dt.datetime
    tickets: int
    amount: Decimal
    currency: str


def sales_intervals_ingest(
    *, caller: Caller | None, payload: Any, now: dt.datetime | None = None
) -> list[RecordResult]:
    """Upsert the valid sales intervals of ``{"intervals": [...]}``; every
    record gets a result (created, updated, unchanged or rejected).
    ``caller`` None is the project itself (demo data): every store."""
    if caller is not None and caller.kind == CallerKind.DEVICE:
        raise SalesNotForDevices(_("Sales come from tills or the back office, not from counting devices."))
    if not isinstance(payload, dict) or not isinstance(payload.get(SALES.batch_key), list):
        raise InvalidBatch(_('Expected an object {"intervals": [...]}.'))
    items = payload[SALES.batch_key]
    check_batch_size(len(items))
    now = now or timezone.now()
    stores = _stores_for(caller=caller, items=items)
    zones = dict(stores.values())
    results = [RecordResult(index=i, locator=f"/{SALES.batch_key}/{i}") for i in range(len(items))]
    rows = []
    for item, result in zip(items, results, strict=True):
        row = _sales_row(item, result, stores, now)
        if row is not None:
            rows.append(row)
    rows = _last_wins(rows, results)
    with transaction.atomic():
        lock_stores_for_sales(store_ids=[row.store_id for row in rows])
        written = _upsert(rows, results)
        sales_days_rebuild(
            days={(row.store_id, local_time.local_date(row.start, zones[row.store_id])) for row in written}, zones=zones
        )
    return results


def _stores_for(*, caller: Caller | None, items: list[Any]) -> dict[str, tuple[int, Any]]:
    """Stores the caller may post for, by code: every store for the operator,
    its own for a store client ("" also names it)."""
    if caller is None or caller.is_operator:
        codes = {
            item[SALES.store]
            for item in items
            if isinstance(item, dict) and isinstance(item.get(SALES.store), str) and is_clean_text(item[SALES.store])
        }
        queryset = Location.objects.filter(code__in=codes, kind=LocationKind.STORE)
    else:
        store_id = store_id_of_caller(caller=caller)
        queryset = (
            Location.objects.filter(pk=store_id, kind=LocationKind.STORE) if store_id else Location.objects.none()
        )
    found = {code: (pk, local_time.zone(tz)) for pk, code, tz in queryset.values_list("pk", "code", "time_zone")}
    if caller is not None and not caller.is_operator and found:
        found[""] = next(iter(found.values()))
    return found


def _sales_row(
    item: Any, result: RecordResult, stores: dict[str, tuple[int, Any]], now: dt.datetime
) -> _SalesRow | None:
    if not isinstance(item, dict):
        record_error(result, "", "invalid", _("Each interval is an object."))
        return None
    code = item.get(SALES.store, "")
    store = stores.get(code) if isinstance(code, str) else None
    result.subject = code or None
    if store is None:
        record_error(result, "store", "unknown_store", _("No store by this code that you may post sales for."))
    register = item.get(SALES.register, "")
    if not isinstance(register, str) or len(register) > MAX_REGISTER or not is_clean_text(register):
        record_error(result, "register", "invalid", _("A register code is text of at most 40 characters."))
    span = _span(item, result, store[1] if store else None, now)
    tickets = item.get(SALES.tickets)
    if not isinstance(tickets, int) or isinstance(tickets, bool) or not 0 <= tickets <= MAX_TICKETS:
        tickets = None
        record_error(
            result, "tickets", "invalid_count", _("Expected a whole number from 0 to %(max)d.") % {"max": MAX_TICKETS}
        )
    money = _money(item.get(SALES.revenue), result)
    if result.errors or store is None or span is None or money is None or tickets is None:
        return None
    result.start = span[0]
    return _SalesRow(result.index, store[0], register, span[0], span[1], tickets, money[0], money[1])


def _span(
    item: dict[str, Any], result: RecordResult, tz: Any, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    try:
        start, end = parse_timestamp(item.get(SALES.start.key)), parse_timestamp(item.get(SALES.end.key))
    except (ValueError, OverflowError, OSError):
        record_error(result, "start", "invalid_datetime", _("start and end are RFC 3339 date-times."))
        return None
    if tz is None:
        return None
    if start.tzinfo is None or end.tzinfo is None:
        if start.tzinfo is not None or end.tzinfo is not None:
            record_error(result, "end", "mixed_offsets", _("Give both start and end with an offset, or both without."))
            return None
        start_utc, wall = local_time.local_to_utc(start, tz)
        if wall == local_time.WallClock.NONEXISTENT:
            record_error(
                result, "start", "nonexistent_local_time", _("This local time is skipped by a daylight-saving change.")
            )
            return None
        start, end = start_utc, start_utc + (end - start)
    if not start < end <= start + MAX_INTERVAL:
        record_error(result, "end", "invalid_period", _("The end is after the start, at most one day later."))
        return None
    if start > now + CLOCK_SKEW:
        record_error(result, "start", "in_future", _("This interval starts in the future."))
        return None
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _money(value: Any, result: RecordResult) -> tuple[Decimal, str] | None:
    if not isinstance(value, dict):
        record_error(result, "revenue", "invalid_money", _('Expected {"amount": "123.45", "currency": "EUR"}.'))
        return None
    amount, currency = value.get("amount"), value.get("currency")
    try:
        parsed = Decimal(amount) if isinstance(amount, str) and DECIMAL_STRING.fullmatch(amount) else None
    except InvalidOperation:
        parsed = None
    exponent = parsed.as_tuple().exponent if parsed is not None else None
    if parsed is None or not isinstance(exponent, int) or exponent < -2 or abs(parsed) > MAX_REVENUE:
        record_error(
            result, "revenue.amount", "invalid_amount", _('A decimal string with at most 2 decimals, e.g. "123.45".')
        )
        return None
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        record_error(result, "revenue.currency", "invalid_currency", _("An ISO 4217 code such as EUR."))
        return None
    return parsed, currency


def _last_wins(rows: list[_SalesRow], results: list[RecordResult]) -> list[_SalesRow]:
    last: dict[tuple[int, str, dt.datetime], _SalesRow] = {}
    for row in rows:
        key = (row.store_id, row.register, row.start)
        if key in last:
            record_error(
                results[last[key].index],
                "start",
                "duplicate_in_batch",
                _("A later record has the same store, register and start."),
            )
        last[key] = row
    return sorted(last.values(), key=lambda r: r.index)


def _upsert(rows: list[_SalesRow], results: list[RecordResult]) -> list[_SalesRow]:
    """One statement for the batch; returns the rows that changed the table."""
    if not rows:
        return []
    columns: list[Any] = [
        [r.index for r in rows],
        [r.store_id for r in rows],
        [r.register for r in rows],
        [r.start for r in rows],
        [r.end for r in rows],
        [r.tickets for r in rows],
        [r.amount for r in rows],
        [r.currency for r in rows],
    ]
    changed = dict(bulk_fetch(sales_sql.UPSERT_INTERVALS, columns))
    for row in rows:
        result = results[row.index]
        result.status = "unchanged" if row.index not in changed else ("created" if changed[row.index] else "updated")
    return [row for row in rows if row.index in changed]


def sales_days_rebuild(*, days: set[tuple[int, dt.date]], zones: dict[int, Any]) -> None:
    """Recompute ``SalesDay`` of the (store, store-local day) pairs from the
    till intervals and the collected orders. Callers hold the stores' sales
    locks (footfall.locks)."""
    if not days:
        return
    ordered = sorted(days)
    spans = [local_time.days_span(day, day, zones[store_id]) for store_id, day in ordered]
    ids, labels = [store_id for store_id, _ in ordered], [day for _, day in ordered]
    bulk_execute(sales_sql.DROP_DAYS, [ids, labels])
    bulk_execute(sales_sql.INSERT_DAYS, [ids, labels, [low for low, _ in spans], [high for _, high in spans]])
