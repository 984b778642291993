"""Sessions, the signed-in user and messages run for the pages meant for
browsers only (gateway/api/browser.py): an API request never reaches them,
the login page and the admin still do, and CSRF still guards the forms."""

from collections import Counter
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import checks
from django.test import Client

from partners.models import CallerKind
from tests.factories import api_as, make_client

pytestmark = pytest.mark.django_db

HOOKS = [
    (SessionMiddleware, "process_request"),
    (AuthenticationMiddleware, "process_request"),
    (MessageMiddleware, "process_request"),
]


@pytest.fixture
def hooks_run(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each browser middleware's request hook ran."""
    runs: Counter[str] = Counter()
    for cls, name in HOOKS:
        original = getattr(cls, name)

        def counted(self: Any, request: Any, _original: Any = original, _name: str = cls.__name__) -> Any:
            runs[_name] += 1
            return _original(self, request)

        monkeypatch.setattr(cls, name, counted)
    return runs


def test_an_api_request_skips_the_browser_middleware(hooks_run: Counter[str]) -> None:
    api = api_as(make_client(CallerKind.OPERATOR))
    response = api.get("/api/v1/products")
    assert response.status_code == 200
    assert not hooks_run
    assert "Set-Cookie" not in response.headers
    # A session cookie gives the API nothing: it authenticates by bearer token only.
    anonymous = Client(HTTP_COOKIE="sessionid=whatever").get("/api/v1/products")
    assert anonymous.status_code == 401
    assert not hooks_run


def test_the_pages_for_browsers_keep_sessions_csrf_and_login(hooks_run: Counter[str]) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    assert set(hooks_run) == {cls.__name__ for cls, _name in HOOKS}
    assert "csrftoken" in page.cookies
    # The form's POST without its token is refused: CSRF still guards the browser pages.
    refused = browser.post("/accounts/login/", {"username": "admin", "password": "x"})
    assert refused.status_code == 403
    get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-admin-password")
    token = page.cookies["csrftoken"].value
    signed_in = browser.post(
        "/accounts/login/", {"username": "admin", "password": "a-long-admin-password", "csrfmiddlewaretoken": token}
    )
    assert signed_in.status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_the_admins_middleware_checks_still_pass() -> None:
    errors = [message for message in checks.run_checks() if (message.id or "").startswith("admin.E4")]
    assert errors == []
