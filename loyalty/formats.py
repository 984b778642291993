"""What loyalty's inputs look like and what its refusal reasons say, in one
place: the loyalty API and every other API that takes a loyalty part
(commerce's order body) read their patterns and messages from here."""

from django.utils.translation import gettext_lazy

from loyalty import pricing

CARD_NUMBER_PATTERN = r"^[0-9]{13}$"
CODE_PATTERN = r"^[A-Za-z0-9-]{3,64}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
MAX_CODES = 10

# The sentence a shopper reads for each reason a code does not apply.
REASON_MESSAGES = {
    pricing.UNKNOWN_CODE: gettext_lazy("This code does not exist."),
    pricing.CODE_USED_UP: gettext_lazy("This code has already been used."),
    pricing.NOT_FOR_MEMBER: gettext_lazy("This offer is not for this member."),
    pricing.MEMBER_REQUIRED: gettext_lazy("Sign in or present your loyalty card to use this offer."),
    pricing.NOT_ACTIVE: gettext_lazy("This offer is not running at the moment."),
    pricing.EXPIRED: gettext_lazy("This offer has ended."),
    pricing.NOT_YET_VALID: gettext_lazy("This offer has not started yet."),
    pricing.NOT_VALID_AT_STORE: gettext_lazy("This offer is not valid at this store."),
    pricing.NOT_VALID_AT_THIS_TIME: gettext_lazy("This offer is not valid on this day or at this hour."),
    pricing.NO_ELIGIBLE_LINES: gettext_lazy("No product in the basket is eligible for this offer."),
    pricing.MINIMUM_NOT_MET: gettext_lazy("Add products to reach the offer's minimum basket."),
    pricing.BUDGET_USED_UP: gettext_lazy("This offer's budget is used up."),
    pricing.NOT_COMBINABLE: gettext_lazy("This offer cannot be combined with another one in the basket."),
    pricing.DUPLICATE: gettext_lazy("This offer is already in the basket."),
}


def reason_message(reason: str) -> str:
    return str(REASON_MESSAGES.get(reason, reason))
