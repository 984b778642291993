"""Reads on footfall, scoped to the caller: the operator sees every store, a
store client its own store, everyone else nothing. Another store's sensor,
anomaly or figures are absent (404 ``not_found``, footfall.errors.NotFound),
never forbidden."""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from footfall.errors import AnomalyNotFound, SensorNotFound, StoreNotFound
from footfall.models import Anomaly, Sensor
from gateway.api.problems import CallerNotAllowed, FieldInvalid
from inventory.models import Location, LocationKind
from inventory.selectors import store_id_of_caller
from partners.callers import Caller
from partners.models import ApiClient, CallerKind


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
    return Sensor.objects.filter(store__in=stores_readable_by(caller=caller)).select_related("store", "device")


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


def ensure_sensor_manager(*, caller: Caller) -> None:
    """Sensors are set up by the operator (any store) and by a store's own
    client (its store); partners, devices and shoppers never."""
    if caller.kind not in (CallerKind.OPERATOR, CallerKind.STORE):
        raise CallerNotAllowed(_("Only the operator or a store's own client sets up sensors."))


def sensor_for_editing(*, caller: Caller, code: str) -> Sensor:
    """A sensor the caller may change or retire: any for the operator, its
    own store's for a store client; another store's is absent (404)."""
    ensure_sensor_manager(caller=caller)
    return sensor_get(caller=caller, code=code)


def store_for_sensor(*, caller: Caller, code: str) -> Location:
    """The store a body names for a sensor: any store for the operator, its
    own for a store client (open or not yet open: a store is set up before
    it opens). Another store answers as an unknown one (422 on ``store``,
    never revealing that it exists)."""
    ensure_sensor_manager(caller=caller)
    store = stores_readable_by(caller=caller).filter(code=code).first()
    if store is None:
        raise FieldInvalid("store", _("No such store, or not one you may set sensors up for."), code="unknown_store")
    return store


def device_client_for(*, client_id: str, store: Location) -> ApiClient:
    """The device client ``client_id`` names, if it is a device bound to
    ``store`` (the only device then allowed to write the sensor)."""
    device = ApiClient.objects.filter(
        client_id=client_id, kind=CallerKind.DEVICE, location_binding__location=store
    ).first()
    if device is None:
        raise FieldInvalid(
            "device", _("No device client by this id is bound to the sensor's store."), code="unknown_device"
        )
    return device


def anomalies_visible_to(*, caller: Caller) -> QuerySet[Anomaly]:
    return Anomaly.objects.filter(sensor__store__in=stores_readable_by(caller=caller)).select_related("sensor__store")


def anomaly_get(*, caller: Caller, anomaly_id: int) -> Anomaly:
    anomaly = anomalies_visible_to(caller=caller).filter(pk=anomaly_id).first()
    if anomaly is None:
        raise AnomalyNotFound
    return anomaly
