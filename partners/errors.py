"""Domain errors of partners."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gateway.api.problems import ProblemError


class ObjectNotFound(ProblemError):
    """Absent, or another partner's (never 403: no enumeration). Answered
    exactly as the ``Http404`` it replaces was: 404 ``not_found`` with DRF's
    own detail, whose translation Django's catalogues carry."""

    status_code = 404
    code = "not_found"
    default_detail = _("Not found.")


class ScopeNotAllowed(ProblemError):
    status_code = 422
    code = "scope_not_allowed"
    title = _("Scope not allowed for this kind of client")


class ClientNotConfidential(ProblemError):
    status_code = 409
    code = "client_not_confidential"
    title = _("Public clients have no secret")


class WebhookFieldInvalid(ProblemError):
    """A subscription field breaks a rule only the service can check (the URL
    resolves to a private address, an unknown event type)."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(
            gettext("%(count)d field(s) failed validation.") % {"count": 1},
            extra={"errors": [{"field": field, "code": code, "message": message}]},
        )


class WebhookDisabled(ProblemError):
    status_code = 409
    code = "webhook_disabled"
    title = _("The webhook subscription is disabled")


class WebhookLimitReached(ProblemError):
    status_code = 409
    code = "webhook_limit_reached"
    title = _("Too many webhook subscriptions")
