"""Serializers of the footfall API.

The count ingest bodies are documented from the rules that read them
(``footfall.services.formats``, through FormatSchema); the records are read
by ``footfall.services.adapters`` so that a bad record gets its own error
instead of failing the batch. Ingest answers are built as
plain dicts (``ingest_body``): a batch of 5,000 results through serializer
instances would cost more than the SQL that stores it."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction
from rest_framework import serializers

from footfall.models import Anomaly, AnomalyKind, AnomalyStatus, Sensor, SensorKind
from footfall.selectors.kpis import CAPTURE_FORMULAS, FORMULAS, Kpis, PeriodKpis
from footfall.services import formats
from footfall.services.formats import MAX_BATCH_RECORDS
from footfall.services.records import RecordResult
from gateway.api.money import MoneySerializer, money
from gateway.api.strict import (
    StrictBooleanField,
    StrictCharField,
    StrictInput,
    StrictIntegerField,
    StrictRegexField,
)
from inventory import local_time
from inventory.models import Location

_BATCH_HELP = f"At most {MAX_BATCH_RECORDS} records per batch; a larger batch is rejected whole (413 batch_too_large)."


# ------------------------------------------------------------------ ingest requests
# The count formats are declared once, in footfall.services.formats: the
# adapters read every record with those rules and these classes only carry
# them into the schema (FormatSchema below). A serializer per record would
# cost 159 ms a batch of 5,000 against 18 ms for the adapters.


class FormatDocument(serializers.Serializer[Any]):
    """Documentation only: an OpenAPI component written from the format
    rules (``document``), never run; ``ref`` gives another document's
    reference."""

    documentation_only: ClassVar[bool] = True

    @classmethod
    def document(cls, ref: Callable[[type["FormatDocument"]], dict[str, str]]) -> dict[str, Any]:
        raise NotImplementedError


class FormatSchema(OpenApiSerializerExtension):
    target_class = FormatDocument
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        def ref(document: type[FormatDocument]) -> dict[str, str]:
            return auto_schema.resolve_serializer(document, direction).ref

        return self.target.document(ref)


def _batch(form: formats.IntervalFormat, record: dict[str, str]) -> dict[str, Any]:
    key = form.batch_key or ""
    items = {"type": "array", "items": record, "description": _BATCH_HELP}
    return {"type": "object", "properties": {key: items}, "required": [key], "description": "Other keys are ignored."}


class CountIntervalInput(FormatDocument):
    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        return formats.CANONICAL.schema()


class CountBatchInput(FormatDocument):
    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        return _batch(formats.CANONICAL, ref(CountIntervalInput))


class AxisRow(FormatDocument):
    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        return formats.AXIS.schema()


class AxisExportInput(FormatDocument):
    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        return _batch(formats.AXIS, ref(AxisRow))


class XovisCount(FormatDocument):
    """A counter of a Xovis record: fw (or id logic x 1000 + 1) is read as
    in, bw (or + 2) as out; other counters are ignored."""

    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        return {
            "type": "object",
            "description": cls.__doc__.replace("\n    ", " ") if cls.__doc__ else "",
            "properties": {
                "id": {"type": "integer", "description": "Counter id: logic id x 1000 + 1 (fw) or + 2 (bw)."},
                "name": {"type": "string", "description": "fw or forward (read as in), bw or backward (out)."},
                "value": formats.XOVIS_COUNT_VALUE.schema(),
            },
            "required": ["value"],
        }


class XovisRecord(FormatDocument):
    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        return formats.XOVIS.schema(counts={"type": "array", "items": ref(XovisCount)})


class XovisLogic(serializers.Serializer[Any]):
    id = StrictIntegerField(help_text="Logic id: with the serial number, names the sensor (its channel).")
    name = StrictCharField(required=False)
    records = XovisRecord(many=True)


class XovisSensorInfo(serializers.Serializer[Any]):
    serial_number = StrictCharField()
    type = StrictCharField(required=False)
    name = StrictCharField(required=False)
    time = StrictCharField(required=False)


class XovisLogicsData(serializers.Serializer[Any]):
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


def csv_description() -> str:
    """What a CSV body holds, from the CSV format's rules."""
    form = formats.CSV
    required = [form.start.key, form.end.key, form.entries.key, form.exits.key]
    optional = [rule.key for rule in (form.sensor, form.samples, form.samples_expected) if rule is not None]
    return (
        f"The header names {', '.join(required)} and optionally {', '.join(optional)} "
        "(the Axis CSV export is such a file), in any order. Without a sensor column, name the sensor with the "
        f"sensor parameter. At most {formats.MAX_BATCH_RECORDS} rows. Each cell is read by the rules of the "
        "canonical format's field of the same name (a count is a text of digits)."
    )


class SalesIntervalInput(FormatDocument):
    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        return formats.SALES.schema()


class SalesBatchInput(FormatDocument):
    @classmethod
    def document(cls, ref: Callable[[type[FormatDocument]], dict[str, str]]) -> dict[str, Any]:
        key = formats.SALES.batch_key
        items = {"type": "array", "items": ref(SalesIntervalInput), "description": _BATCH_HELP}
        return {
            "type": "object",
            "properties": {key: items},
            "required": [key],
            "description": "Other keys are ignored.",
        }


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


SENSOR_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class SensorWriteFields(StrictInput):
    name = StrictCharField(max_length=200)
    store = StrictCharField(max_length=64, help_text="Code of the store (a store client: its own).")
    device_serial = StrictCharField(
        max_length=64, allow_blank=True, required=False, help_text="Serial number the device reports (Xovis)."
    )
    channel = StrictCharField(
        max_length=32, allow_blank=True, required=False, help_text="Logic, line or rule id on the device."
    )
    device = StrictCharField(
        max_length=100,
        allow_null=True,
        required=False,
        help_text="client_id of the device client that alone may write the sensor, bound to the sensor's store; "
        "null: any device of the store.",
    )


class SensorCreateInput(SensorWriteFields):
    code = StrictRegexField(
        SENSOR_CODE_PATTERN,
        help_text="Unique network-wide, never changes: letters, digits, '.', '_' and '-' (at most 64).",
    )
    kind = serializers.ChoiceField(choices=SensorKind.choices)


class SensorUpdateInput(SensorWriteFields):
    is_active = StrictBooleanField(
        required=False, help_text="false retires the sensor (as DELETE); true brings it back."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class SensorOutput(serializers.ModelSerializer[Sensor]):
    store = serializers.CharField(source="store.code")
    kind = serializers.ChoiceField(choices=SensorKind.choices)
    device = serializers.CharField(
        source="device.client_id",
        allow_null=True,
        help_text="client_id of the only device client that may write the sensor; null: any device of its store.",
    )
    is_active = serializers.BooleanField(help_text="false once retired: its history stays, new counts are refused.")

    class Meta:
        model = Sensor
        fields = [
            "code",
            "name",
            "kind",
            "store",
            "device_serial",
            "channel",
            "device",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]


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
        "counted coming in. Null when the period has no sales at all (a store without tills: unknown, not 0) "
        "or no visitors.",
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
