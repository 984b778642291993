"""Where a webhook may point (SSRF guard, docs/api-guide.md, Webhooks).

A target must be ``https`` on the default port, without credentials, and
every address its host resolves to must be public: not private (RFC 1918,
IPv6 ULA fc00::/7), loopback, link-local (169.254.0.0/16 with the cloud
metadata address, fe80::/10), shared (100.64.0.0/10), multicast, reserved or
unspecified. IPv4 addresses hidden in IPv6 forms (::ffff:a.b.c.d, 6to4,
NAT64) are checked as the IPv4 they carry. Numeric oddities such as
``127.1`` or ``2130706433`` are caught because the check runs on what
``getaddrinfo`` resolves, not on the text.

The check runs at registration and again before every attempt (DNS
rebinding); the attempt then connects to the address that was checked.

With settings.WEBHOOK_ALLOW_PRIVATE_TARGETS (local development and tests)
``http`` and any address and port are allowed."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 2000
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """``code`` is stable (it lands in validation errors and the attempt log)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def private_targets_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)


def target_parse(url: str, *, allow_private: bool) -> Target:
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(
            "url_too_long", _("The URL is longer than %(limit)d characters.") % {"limit": MAX_URL_LENGTH}
        )
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise TargetRefused(
            "url_malformed", _("The URL must be ASCII without spaces or control characters (punycode for IDN hosts).")
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("url_malformed", _("The URL cannot be parsed.")) from exc
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        allowed = _("Webhook URLs must use http or https.") if allow_private else _("Webhook URLs must use https.")
        raise TargetRefused("url_scheme_not_allowed", allowed)
    if not parts.hostname:
        raise TargetRefused("url_malformed", _("The URL has no host."))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("url_credentials_not_allowed", _("Webhook URLs must not carry user names or passwords."))
    if parts.fragment:
        raise TargetRefused("url_malformed", _("Webhook URLs must not have a #fragment."))
    default_port = 443 if parts.scheme == "https" else 80
    if port is not None and port != default_port and not allow_private:
        raise TargetRefused("url_port_not_allowed", _("Webhook URLs must use the default https port 443."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=parts.hostname, port=port or default_port, path=path)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_is_public(embedded)
    return address.is_global and not address.is_multicast


def target_resolve(target: Target, *, allow_private: bool) -> list[str]:
    """The addresses to connect to, every one of them checked. Raises
    TargetRefused when the host does not resolve or any address is not public."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(
            "host_not_resolved", _("The host %(host)s does not resolve.") % {"host": target.host}
        ) from exc
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if text not in addresses:
            addresses.append(text)
    if not allow_private:
        for text in addresses:
            if not address_is_public(ipaddress.ip_address(text)):
                raise TargetRefused(
                    "address_not_public",
                    _("The host resolves to a private, loopback, link-local or reserved address."),
                )
    if not addresses:
        raise TargetRefused("host_not_resolved", _("The host %(host)s does not resolve.") % {"host": target.host})
    return addresses


def webhook_url_check(url: str) -> None:
    """Raises TargetRefused when ``url`` may not receive webhooks."""
    allow = private_targets_allowed()
    target_resolve(target_parse(url, allow_private=allow), allow_private=allow)
