"""Domain errors of click-and-collect, each with a stable code (the problem
type is ``/problems/<code-with-dashes>``). Insufficient stock is inventory's
``insufficient_stock`` (409, with the lines concerned)."""

from django.utils.translation import gettext_lazy as _

from gateway.api.problems import ProblemError


class ObjectNotFound(ProblemError):
    """Absent, or not the caller's (never 403: no enumeration)."""

    status_code = 404
    code = "not_found"
    default_detail = _("No such object, or not visible to you.")


class SlotFull(ProblemError):
    status_code = 409
    code = "slot_full"
    title = _("Pickup slot full")


class SlotNotReleased(ProblemError):
    status_code = 409
    code = "slot_not_released"
    title = _("Pickup slot not open yet")


class SlotStarted(ProblemError):
    status_code = 409
    code = "slot_started"
    title = _("Pickup slot already started")


class StoreClosed(ProblemError):
    status_code = 409
    code = "store_closed"
    title = _("Store closed for click-and-collect")


class HoldExpired(ProblemError):
    status_code = 409
    code = "hold_expired"
    title = _("Slot hold expired")


class HoldNotActive(ProblemError):
    status_code = 409
    code = "hold_not_active"
    title = _("Slot hold already used or released")


class HoldConflict(ProblemError):
    status_code = 409
    code = "hold_conflict"
    title = _("Another hold is being taken for this customer")


class ProductUnavailable(ProblemError):
    status_code = 422
    code = "product_unavailable"
    title = _("Product unavailable")


class MixedCurrencies(ProblemError):
    status_code = 422
    code = "mixed_currencies"
    title = _("Products priced in different currencies")


class CustomerNotFound(ProblemError):
    status_code = 422
    code = "customer_not_found"
    title = _("Unknown customer")


class CustomerRequired(ProblemError):
    status_code = 422
    code = "customer_required"
    title = _("Customer required")


class TransitionNotAllowed(ProblemError):
    status_code = 409
    code = "order_transition_not_allowed"
    title = _("Order status change not allowed")


class CancellationCutoffPassed(ProblemError):
    status_code = 409
    code = "cancellation_cutoff_passed"
    title = _("Too late to cancel")


class DayAlreadyReleased(ProblemError):
    status_code = 409
    code = "day_already_released"
    title = _("Slots of this day are already released")


class CapacityBelowBookings(ProblemError):
    status_code = 409
    code = "capacity_below_bookings"
    title = _("Capacity below bookings and holds")


class WindowsOverlap(ProblemError):
    status_code = 422
    code = "slot_windows_overlap"
    title = _("Pickup windows overlap")
