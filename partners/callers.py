"""Who is calling: the caller of a request, as selectors and services see it."""

from dataclasses import dataclass, field
from typing import Any

from rest_framework.request import Request

from partners.models import ApiClient, CallerKind


@dataclass
class Caller:
    """The authenticated client behind a request. Selectors scope every read
    by it; ``memo`` caches lookups other apps make for it (such as the store
    a store client acts for) for the life of the request."""

    client: ApiClient
    scopes: frozenset[str]
    user_id: int | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.client.kind

    @property
    def partner_id(self) -> int | None:
        return self.client.partner_id

    @property
    def is_operator(self) -> bool:
        return self.client.kind == CallerKind.OPERATOR


def caller_from_request(request: Request) -> Caller:
    cached: Caller | None = getattr(request, "_gateway_caller", None)
    if cached is not None:
        return cached
    token: Any = request.auth
    caller = Caller(client=token.application, scopes=frozenset(token.scope.split()), user_id=token.user_id)
    request._gateway_caller = caller  # type: ignore[attr-defined]
    return caller
