"""Examples shown in the OpenAPI description of the footfall endpoints."""

from drf_spectacular.utils import OpenApiExample

from footfall.selectors.kpis import FORMULAS

CANONICAL_BATCH = OpenApiExample(
    "Two quarter-hours of an entrance",
    request_only=True,
    value={
        "intervals": [
            {
                "sensor": "PAR01-E1",
                "start": "2026-03-28T10:00:00+01:00",
                "end": "2026-03-28T10:15:00+01:00",
                "in": 42,
                "out": 35,
                "samples": 900,
                "samples_expected": 900,
            },
            {
                "sensor": "PAR01-E1",
                "start": "2026-03-28T10:15:00+01:00",
                "end": "2026-03-28T10:30:00+01:00",
                "in": 51,
                "out": 40,
            },
        ]
    },
)

INGEST_ANSWER = OpenApiExample(
    "One stored, one rejected",
    response_only=True,
    value={
        "accepted": 1,
        "rejected": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "results": [
            {"index": 0, "status": "created"},
            {
                "index": 1,
                "locator": "/intervals/1",
                "status": "rejected",
                "errors": [
                    {"field": "in", "code": "invalid_count", "message": "Expected a whole number from 0 to 1000000."}
                ],
            },
        ],
    },
)

XOVIS_PUSH = OpenApiExample(
    "A Xovis LOGICS push",
    request_only=True,
    value={
        "logics_data": {
            "package_info": {"version": "5.0", "id": 1842, "agent_id": 1},
            "sensor_info": {
                "serial_number": "00:6E:02:01:A2:3F",
                "type": "SINGLE_SENSOR",
                "name": "Bastille door",
                "time": "2026-03-28T10:15:02+01:00",
            },
            "logics": [
                {
                    "id": 1000,
                    "name": "Entrance",
                    "records": [
                        {
                            "from": "2026-03-28T10:00:00+01:00",
                            "to": "2026-03-28T10:15:00+01:00",
                            "samples": 1,
                            "samples_expected": 1,
                            "counts": [
                                {"id": 1000001, "name": "fw", "value": 42},
                                {"id": 1000002, "name": "bw", "value": 35},
                            ],
                        }
                    ],
                }
            ],
        }
    },
)

AXIS_EXPORT = OpenApiExample(
    "An Axis P8815-2 export (store-local times)",
    request_only=True,
    value={"data": [{"start": "2026-03-28 10:00:00", "end": "2026-03-28 11:00:00", "in": 180, "out": 165}]},
)

SALES_BATCH = OpenApiExample(
    "One hour of one till",
    request_only=True,
    value={
        "intervals": [
            {
                "store": "PAR01",
                "register": "T1",
                "start": "2026-03-28T10:00:00+01:00",
                "end": "2026-03-28T11:00:00+01:00",
                "tickets": 37,
                "revenue": {"amount": "812.40", "currency": "EUR"},
            }
        ]
    },
)

_PERIOD = {
    "visitors": 1000,
    "exits": 990,
    "passersby": 8000,
    "tickets": 250,
    "revenue": {"amount": "6250.00", "currency": "EUR"},
    "conversion_rate": 0.25,
    "capture_rate": 0.125,
    "sales_per_visitor": {"amount": "6.25", "currency": "EUR"},
    "average_ticket": {"amount": "25.00", "currency": "EUR"},
    "entrance_completeness": 0.998,
}

KPIS = OpenApiExample(
    "One store, one day",
    response_only=True,
    value={
        "store": "PAR01",
        "time_zone": "Europe/Paris",
        "capture_rate_formula": "entries / passersby",
        "formulas": {**FORMULAS, "capture_rate": "entries / passersby"},
        "current": {"from": "2026-03-28", "to": "2026-03-28", **_PERIOD},
        "same_period_last_week": {"from": "2026-03-21", "to": "2026-03-21", **_PERIOD},
        "same_period_last_year": {"from": "2025-03-29", "to": "2025-03-29", **_PERIOD},
    },
)

SENSOR_CREATE = OpenApiExample(
    "A new store's entrance, pushed by a Xovis sensor",
    request_only=True,
    value={
        "code": "NAN01-E1",
        "name": "Main door",
        "kind": "entrance",
        "store": "NAN01",
        "device_serial": "00:6E:02:01:B7:10",
        "channel": "1000",
    },
)
