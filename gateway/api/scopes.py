"""Scope checks. A view declares what each method needs:

    required_scopes = {"GET": ["inventory:read"], "POST": ["inventory:write"]}

A token lacking one gets 403 ``insufficient_scope``; no token gets 401. The
OpenAPI schema reads the same attribute, so docs and checks cannot drift."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from gateway.api.problems import ProblemError


class InsufficientScope(ProblemError):
    status_code = 403
    code = "insufficient_scope"


def scopes_for(view: Any, method: str) -> list[str]:
    declared: Mapping[str, Sequence[str]] | Sequence[str] | None = getattr(view, "required_scopes", None)
    if declared is None:
        return []
    if isinstance(declared, Mapping):
        method = "GET" if method in {"HEAD", "OPTIONS"} else method
        return list(declared.get(method, []))
    return list(declared)


def token_scopes(request: Request) -> set[str]:
    token = request.auth
    return set((getattr(token, "scope", "") or "").split())


class HasRequiredScopes(BasePermission):
    """Every view needs a valid token unless it sets ``permission_classes``
    itself; the scopes it needs come from ``required_scopes``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.auth is None:
            return False  # DRF answers 401 with the WWW-Authenticate challenge
        needed = scopes_for(view, request.method or "GET")
        missing = [scope for scope in needed if scope not in token_scopes(request)]
        if missing:
            raise InsufficientScope(
                _("This operation needs the scope(s): %(scopes)s.") % {"scopes": ", ".join(missing)},
                extra={"required_scopes": needed},
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(needed)}"'},
            )
        return True
