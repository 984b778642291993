"""REMOTE_ADDR behind the balancer (LoopbackProxyHeaders, gateway/wsgi.py):
the client's address from loopback's X-Forwarded-For, never from anyone else's."""

import io
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.test import override_settings

from gateway.api.middleware import LoopbackProxyHeaders
from gateway.wsgi import application


def remote_addr_seen(remote_addr: str, forwarded: str | None) -> str:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.update(environ)
        return [b""]

    environ = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    LoopbackProxyHeaders(app)(environ, lambda *args: None)
    return str(seen["REMOTE_ADDR"])


@pytest.mark.parametrize(
    ("remote_addr", "forwarded", "expected"),
    [
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),  # the balancer's client
        ("127.0.0.1", "127.0.0.1, 203.0.113.9", "203.0.113.9"),  # a client's own claim comes first, ignored
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("127.0.0.1", "not-an-address", ""),  # unknown, never loopback
        ("127.0.0.1", None, "127.0.0.1"),  # a loopback client without a proxy
        ("203.0.113.9", "127.0.0.1", "203.0.113.9"),  # anyone else's header proves nothing
    ],
)
def test_remote_addr_trusts_forwarded_for_from_loopback_only(
    remote_addr: str, forwarded: str | None, expected: str
) -> None:
    assert remote_addr_seen(remote_addr, forwarded) == expected


def _metrics_status(remote_addr: str, forwarded: str) -> int:
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/metrics",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": remote_addr,
        "HTTP_X_FORWARDED_FOR": forwarded,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    b"".join(application(environ, lambda line, headers, *rest: status.append(line)))
    return int(status[0].split()[0])


@pytest.mark.django_db
@override_settings(METRICS_TOKEN="")
def test_metrics_stay_private_behind_the_balancer() -> None:
    # given /metrics open to loopback (no token), reached through the balancer on loopback
    # then a client out there is refused, and one on the machine itself is served
    assert _metrics_status("127.0.0.1", "203.0.113.9") == 404
    assert _metrics_status("127.0.0.1", "127.0.0.1") == 200
