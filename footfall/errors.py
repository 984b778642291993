"""Domain errors of footfall, each with a stable code."""

from django.utils.translation import gettext_lazy as _

from gateway.api.problems import ProblemError


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
