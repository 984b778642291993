"""Serializers of the footfall API.

Ingest request serializers document the formats in the schema; the records
themselves are read by ``footfall.services.adapters`` so that a bad record
gets its own error instead of failing the batch. Ingest answers are built as
plain dicts (``ingest_body``): a batch of 5,000 results through serializer
instances would cost more than the SQL that stores it."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from footfall.models import Anomaly, AnomalyKind, AnomalyStatus, Sensor, SensorKind
from footfall.selectors.kpis import CAPTURE_FORMULAS, FORMULAS, Kpis, PeriodKpis
from footfall.services.adapters import MAX_BATCH_RECORDS, MAX_COUNT, MAX_CUMULATIVE, MAX_SAMPLES
from footfall.services.records import RecordResult
from footfall.services.sales import MAX_TICKETS
from gateway.api.money import MoneySerializer, money
from gateway.api.strict import MoneyInput, StrictCharField, StrictInput, StrictIntegerField
from inventory import local_time
from inventory.models import Location

_COUNT_HELP = f"At most {MAX_COUNT:,} per interval; running totals (counting=cumulative) up to 2^53."
_BATCH_HELP = f"At most {MAX_BATCH_RECORDS} records per batch; a larger batch is rejected whole (413 batch_too_large)."


# ------------------------------------------------------------------ ingest requests (documentation)


class CountIntervalInput(StrictInput):
    sensor = StrictCharField(help_text="Sensor code.")
    start = StrictCharField(
        help_text="RFC 3339. Without an offset the time is read in the store's zone (a repeated local hour: "
        "the first record with that local start is the first occurrence)."
    )
    end = StrictCharField(help_text="RFC 3339; after start, at most one day later.")
    in_ = StrictIntegerField(
        min_value=0,
        max_value=MAX_CUMULATIVE,
        help_text="Entries (window sensors: one walking direction). " + _COUNT_HELP,
    )
    out = StrictIntegerField(
        min_value=0, max_value=MAX_CUMULATIVE, help_text="Exits (window sensors: the other direction)."
    )
    samples = StrictIntegerField(
        required=False, min_value=0, max_value=MAX_SAMPLES, help_text="Samples the device received."
    )
    samples_expected = StrictIntegerField(
        required=False, min_value=1, max_value=MAX_SAMPLES, help_text="Samples it expected."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["in"] = fields.pop("in_")
        return fields


class CountBatchInput(StrictInput):
    intervals = CountIntervalInput(  # type: ignore[call-arg]  # DRF 3.14+ takes max_length with many=True; stubs lag
        many=True, max_length=MAX_BATCH_RECORDS, help_text=_BATCH_HELP
    )


class XovisCount(StrictInput):
    id = StrictIntegerField(required=False, help_text="Counter id: logic id x 1000 + 1 (fw) or + 2 (bw).")
    name = StrictCharField(required=False, help_text="fw (read as in) or bw (read as out).")
    value = StrictIntegerField(min_value=0, max_value=MAX_CUMULATIVE, help_text=_COUNT_HELP)


class XovisRecord(StrictInput):
    from_ = StrictCharField(help_text="RFC 3339, or Unix time in seconds or milliseconds (numbers).")
    to = StrictCharField()
    samples = StrictIntegerField(required=False, min_value=0, max_value=MAX_SAMPLES)
    samples_expected = StrictIntegerField(required=False, min_value=1, max_value=MAX_SAMPLES)
    counts = XovisCount(many=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class XovisLogic(StrictInput):
    id = StrictIntegerField(help_text="Logic id: with the serial number, names the sensor (its channel).")
    name = StrictCharField(required=False)
    records = XovisRecord(many=True)


class XovisSensorInfo(StrictInput):
    serial_number = StrictCharField()
    type = StrictCharField(required=False)
    name = StrictCharField(required=False)
    time = StrictCharField(required=False)


class XovisLogicsData(StrictInput):
    package_info = serializers.DictField(required=False)
    sensor_info = XovisSensorInfo()
    logics = XovisLogic(many=True)


class XovisPushEnvelope(serializers.Serializer[Any]):
    """One envelope of a Xovis push. Open on purpose: a sensor sends other
    envelopes too (status_data...), which are acknowledged and ignored rather
    than failing the device's push."""

    logics_data = XovisLogicsData(
        required=False, help_text=_BATCH_HELP + " Other envelopes (status_data...) are acknowledged and ignored."
    )


class AxisRow(StrictInput):
    start = StrictCharField(help_text='Store-local time without offset, "2026-03-29 10:00:00".')
    end = StrictCharField()
    in_ = StrictIntegerField(min_value=0, max_value=MAX_CUMULATIVE, help_text=_COUNT_HELP)
    out = StrictIntegerField(min_value=0, max_value=MAX_CUMULATIVE)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["in"] = fields.pop("in_")
        return fields


class AxisExportInput(StrictInput):
    data = AxisRow(  # type: ignore[call-arg,assignment]  # max_length: stubs lag DRF 3.14; a field named data
        many=True, max_length=MAX_BATCH_RECORDS, help_text=_BATCH_HELP
    )


class SalesIntervalInput(StrictInput):
    store = StrictCharField(required=False, help_text="Store code; a store client may leave it out.")
    register = StrictCharField(required=False, max_length=40, help_text="Till id; each till posts its own.")
    start = StrictCharField(help_text="RFC 3339; without an offset, store-local time.")
    end = StrictCharField()
    tickets = StrictIntegerField(min_value=0, max_value=MAX_TICKETS, help_text="Tickets net of voids.")
    revenue = MoneyInput(help_text="Net revenue.")


class SalesBatchInput(StrictInput):
    intervals = SalesIntervalInput(  # type: ignore[call-arg]  # DRF 3.14+ takes max_length with many=True; stubs lag
        many=True, max_length=MAX_BATCH_RECORDS, help_text=_BATCH_HELP
    )


# ------------------------------------------------------------------ ingest answers


class RecordIssue(serializers.Serializer[Any]):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class RecordResultOutput(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="Position of the record in the batch (0-based).")
    locator = serializers.CharField(
        required=False,
        help_text="Where the record is, on records with errors or warnings: a JSON pointer "
        '("/intervals/3") or "line 4".',
    )
    status = serializers.CharField(
        help_text="created, updated, unchanged, baseline or rejected. baseline: the first running total of a "
        "cumulative sensor, stored as the reference for the next one (its counts are unknown: completeness 0).",
    )
    errors = RecordIssue(  # type: ignore[assignment]  # a field named errors, not Serializer.errors
        many=True, required=False
    )
    warnings = RecordIssue(many=True, required=False)


class IngestOutput(serializers.Serializer[Any]):
    accepted = serializers.IntegerField(help_text="Records stored (created, updated, unchanged or baseline).")
    rejected = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    results = RecordResultOutput(many=True)
    ignored_envelopes = serializers.ListField(child=serializers.CharField(), required=False)


def ingest_body(results: list[RecordResult], **extra: Any) -> dict[str, Any]:
    counts = dict.fromkeys(("created", "updated", "unchanged", "baseline", "rejected"), 0)
    rows = []
    for result in results:
        counts[result.status] += 1
        row: dict[str, Any] = {"index": result.index, "status": result.status}
        if result.errors:
            row["locator"] = result.locator
            row["errors"] = result.errors
        if result.warnings:
            row["locator"] = result.locator
            row["warnings"] = result.warnings
        rows.append(row)
    accepted = len(results) - counts["rejected"]
    return {
        "accepted": accepted,
        "rejected": counts["rejected"],
        "created": counts["created"],
        "updated": counts["updated"],
        "unchanged": counts["unchanged"],
        "results": rows,
        **extra,
    }


# ------------------------------------------------------------------ reads


class SensorOutput(serializers.ModelSerializer[Sensor]):
    store = serializers.CharField(source="store.code")
    kind = serializers.ChoiceField(choices=SensorKind.choices)

    class Meta:
        model = Sensor
        fields = ["code", "name", "kind", "store", "device_serial", "channel", "is_active", "created_at", "updated_at"]


class AnomalyOutput(serializers.ModelSerializer[Anomaly]):
    store = serializers.CharField(source="sensor.store.code")
    sensor = serializers.CharField(source="sensor.code")
    sensor_kind = serializers.ChoiceField(source="sensor.kind", choices=SensorKind.choices)
    kind = serializers.ChoiceField(choices=AnomalyKind.choices)
    status = serializers.ChoiceField(choices=AnomalyStatus.choices)
    period_start = serializers.SerializerMethodField(help_text="RFC 3339 with the store's offset.")
    period_end = serializers.SerializerMethodField(help_text="RFC 3339 with the store's offset (excluded).")
    metric = serializers.CharField(help_text="What actual and expected measure (traffic, in, out, covered_seconds...).")
    method = serializers.CharField(help_text="How the period was judged, in words.")

    class Meta:
        model = Anomaly
        fields = [
            "id",
            "store",
            "sensor",
            "sensor_kind",
            "kind",
            "status",
            "period_start",
            "period_end",
            "metric",
            "actual",
            "expected",
            "expected_low",
            "expected_high",
            "method",
            "details",
            "detected_at",
            "updated_at",
            "resolved_at",
        ]

    def get_period_start(self, obj: Anomaly) -> str:
        return local_time.rfc3339(obj.period_start, local_time.zone(obj.sensor.store.time_zone))

    def get_period_end(self, obj: Anomaly) -> str:
        return local_time.rfc3339(obj.period_end, local_time.zone(obj.sensor.store.time_zone))


class AggregateBucketOutput(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=SensorKind.choices)
    period_start = serializers.CharField(help_text="RFC 3339 with the store's offset at that instant.")
    period_end = serializers.CharField()
    in_ = serializers.IntegerField(allow_null=True, help_text="Null when no data was received for the bucket.")
    out = serializers.IntegerField(allow_null=True)
    completeness = serializers.FloatField(
        help_text="Covered seconds (x device samples ratio) / (active sensors of the kind x bucket seconds), 0..1."
    )
    intervals = serializers.IntegerField(help_text="Count intervals received.")
    sensors = serializers.IntegerField(help_text="Active sensors of the kind.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["in"] = fields.pop("in_")
        return fields


class AggregatesOutput(serializers.Serializer[Any]):
    store = serializers.CharField()
    time_zone = serializers.CharField()
    granularity = serializers.CharField()
    from_ = serializers.DateField()
    to = serializers.DateField()
    buckets = AggregateBucketOutput(many=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class KpiPeriodOutput(serializers.Serializer[Any]):
    from_ = serializers.DateField()
    to = serializers.DateField()
    visitors = serializers.IntegerField(help_text="Entries of entrance sensors.")
    exits = serializers.IntegerField()
    passersby = serializers.IntegerField(help_text="in + out of window sensors.")
    tickets = serializers.IntegerField(
        help_text="Till tickets plus collected click-and-collect orders (one ticket each, on the store-local day "
        "they were collected)."
    )
    revenue = MoneySerializer(
        allow_null=True, help_text="Till revenue plus the totals of collected click-and-collect orders."
    )
    conversion_rate = serializers.FloatField(
        allow_null=True,
        help_text="tickets / visitors (0.25 = 25 %), click-and-collect pickups included: their shoppers are "
        "counted coming in.",
    )
    capture_rate = serializers.FloatField(allow_null=True, help_text="See capture_rate_formula.")
    sales_per_visitor = MoneySerializer(allow_null=True)
    average_ticket = MoneySerializer(allow_null=True)
    entrance_completeness = serializers.FloatField(allow_null=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class KpisOutput(serializers.Serializer[Any]):
    store = serializers.CharField(allow_null=True, help_text="Null: the whole network.")
    time_zone = serializers.CharField(allow_null=True)
    capture_rate_formula = serializers.CharField()
    formulas = serializers.DictField(child=serializers.CharField())
    current = KpiPeriodOutput()
    same_period_last_week = KpiPeriodOutput()
    same_period_last_year = KpiPeriodOutput(help_text="364 days earlier, so weekdays match.")


def _money_or_none(amount: Decimal | None, currency: str | None) -> dict[str, str] | None:
    return money(amount, currency) if amount is not None and currency is not None else None


def kpi_period_body(kpis: PeriodKpis) -> dict[str, Any]:
    """A period's KPIs as KpiPeriodOutput: money as decimal strings rounded to
    the currency's minor unit (gateway.api.money), null without sales."""
    return {
        "from": kpis.first,
        "to": kpis.last,
        "visitors": kpis.visitors,
        "exits": kpis.exits,
        "passersby": kpis.passersby,
        "tickets": kpis.tickets,
        "revenue": _money_or_none(kpis.revenue, kpis.currency),
        "conversion_rate": kpis.conversion_rate,
        "capture_rate": kpis.capture_rate,
        "sales_per_visitor": _money_or_none(kpis.sales_per_visitor, kpis.currency),
        "average_ticket": _money_or_none(kpis.average_ticket, kpis.currency),
        "entrance_completeness": kpis.entrance_completeness,
    }


def kpis_body(kpis: Kpis, *, store: Location | None) -> dict[str, Any]:
    """The KPI answer (KpisOutput) of a store, or of the network when ``store`` is None."""
    formula = CAPTURE_FORMULAS[kpis.capture_formula]
    return {
        "store": store.code if store else None,
        "time_zone": store.time_zone if store else None,
        "capture_rate_formula": formula,
        "formulas": {**FORMULAS, "capture_rate": formula},
        "current": kpi_period_body(kpis.current),
        "same_period_last_week": kpi_period_body(kpis.same_period_last_week),
        "same_period_last_year": kpi_period_body(kpis.same_period_last_year),
    }
