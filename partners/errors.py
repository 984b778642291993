"""Domain errors of partners."""

from django.utils.translation import gettext_lazy as _

from gateway.api.problems import ProblemError


class ScopeNotAllowed(ProblemError):
    status_code = 422
    code = "scope_not_allowed"
    title = _("Scope not allowed for this kind of client")


class ClientNotConfidential(ProblemError):
    status_code = 409
    code = "client_not_confidential"
    title = _("Public clients have no secret")
