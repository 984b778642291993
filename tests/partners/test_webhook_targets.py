"""SSRF guard on webhook URLs: refused at registration (before any traffic)
and again at delivery time (DNS rebinding), unless settings allow private
targets (local development and tests)."""

import ipaddress
import socket
from typing import Any

import pytest

from partners.models import CallerKind, WebhookAttempt, WebhookSubscription
from partners.services import event_record, events_fan_out
from partners.services.delivery import webhook_delivery_attempt
from partners.services.targets import address_is_public
from partners.services.webhooks import webhook_subscription_create
from tests.factories import PartnerFactory, api_as, make_client
from tests.partners.test_webhook_support import running_receiver

PUBLIC = "93.184.215.14"


@pytest.fixture
def strict(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Answers for made-up host names (the sandbox has no DNS); others resolve as usual."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port, 0, 0) if ":" in ip else (ip, port),
                )
                for ip in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def create(url: str) -> Any:
    api = api_as(make_client(CallerKind.PARTNER))
    return api.post("/api/v1/webhooks", {"url": url, "event_types": ["stock.changed"]}, format="json")


@pytest.mark.django_db
@pytest.mark.usefixtures("strict")
@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://93.184.215.14/hook", "url_scheme_not_allowed"),
        ("https://127.0.0.1/", "address_not_public"),
        ("https://localhost/hook", "address_not_public"),
        ("https://[::1]/", "address_not_public"),
        ("https://0.0.0.0/", "address_not_public"),
        ("https://127.1/", "address_not_public"),
        ("https://2130706433/", "address_not_public"),
        ("https://0x7f000001/", "address_not_public"),
        ("https://[::ffff:127.0.0.1]/", "address_not_public"),
        ("https://169.254.169.254/latest/meta-data/", "address_not_public"),
        ("https://10.1.2.3/", "address_not_public"),
        ("https://172.16.0.1/", "address_not_public"),
        ("https://192.168.1.10/", "address_not_public"),
        ("https://100.64.0.1/", "address_not_public"),
        ("https://[fd12:3456::1]/", "address_not_public"),
        ("https://[fe80::1]/", "address_not_public"),
        ("file:///etc/passwd", "url_scheme_not_allowed"),
        ("gopher://93.184.215.14/", "url_scheme_not_allowed"),
        ("ftp://93.184.215.14/", "url_scheme_not_allowed"),
        ("dict://93.184.215.14:11211/", "url_scheme_not_allowed"),
        ("https://user:pass@93.184.215.14/", "url_credentials_not_allowed"),
        ("https://93.184.215.14:8443/", "url_port_not_allowed"),
        ("https://93.184.215.14:99999/", "url_malformed"),
        ("https:///nohost", "url_malformed"),
        ("https://does-not-resolve.invalid/", "host_not_resolved"),
        ("https://93.184.215.14/a\r\nX-Injected: 1", "invalid_characters"),  # refused as text, before parsing
        ("https://93.184.215.14/a b", "url_malformed"),
        ("https://bücher.example/", "url_malformed"),
    ],
)
def test_refused_urls_are_a_422_naming_the_url_field(url: str, code: str) -> None:
    response = create(url)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "url", "code": code, "message": response.json()["errors"][0]["message"]}
    ]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("strict")
def test_a_public_https_url_is_accepted() -> None:
    assert create(f"https://{PUBLIC}/hooks/gateway").status_code == 201


@pytest.mark.django_db
@pytest.mark.usefixtures("strict")
def test_registration_never_connects_to_the_target() -> None:
    with running_receiver([200]) as receiver:
        response = create(receiver.url.replace("http://", "https://"))
    assert response.status_code == 422
    assert receiver.connections == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("strict")
def test_a_name_resolving_to_any_private_address_is_refused(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["hooks.partner.example"] = [PUBLIC, "10.0.0.7"]
    response = create("https://hooks.partner.example/gateway")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "address_not_public"


@pytest.mark.django_db
@pytest.mark.usefixtures("strict")
def test_dns_rebinding_is_caught_at_delivery_time(fake_dns: dict[str, list[str]]) -> None:
    # given a subscription whose host resolved to a public address when registered
    partner = PartnerFactory.create()
    fake_dns["hooks.partner.example"] = [PUBLIC]
    webhook_subscription_create(partner=partner, url="https://hooks.partner.example/gw", event_types=["*"])
    event = event_record(type="stock.changed", payload={"sku": "A"}, partner_id=partner.pk)
    (delivery_id,) = events_fan_out(event_ids=[event.pk]).delivery_ids
    # when the name now resolves to loopback
    fake_dns["hooks.partner.example"] = ["127.0.0.1"]
    attempt = webhook_delivery_attempt(delivery_id=delivery_id)
    # then the attempt was blocked before connecting, and logged as a failure
    assert attempt is not None
    assert (attempt.status_code, attempt.succeeded, attempt.error) == (None, False, "address_not_public")


@pytest.mark.django_db
def test_a_loopback_subscription_made_in_development_is_not_called_once_targets_are_strict(settings: Any) -> None:
    partner = PartnerFactory.create()
    with running_receiver([200]) as receiver:
        webhook_subscription_create(partner=partner, url=receiver.url, event_types=["*"])
        event = event_record(type="stock.changed", payload={"sku": "A"}, partner_id=partner.pk)
        (delivery_id,) = events_fan_out(event_ids=[event.pk]).delivery_ids
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
        webhook_delivery_attempt(delivery_id=delivery_id)
    assert receiver.connections == 0
    assert WebhookAttempt.objects.get(delivery_id=delivery_id).error == "url_scheme_not_allowed"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        (PUBLIC, True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("fc00::1", False),
        ("ff02::1", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("198.18.0.1", False),  # benchmarking range
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert address_is_public(ipaddress.ip_address(address)) is public
