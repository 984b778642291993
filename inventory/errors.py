"""Domain errors of inventory, each with a stable code."""

from django.utils.translation import gettext_lazy as _

from gateway.api.problems import ProblemError


class InsufficientStock(ProblemError):
    status_code = 409
    code = "insufficient_stock"
    title = _("Insufficient stock")


class StockLevelMissing(ProblemError):
    status_code = 409
    code = "stock_not_held"
    title = _("The location holds no stock of this product")
