"""Domain errors of footfall, each with a stable code."""

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound as DrfNotFound

from gateway.api.problems import ProblemError


class NotFound(ProblemError):
    """Absent, or not visible to the caller (never 403: no enumeration): 404
    ``not_found``, word for word the answer footfall gave when its selectors
    raised Django's Http404 (which DRF turns into its NotFound, rendered by
    gateway/api/errors.py): the detail is DRF's own translated text, so the
    body is the same in every language."""

    status_code = 404
    code = "not_found"
    default_detail = DrfNotFound.default_detail


class StoreNotFound(NotFound):
    """A store the caller may not read, or none named where one is needed."""


class SensorNotFound(NotFound):
    """A sensor the caller may not read or write."""


class AnomalyNotFound(NotFound):
    """An anomaly of a sensor the caller may not read."""


class SensorCodeTaken(ProblemError):
    status_code = 409
    code = "sensor_code_taken"
    title = _("This sensor code is already used")


class SensorDeviceTaken(ProblemError):
    """Another active sensor has this device serial and channel: counts the
    device pushes would not know which sensor they belong to."""

    status_code = 409
    code = "sensor_device_taken"
    title = _("This device serial and channel are already used")


class SensorHasHistory(ProblemError):
    """Counts, daily totals and anomalies point to the sensor, and its store
    is read through it: moving a sensor with history would move its past to
    the other store."""

    status_code = 409
    code = "sensor_has_history"
    title = _("This sensor has history at its store")


class CalendarDayNotFound(NotFound):
    """A calendar day of a store the caller may not read."""


class CalendarDayTaken(ProblemError):
    """The store's calendar already says something of that day."""

    status_code = 409
    code = "calendar_day_taken"
    title = _("The day is already in the store's calendar")


class BatchTooLarge(ProblemError):
    status_code = 413
    code = "batch_too_large"
    title = _("Batch too large")


class InvalidBatch(ProblemError):
    """The envelope of a batch cannot be read at all (as opposed to one bad
    record, which gets a per-record error)."""

    status_code = 422
    code = "invalid_batch"
    title = _("Invalid batch")


class InvalidCsv(ProblemError):
    status_code = 400
    code = "invalid_csv"
    title = _("Invalid CSV")


class SalesNotForDevices(ProblemError):
    status_code = 403
    code = "sales_not_for_devices"
    title = _("Sensor devices do not post sales")


class MixedCurrencies(ProblemError):
    status_code = 422
    code = "mixed_currencies"
    title = _("Sales in several currencies")


def store_in_several_currencies(*, first: dt.date, last: dt.date, currencies: Iterable[str]) -> MixedCurrencies:
    """A store whose sales of a period are in several currencies (its tills
    and its click-and-collect orders, say): refused, never added up."""
    return MixedCurrencies(
        gettext(
            "This store's sales of %(first)s to %(last)s are in several currencies (%(currencies)s); "
            "they are never added up."
        )
        % {"first": first, "last": last, "currencies": ", ".join(sorted(currencies))}
    )
