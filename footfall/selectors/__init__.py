"""Reads on footfall, scoped to the caller: the operator sees every store, a
store client its own store, everyone else nothing. Another store's sensor,
anomaly or figures are absent (404 ``not_found``, footfall.errors.NotFound),
never forbidden."""

from django.db.models import Q, QuerySet

from footfall.errors import AnomalyNotFound, SensorNotFound, StoreNotFound
from footfall.models import Anomaly, Sensor
from inventory.models import Location, LocationKind
from inventory.selectors import store_id_of_caller
from partners.callers import Caller
from partners.models import CallerKind


def stores_readable_by(*, caller: Caller) -> QuerySet[Location]:
    stores = Location.objects.filter(kind=LocationKind.STORE)
    if caller.is_operator:
        return stores
    if caller.kind == CallerKind.STORE:
        store_id = store_id_of_caller(caller=caller)
        return stores.filter(pk=store_id) if store_id is not None else stores.none()
    return stores.none()


def store_for_reading(*, caller: Caller, code: str | None) -> Location:
    """The store whose figures are asked for. A store client may leave the
    code out (its own store); the operator names one."""
    stores = stores_readable_by(caller=caller)
    if code:
        stores = stores.filter(code=code)
    elif caller.is_operator:
        raise StoreNotFound
    store = stores.first()
    if store is None:
        raise StoreNotFound
    return store


def sensors_visible_to(*, caller: Caller) -> QuerySet[Sensor]:
    return Sensor.objects.filter(store__in=stores_readable_by(caller=caller)).select_related("store")


def sensor_get(*, caller: Caller, code: str) -> Sensor:
    """A sensor of a store the caller may read."""
    sensor = sensors_visible_to(caller=caller).filter(code=code).first()
    if sensor is None:
        raise SensorNotFound
    return sensor


def sensor_for_writing(*, caller: Caller, code: str) -> Sensor:
    """A sensor the caller may send counts for: the operator any, a device
    client those of its store (and, when the sensor names its device, only
    that device)."""
    sensors = Sensor.objects.filter(code=code).select_related("store")
    if not caller.is_operator:
        store_id = store_id_of_caller(caller=caller) if caller.kind == CallerKind.DEVICE else None
        if store_id is None:
            raise SensorNotFound
        sensors = sensors.filter(store_id=store_id).filter(Q(device__isnull=True) | Q(device_id=caller.client.pk))
    sensor = sensors.first()
    if sensor is None:
        raise SensorNotFound
    return sensor


def anomalies_visible_to(*, caller: Caller) -> QuerySet[Anomaly]:
    return Anomaly.objects.filter(sensor__store__in=stores_readable_by(caller=caller)).select_related("sensor__store")


def anomaly_get(*, caller: Caller, anomaly_id: int) -> Anomaly:
    anomaly = anomalies_visible_to(caller=caller).filter(pk=anomaly_id).first()
    if anomaly is None:
        raise AnomalyNotFound
    return anomaly
