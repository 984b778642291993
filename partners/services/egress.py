"""One outbound webhook request, connected to the address the SSRF check
approved (no second DNS lookup between check and connect), with TLS still
verified against the URL's host name. No redirect is followed (a 3xx is a
failure, as Standard Webhooks says), no proxy from the environment is used,
and only the first bytes of the answer are read."""

import time
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from partners.services.targets import TargetRefused, target_parse, target_resolve

# Shopify answers in 1 s connect / 5 s total, Saleor 2 s + 18 s; a receiver
# is expected to acknowledge at once and work afterwards.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
TOTAL_TIMEOUT_S = 10.0
EXCERPT_BYTES = 1024


@dataclass(frozen=True)
class HttpOutcome:
    status_code: int | None
    duration_ms: int
    error: str = ""
    excerpt: str = ""
    retry_after_s: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _retry_after(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _pool(*, scheme: str, address: str, port: int, host: str) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S, total=TOTAL_TIMEOUT_S)
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            host=address,
            port=port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=host,
            assert_hostname=host,
        )
    return urllib3.HTTPConnectionPool(host=address, port=port, timeout=timeout, retries=False, maxsize=1)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ConnectTimeoutError):
        return "connect_timeout"
    if isinstance(exc, ReadTimeoutError):
        return "read_timeout"
    if isinstance(exc, SSLError):
        return "tls_error"
    if isinstance(exc, NewConnectionError):
        return "connection_refused"
    return "connection_error"


def post_to_target(*, url: str, body: bytes, headers: dict[str, str], allow_private: bool) -> HttpOutcome:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_parse(url, allow_private=allow_private)
        address = target_resolve(target, allow_private=allow_private)[0]
    except TargetRefused as exc:
        return HttpOutcome(status_code=None, duration_ms=elapsed(), error=exc.code)
    pool = _pool(scheme=target.scheme, address=address, port=target.port, host=target.host)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
        except (ReadTimeoutError, ProtocolError):
            excerpt = ""
        status = response.status
        response.release_conn()
    except (HTTPError, OSError, ValueError) as exc:
        # ValueError: what http.client raises on a request it refuses to send; an
        # attempt never crashes the task, it is logged as failed like any other.
        return HttpOutcome(status_code=None, duration_ms=elapsed(), error=_error_code(exc))
    finally:
        pool.close()
    error = "redirect_not_followed" if 300 <= status < 400 else ""
    return HttpOutcome(
        status_code=status,
        duration_ms=elapsed(),
        error=error,
        excerpt=excerpt,
        retry_after_s=_retry_after(response.headers.get("Retry-After")),
    )
