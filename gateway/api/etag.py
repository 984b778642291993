"""Strong ETags from a resource's version, ``If-Match`` on writes (412 on
mismatch, 428 when required and missing) and ``If-None-Match`` on reads (304)."""

from django.utils.http import parse_etags, quote_etag
from rest_framework.request import Request

from gateway.api.problems import PreconditionFailed, PreconditionRequired


def etag_for(kind: str, pk: object, version: int) -> str:
    """``"<kind>-<pk>-v<version>"``: changes exactly when the row's version does."""
    return quote_etag(f"{kind}-{pk}-v{version}")


def check_if_match(request: Request, current: str, *, required: bool = True) -> None:
    """Raise 412 when If-Match names another version, 428 when it is required and absent."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise PreconditionRequired()
        return
    tags = parse_etags(header)
    if "*" not in tags and current not in tags:
        raise PreconditionFailed()


def not_modified(request: Request, current: str) -> bool:
    """True when If-None-Match already names the current version (answer 304)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or current in tags
