"""Footfall endpoints: ingest of counts (canonical JSON, CSV, Xovis, Axis) and
sales (scope ``footfall:ingest``), sensors, aggregates, KPIs and anomalies
(scope ``footfall:read``). Views read parameters, call one service or
selector and shape the answer."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from footfall import selectors
from footfall.api.v1 import examples, query
from footfall.api.v1.parsers import CsvTextParser
from footfall.api.v1.serializers import (
    AggregatesOutput,
    AnomalyOutput,
    AxisExportInput,
    CountBatchInput,
    IngestOutput,
    KpisOutput,
    SalesBatchInput,
    SensorCreateInput,
    SensorOutput,
    SensorUpdateInput,
    XovisPushEnvelope,
    csv_description,
    ingest_body,
    kpis_body,
)
from footfall.models import Anomaly, AnomalyKind, AnomalyStatus, Sensor, SensorKind
from footfall.selectors.aggregates import GRANULARITIES, MAX_RANGE_DAYS, footfall_aggregates
from footfall.selectors.kpis import CAPTURE_FORMULAS, kpis_compute
from footfall.services import adapters
from footfall.services.ingest import count_intervals_ingest
from footfall.services.sales import sales_intervals_ingest
from footfall.services.sensors import sensor_create, sensor_retire, sensor_update
from gateway.api import params
from gateway.api.etag import (
    IF_MATCH,
    IF_MATCH_OPTIONAL,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    check_if_match,
    etag_for,
    with_etag,
)
from gateway.api.idempotency import idempotent
from gateway.api.strict import refuse_unclean_text, validated_body
from inventory import local_time
from inventory.models import Location
from partners.callers import caller_from_request

TAG = ["footfall"]
INGEST = ["footfall:ingest"]
READ = ["footfall:read"]
# Setting a store's sensors up is store set-up, as creating the store and its
# pickup schedule are: the scope that already covers those.
SETUP = ["inventory:write"]

COUNTING_PARAM = OpenApiParameter(
    "counting",
    OpenApiTypes.STR,
    enum=["interval", "cumulative"],
    description="interval (default): counts per interval. cumulative: running totals since the last reset, "
    "turned into per-interval counts (a lower total than the previous one is a reset).",
)
SENSOR_PARAM = OpenApiParameter("sensor", params.code_schema(), description="Code of the sensor the records belong to.")
AXIS_SENSOR_PARAM = OpenApiParameter(
    "sensor", params.code_schema(required=True), required=True, description="Code of the sensor the export comes from."
)
INGEST_DESCRIPTION = (
    "Each record is judged on its own: the answer lists, in order, whether it was created, updated (a re-sent "
    "interval replaces the stored one), unchanged, or rejected with its errors; bad records never stop good "
    "ones. A device client writes only its own store's sensors; the operator any sensor."
)


def _cumulative(request: Request) -> bool:
    return params.choice_param(request, "counting", ["interval", "cumulative"], default="interval") == "cumulative"


def _json_body(request: Request) -> Any:
    """The parsed JSON body, refused whole (422 naming the place) when any of
    its text holds a control character or a lone surrogate: the adapters
    read records by hand, and such text would reach PostgreSQL, which
    refuses NUL in text."""
    data = request.data
    refuse_unclean_text(data)
    return data


def _ingest(request: Request, records: list[adapters.CountRecord], **extra: Any) -> Response:
    outcome = count_intervals_ingest(
        caller=caller_from_request(request), records=records, cumulative=_cumulative(request)
    )
    return Response(ingest_body(outcome.results, **extra))


class CountBatchView(APIView):
    required_scopes = INGEST

    @extend_schema(
        tags=TAG,
        operation_id="footfall_counts_ingest",
        summary="Send count intervals (canonical JSON)",
        description=INGEST_DESCRIPTION,
        parameters=[COUNTING_PARAM],
        request=CountBatchInput,
        responses={200: IngestOutput},
        examples=[examples.CANONICAL_BATCH, examples.INGEST_ANSWER],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        return _ingest(request, adapters.canonical_records(_json_body(request), cumulative=_cumulative(request)))


class CountCsvView(APIView):
    required_scopes = INGEST
    parser_classes = [CsvTextParser]
    extra_error_statuses = {"POST": [404]}

    @extend_schema(
        tags=TAG,
        operation_id="footfall_counts_ingest_csv",
        summary="Send count intervals as CSV",
        description=INGEST_DESCRIPTION + " " + csv_description(),
        parameters=[SENSOR_PARAM, COUNTING_PARAM],
        request={"text/csv": OpenApiTypes.STR},
        responses={200: IngestOutput},
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        code = params.code_param(request, "sensor")
        if code:
            code = selectors.sensor_for_writing(caller=caller_from_request(request), code=code).code
        text = request.data if isinstance(request.data, str) else ""
        return _ingest(request, adapters.csv_records(text, sensor_code=code, cumulative=_cumulative(request)))


class XovisPushView(APIView):
    required_scopes = INGEST

    @extend_schema(
        tags=TAG,
        operation_id="footfall_counts_ingest_xovis",
        summary="Receive a Xovis LOGICS push (logics_data)",
        description=INGEST_DESCRIPTION + " One envelope or an array of envelopes. The sensor is the one whose "
        "device_serial is sensor_info.serial_number and whose channel is the logic id; fw counts are entries, "
        "bw counts exits.",
        parameters=[COUNTING_PARAM],
        request=PolymorphicProxySerializer(
            component_name="XovisPush",
            serializers=[XovisPushEnvelope, XovisPushEnvelope(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={200: IngestOutput},
        examples=[examples.XOVIS_PUSH],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        records, ignored = adapters.xovis_records(_json_body(request), cumulative=_cumulative(request))
        return _ingest(request, records, ignored_envelopes=ignored)


class AxisExportView(APIView):
    required_scopes = INGEST
    extra_error_statuses = {"POST": [404]}

    @extend_schema(
        tags=TAG,
        operation_id="footfall_counts_ingest_axis",
        summary="Send an Axis people-counter export",
        description=INGEST_DESCRIPTION + " Times have no offset: they are read in the store's zone. In the hour "
        "repeated when clocks go back, the first row with a local start is the first occurrence and the "
        "second row the second; a local start skipped when clocks go forward is rejected.",
        parameters=[AXIS_SENSOR_PARAM, COUNTING_PARAM],
        request=AxisExportInput,
        responses={200: IngestOutput},
        examples=[examples.AXIS_EXPORT],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        data = _json_body(request)
        code = params.code_param(request, "sensor", required=True)
        assert code is not None  # required
        sensor = selectors.sensor_for_writing(caller=caller_from_request(request), code=code)
        return _ingest(request, adapters.axis_records(data, sensor_code=sensor.code, cumulative=_cumulative(request)))


class SalesBatchView(APIView):
    required_scopes = INGEST

    @extend_schema(
        tags=TAG,
        operation_id="footfall_sales_ingest",
        summary="Send till sales per interval",
        description="Tickets and net revenue per store, till and interval, for conversion and sales per visitor. "
        "The operator names the store of each record; a store client posts for its own store. A re-sent "
        "interval (same store, register and start) replaces the stored one. Counting devices get 403.",
        request=SalesBatchInput,
        responses={200: IngestOutput},
        examples=[examples.SALES_BATCH],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        results = sales_intervals_ingest(caller=caller_from_request(request), payload=_json_body(request))
        return Response(ingest_body(results))


SENSOR_SETUP_DESCRIPTION = (
    "The operator sets up sensors in any store, a store's own client in its store only (another store answers "
    "as an unknown one: 422 `unknown_store`); other callers get 403. A sensor's history (counts, daily totals, "
    "anomalies) is read through it, so its store changes only while it has none (409 `sensor_has_history`): a "
    "device carried to another store feeds a new sensor there, which may take its serial and channel once the "
    "old sensor is retired."
)


def _sensor_answer(request: Request, sensor: Sensor, *, status: int = 200) -> Response:
    return with_etag(request, "sensor", sensor.pk, sensor.version, SensorOutput(sensor).data, status=status)


def _device(data: dict[str, Any], store: Location) -> dict[str, Any]:
    """``device`` (a client_id, or null) as the device client it names."""
    if "device" not in data:
        return {}
    client_id = data.pop("device")
    return {"device": selectors.device_client_for(client_id=client_id, store=store) if client_id else None}


class SensorListView(ListAPIView[Sensor]):
    required_scopes = {"GET": READ, "POST": SETUP}
    serializer_class = SensorOutput
    extra_error_statuses = {"POST": [409]}

    def get_queryset(self) -> QuerySet[Sensor]:
        request = self.request
        sensors = selectors.sensors_visible_to(caller=caller_from_request(request))
        store = params.code_param(request, "store")
        kind = params.choice_param(request, "kind", SensorKind.values)
        updated_since = params.updated_since_param(request)
        if store:
            sensors = sensors.filter(store__code=store)
        if kind:
            sensors = sensors.filter(kind=kind)
        if updated_since:
            sensors = sensors.filter(updated_at__gte=updated_since)
        return sensors

    @extend_schema(
        tags=TAG,
        operation_id="footfall_sensors_list",
        summary="Sensors of the stores you may read",
        parameters=[
            OpenApiParameter("store", params.code_schema(), description="Store code."),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=SensorKind.values),
            params.UPDATED_SINCE,
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        operation_id="footfall_sensors_create",
        summary="Set up a sensor in a store",
        description=SENSOR_SETUP_DESCRIPTION + " Codes are unique (409 `sensor_code_taken`); so are the device "
        "serial and channel among active sensors (409 `sensor_device_taken`).",
        request=SensorCreateInput,
        responses={201: SensorOutput},
        examples=[examples.SENSOR_CREATE],
    )
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        caller = caller_from_request(request)
        selectors.ensure_sensor_manager(caller=caller)
        data = validated_body(SensorCreateInput, request.data)
        fields = dict(data)
        store = selectors.store_for_sensor(caller=caller, code=fields.pop("store"))
        fields |= _device(fields, store)
        sensor = sensor_create(store=store, **fields)
        response = _sensor_answer(request, sensor, status=201)
        response["Location"] = f"/api/v1/footfall/sensors/{sensor.code}"
        return response


class SensorDetailView(APIView):
    required_scopes = {"GET": READ, "PATCH": SETUP, "DELETE": SETUP}
    extra_error_statuses = {"PATCH": [409, 412, 428], "DELETE": [412]}

    @extend_schema(
        tags=TAG,
        operation_id="footfall_sensor_detail",
        summary="One sensor",
        parameters=[IF_NONE_MATCH],
        responses={200: SensorOutput, **NOT_MODIFIED},
    )
    def get(self, request: Request, code: str) -> Response:
        return _sensor_answer(request, selectors.sensor_get(caller=caller_from_request(request), code=code))

    @extend_schema(
        tags=TAG,
        operation_id="footfall_sensor_update",
        summary="Change a sensor: its name, device, or store",
        description=SENSOR_SETUP_DESCRIPTION + " Send If-Match with the ETag you read. `code` and `kind` never "
        "change. A device client named must be bound to the sensor's store (the new one when it moves); moving "
        "a sensor whose device is bound to the old store needs `device` too (another device, or null).",
        parameters=[IF_MATCH],
        request=SensorUpdateInput,
        responses={200: SensorOutput},
    )
    def patch(self, request: Request, code: str) -> Response:
        caller = caller_from_request(request)
        sensor = selectors.sensor_for_editing(caller=caller, code=code)
        check_if_match(request, etag_for("sensor", sensor.pk, sensor.version))
        data = validated_body(SensorUpdateInput, request.data)
        changes = dict(data)
        if "store" in changes:
            changes["store"] = selectors.store_for_sensor(caller=caller, code=changes["store"])
        changes |= _device(changes, changes.get("store", sensor.store))
        sensor = sensor_update(sensor=sensor, expected_version=sensor.version, changes=changes)
        return _sensor_answer(request, sensor)

    @extend_schema(
        tags=TAG,
        operation_id="footfall_sensor_retire",
        summary="Retire a sensor",
        description="The sensor stays, with its history, in its store's figures and in this API (`is_active` "
        "false); counts sent for it afterwards are rejected record by record (`sensor_inactive`). Retiring a "
        "retired sensor changes nothing. `If-Match` is optional.",
        parameters=[IF_MATCH_OPTIONAL],
        responses={204: None},
    )
    def delete(self, request: Request, code: str) -> Response:
        sensor = selectors.sensor_for_editing(caller=caller_from_request(request), code=code)
        conditional = "If-Match" in request.headers
        check_if_match(request, etag_for("sensor", sensor.pk, sensor.version), required=False)
        sensor_retire(sensor=sensor, expected_version=sensor.version if conditional else None)
        return Response(status=204)


class AggregatesQuery:
    """The aggregates' query, declared once (schema and reading)."""

    store = query.Code("store", "Store code: required for the operator; a store client reads its own.")
    granularity = query.Choice("granularity", GRANULARITIES, default="day", description="Default day.")
    days = query.DayRange()
    kind = query.Choice("kind", tuple(SensorKind.values))
    parameters = [*store.parameters(), *granularity.parameters(), *days.parameters(), *kind.parameters()]


class KpisQuery:
    """The KPIs' query, declared once (schema and reading)."""

    store = query.Code("store", "Store code; operator: omit for the network.")
    days = query.DayRange()
    capture_formula = query.Choice(
        "capture_formula",
        tuple(CAPTURE_FORMULAS),
        default="entries_per_passerby",
        description="entries_per_passerby (default): entries / passers-by. "
        "entries_per_entries_and_passersby: entries / (entries + passers-by).",
    )
    parameters = [*store.parameters(), *days.parameters(), *capture_formula.parameters()]
    max_days = 366


class AggregatesView(APIView):
    required_scopes = READ
    extra_error_statuses = {"GET": [400, 404]}

    @extend_schema(
        tags=TAG,
        operation_id="footfall_aggregates",
        summary="Counts per sensor kind by hour, day, week or month",
        description="Buckets are store-local: a day when clocks go forward has 23 hourly buckets, one when they "
        "go back 25 (the repeated hour twice, each with its offset). Weeks (Monday first) and months are whole, "
        "so the range widens to their edges. A bucket without data has null counts and completeness 0. "
        "Longest range: " + ", ".join(f"{k} {v} days" for k, v in MAX_RANGE_DAYS.items()) + ".",
        parameters=AggregatesQuery.parameters,
        responses=AggregatesOutput,
    )
    def get(self, request: Request) -> Response:
        granularity = AggregatesQuery.granularity.read(request) or "day"
        first, last = AggregatesQuery.days.read(request, max_days=MAX_RANGE_DAYS[granularity])
        kind = AggregatesQuery.kind.read(request)
        caller = caller_from_request(request)
        code = AggregatesQuery.store.read(request, need=caller.is_operator)
        store = selectors.store_for_reading(caller=caller, code=code)
        rows = footfall_aggregates(store=store, granularity=granularity, first=first, last=last, kind=kind)
        tz = local_time.zone(store.time_zone)
        buckets = [
            {
                "kind": row.kind,
                "period_start": local_time.rfc3339(row.bucket.start, tz),
                "period_end": local_time.rfc3339(row.bucket.end, tz),
                "in": row.in_total,
                "out": row.out_total,
                "completeness": row.completeness,
                "intervals": row.intervals,
                "sensors": row.sensors,
            }
            for row in rows
        ]
        return Response(
            {
                "store": store.code,
                "time_zone": store.time_zone,
                "granularity": granularity,
                "from": first,
                "to": last,
                "buckets": buckets,
            }
        )


class KpisView(APIView):
    required_scopes = READ
    extra_error_statuses = {"GET": [400, 404]}

    @extend_schema(
        tags=TAG,
        operation_id="footfall_kpis",
        summary="Visitors, conversion, capture rate, sales per visitor, average ticket",
        description="Over store-local days, with the same period last week (7 days earlier) and last year (364 "
        "days earlier, weekdays aligned). Ratios divide summed numerators by summed denominators. The operator "
        "may leave store out for the whole network. Each period also says how complete the entrance data is.",
        parameters=KpisQuery.parameters,
        responses=KpisOutput,
        examples=[examples.KPIS],
    )
    def get(self, request: Request) -> Response:
        first, last = KpisQuery.days.read(request, max_days=KpisQuery.max_days)
        formula = KpisQuery.capture_formula.read(request)
        caller = caller_from_request(request)
        code = KpisQuery.store.read(request)
        store = None if caller.is_operator and not code else selectors.store_for_reading(caller=caller, code=code)
        kpis = kpis_compute(
            store_ids=[store.pk] if store else None, first=first, last=last, capture_formula=formula or ""
        )
        return Response(kpis_body(kpis, store=store))


class AnomalyListView(ListAPIView[Anomaly]):
    required_scopes = READ
    serializer_class = AnomalyOutput

    def get_queryset(self) -> QuerySet[Anomaly]:
        request = self.request
        anomalies = selectors.anomalies_visible_to(caller=caller_from_request(request))
        filters = {
            "sensor__store__code": params.code_param(request, "store"),
            "sensor__code": params.code_param(request, "sensor"),
            "kind": params.choice_param(request, "kind", AnomalyKind.values),
            "status": params.choice_param(request, "status", AnomalyStatus.values),
            "updated_at__gte": params.updated_since_param(request),
        }
        return anomalies.filter(**{key: value for key, value in filters.items() if value})

    @extend_schema(
        tags=TAG,
        operation_id="footfall_anomalies_list",
        summary="Anomalies the notifier found",
        description="Each anomaly says what was measured, what was expected and how it was judged. An ongoing "
        "fault extends its open anomaly (updated_at moves) instead of adding another.",
        parameters=[
            OpenApiParameter("store", params.code_schema()),
            OpenApiParameter("sensor", params.code_schema()),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=AnomalyKind.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=AnomalyStatus.values),
            params.UPDATED_SINCE,
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AnomalyDetailView(APIView):
    required_scopes = READ

    @extend_schema(tags=TAG, operation_id="footfall_anomaly_detail", summary="One anomaly", responses=AnomalyOutput)
    def get(self, request: Request, anomaly_id: int) -> Response:
        anomaly = selectors.anomaly_get(caller=caller_from_request(request), anomaly_id=anomaly_id)
        return Response(AnomalyOutput(anomaly).data)
