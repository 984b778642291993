"""Domain errors of loyalty, each with a stable code (the problem type is
``/problems/<code-with-dashes>``)."""

from django.utils.translation import gettext_lazy as _

from gateway.api.problems import ProblemError


class LoyaltyObjectNotFound(ProblemError):
    """Absent, or not the caller's (never 403: no enumeration)."""

    status_code = 404
    code = "not_found"
    default_detail = _("No such object, or not visible to you.")


class ProgramCodeTaken(ProblemError):
    status_code = 409
    code = "program_code_taken"
    title = _("This program code is already used")


class CardNumberTaken(ProblemError):
    status_code = 409
    code = "card_number_taken"
    title = _("This card number already belongs to a member")


class MemberExists(ProblemError):
    status_code = 409
    code = "member_exists"
    title = _("This shopper is already a member of the program")


class CouponCodeTaken(ProblemError):
    status_code = 409
    code = "coupon_code_taken"
    title = _("This coupon code already exists")


class CampaignStateConflict(ProblemError):
    status_code = 409
    code = "campaign_state_conflict"
    title = _("The campaign cannot move to this state")


class CouponNotApplicable(ProblemError):
    """A code was sent to a write (an order, a ticket) and does not apply;
    ``extra`` carries the reason a shopper can act on."""

    status_code = 409
    code = "coupon_not_applicable"
    title = _("Coupon not applicable")


class CouponUsedUp(ProblemError):
    status_code = 409
    code = "coupon_used_up"
    title = _("Coupon already used")


class BudgetExhausted(ProblemError):
    status_code = 409
    code = "budget_exhausted"
    title = _("Campaign budget used up")


class RedemptionStateConflict(ProblemError):
    status_code = 409
    code = "redemption_state_conflict"
    title = _("The redemption is not in a state that allows this")


class InsufficientPoints(ProblemError):
    status_code = 409
    code = "insufficient_points"
    title = _("Not enough points")


class PointsSourceReused(ProblemError):
    """The same earning reference came back with another amount."""

    status_code = 409
    code = "points_source_reused"
    title = _("These points were already earned with other figures")


class TicketConflict(ProblemError):
    """The same ticket id (at the same store) came back with other content."""

    status_code = 409
    code = "ticket_conflict"
    title = _("This ticket was already received with other content")


class TicketInTheFuture(ProblemError):
    status_code = 422
    code = "ticket_in_the_future"
    title = _("The ticket's till time is in the future")


class TicketTooLate(ProblemError):
    status_code = 422
    code = "ticket_too_late"
    title = _("The ticket arrived after the program's delay for late tickets")


class ReturnConflict(ProblemError):
    """The same return id came back with other lines."""

    status_code = 409
    code = "return_conflict"
    title = _("This return was already received with other lines")


class ReturnExceedsTicket(ProblemError):
    status_code = 422
    code = "return_exceeds_ticket"
    title = _("More is returned than the ticket sold")


class NoSlowMovers(ProblemError):
    """A slow-mover campaign was asked for a store (and SKUs) holding no slow
    mover with stock in excess: there is nothing to clear."""

    status_code = 422
    code = "no_slow_movers"
    title = _("No slow-moving stock to target")
