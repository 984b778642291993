"""Domain errors of inventory, each with a stable code."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound as DrfNotFound

from gateway.api.problems import ProblemError


class InsufficientStock(ProblemError):
    status_code = 409
    code = "insufficient_stock"
    title = _("Insufficient stock")


class StockLevelMissing(ProblemError):
    status_code = 409
    code = "stock_not_held"
    title = _("The location holds no stock of this product")


class StockBelowReserved(ProblemError):
    """An absolute set lower than what orders already reserved."""

    status_code = 409
    code = "below_reserved"
    title = _("Stock below the reserved quantity")


class QuantityTooLarge(ProblemError):
    status_code = 422
    code = "quantity_too_large"
    title = _("Quantity too large")


class ProductSkuTaken(ProblemError):
    status_code = 409
    code = "sku_taken"
    title = _("This SKU is already used by another product of the same owner")


class LocationCodeTaken(ProblemError):
    status_code = 409
    code = "location_code_taken"
    title = _("This location code is already used")


class SyncBatchTooLarge(ProblemError):
    status_code = 413
    code = "batch_too_large"
    title = _("Batch too large")


class SyncRejected(ProblemError):
    """``error_policy=reject_all`` and at least one line is bad: nothing was applied."""

    status_code = 422
    code = "sync_rejected"
    title = _("Stock sync rejected")


class NotFound(ProblemError):
    """Absent, or not visible to the caller: 404 ``not_found``, the answer
    the API gave when selectors raised Django's Http404 (DRF's NotFound,
    rendered by gateway/api/errors.py), word for word in every language:
    its detail is DRF's own translated text. A caller never learns that
    another tenant's object exists."""

    status_code = 404
    code = "not_found"
    default_detail = DrfNotFound.default_detail


class ProductNotFound(NotFound):
    pass


class LocationNotFound(NotFound):
    pass


class StockLevelNotFound(NotFound):
    pass
