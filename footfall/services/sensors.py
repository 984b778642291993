"""Setting up a store's people counters without the admin: create a sensor,
change it (name, device serial and channel, the device client allowed to
write it, its store while it has no history), retire it.

A sensor's history (count intervals, daily totals, anomalies) points to the
sensor, and its store is read through the sensor: every aggregate, KPI and
report joins the sensor to find the store. Moving a sensor that has history
would therefore move its past to the other store. So a sensor moves only
while it has none (set up at the wrong store, say); a device carried to
another store feeds a new sensor there, and the retired one keeps its past
where it was counted. The serial and channel of a device are unique among
active sensors only, so the new sensor can take them while the retired one
still says where its counts came from.

Retiring keeps the row and everything that points to it: the sensor stays
readable and in its store's past figures, and ingest refuses new counts for
it record by record (``sensor_inactive``), on every format.

No outbox event: sensors are the operator's and the stores' set-up, which
partners never see (they hold no footfall scope), like locations, whose
changes record none either."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from footfall.errors import SensorCodeTaken, SensorDeviceTaken, SensorHasHistory
from footfall.locks import lock_sensors_for_ingest
from footfall.models import Anomaly, CountDay, CountInterval, Sensor
from footfall.sql.sensors import SENSOR_CODE_UNIQUE, SENSOR_DEVICE_UNIQUE
from gateway.api.problems import FieldInvalid, PreconditionFailed, ProblemError
from gateway.sql import violated_constraint
from inventory.models import ClientLocation, Location
from partners.models import ApiClient

# What a PATCH may change; code and kind never change (the kind is what the
# history measured: an entrance's entries never become passers-by).
UPDATABLE = ("store", "name", "device", "device_serial", "channel", "is_active")


def sensor_create(
    *,
    store: Location,
    code: str,
    name: str,
    kind: str,
    device: ApiClient | None = None,
    device_serial: str = "",
    channel: str = "",
) -> Sensor:
    """An active sensor of ``store``. Codes are unique (409
    ``sensor_code_taken``), so are an active sensor's device serial and
    channel (409 ``sensor_device_taken``)."""
    _check_device(store=store, device=device, device_serial=device_serial, channel=channel)
    fields = {"code": code, "name": name, "kind": kind, "device": device}
    fields |= {"device_serial": device_serial, "channel": channel}
    with transaction.atomic():
        try:
            with transaction.atomic():
                sensor = Sensor.objects.create(store=store, **fields)
        except IntegrityError as exc:
            taken = _taken(exc, code=code, device_serial=device_serial, channel=channel)
            if taken is None:
                raise
            raise taken from None
    return sensor


def sensor_update(*, sensor: Sensor, expected_version: int, changes: dict[str, Any]) -> Sensor:
    """Apply ``changes`` (keys of ``UPDATABLE``) if the sensor is still at
    ``expected_version`` (412 otherwise). A change of store is refused while
    the sensor has history (409 ``sensor_has_history``); the device client
    must be bound to the sensor's store, the new one when it moves."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    after = {name: changes.get(name, getattr(sensor, name)) for name in UPDATABLE}
    _check_device(
        store=after["store"], device=after["device"], device_serial=after["device_serial"], channel=after["channel"]
    )
    with transaction.atomic():
        if after["store"].pk != sensor.store_id:
            # Ingest holds this lock while it writes, so no count lands
            # between the look at the history and the move.
            lock_sensors_for_ingest(sensor_ids=[sensor.pk])
            _refuse_move_with_history(sensor)
        try:
            with transaction.atomic():
                changed = Sensor.objects.filter(pk=sensor.pk, version=expected_version).update(
                    **changes, version=F("version") + 1, updated_at=timezone.now()
                )
        except IntegrityError as exc:
            taken = _taken(exc, code=sensor.code, device_serial=after["device_serial"], channel=after["channel"])
            if taken is None:
                raise
            raise taken from None
        if not changed:
            raise PreconditionFailed()
        sensor.refresh_from_db()
    return sensor


def sensor_retire(*, sensor: Sensor, expected_version: int | None = None) -> Sensor:
    """Switch the sensor off for good: its row and history stay, new counts
    are refused. Retiring a retired sensor changes nothing (a retried DELETE
    answers the same). ``expected_version`` (from If-Match) makes it
    conditional: 412 when the sensor changed since."""
    with transaction.atomic():
        sensors = Sensor.objects.filter(pk=sensor.pk)
        if expected_version is not None:
            sensors = sensors.filter(version=expected_version)
        changed = sensors.filter(is_active=True).update(
            is_active=False, version=F("version") + 1, updated_at=timezone.now()
        )
        if not changed and not sensors.exists():
            raise PreconditionFailed()
        sensor.refresh_from_db()
    return sensor


def _check_device(*, store: Location, device: ApiClient | None, device_serial: str, channel: str) -> None:
    if channel and not device_serial:
        raise FieldInvalid("channel", _("A channel belongs to a device serial; give the serial too."))
    if device is not None and not ClientLocation.objects.filter(client=device, location=store).exists():
        raise FieldInvalid(
            "device",
            _("This device client is bound to another store; name a device of the sensor's store, or null."),
            code="unknown_device",
        )


def _refuse_move_with_history(sensor: Sensor) -> None:
    if (
        CountInterval.objects.filter(sensor=sensor).exists()
        or CountDay.objects.filter(sensor=sensor).exists()
        or Anomaly.objects.filter(sensor=sensor).exists()
    ):
        raise SensorHasHistory(
            _(
                "Sensor %(code)s has counts or anomalies at its store, which are read through it; moving it would "
                "move its past too. Retire it and create a sensor at the other store (it may take the same device "
                "serial and channel)."
            )
            % {"code": sensor.code}
        )


def _taken(exc: IntegrityError, *, code: str, device_serial: str, channel: str) -> ProblemError | None:
    """The 409 a unique constraint broken by a sensor write means; None for
    any other constraint (a bug: the IntegrityError goes on, a 500)."""
    constraint = violated_constraint(exc)
    if constraint == SENSOR_CODE_UNIQUE:
        return SensorCodeTaken(_("The sensor code %(code)s is already used.") % {"code": code})
    if constraint == SENSOR_DEVICE_UNIQUE:
        return SensorDeviceTaken(
            _("Another active sensor has device serial %(serial)s and channel %(channel)s.")
            % {"serial": device_serial, "channel": channel or '""'}
        )
    return None
