"""Every error class answers RFC 9457 problem+json with a stable code."""

import json

import pytest
from django.test import Client
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from gateway.api.errors import problem_exception_handler
from gateway.api.problems import FieldInvalid
from partners.models import CallerKind
from tests.factories import api_as, make_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.gateway.urls")]

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = json.loads(response.content)
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "/problems/" + code.replace("_", "-")
    assert body["request_id"] == response["X-Request-ID"]
    return body


@pytest.fixture
def partner_api():
    return api_as(make_client(CallerKind.PARTNER))


def test_no_token_is_401_with_bearer_challenge() -> None:
    response = Client().get("/api/v1/partners/me")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401_invalid_token() -> None:
    response = Client().get("/api/v1/partners/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_missing_scope_is_403_naming_the_scope() -> None:
    api = api_as(make_client(CallerKind.PARTNER), scopes=["inventory:read"])
    body = assert_problem(api.get("/api/v1/partners/me"), 403, "insufficient_scope")
    assert body["required_scopes"] == ["partners:manage"]


def test_unknown_api_path_is_404_problem() -> None:
    assert_problem(Client().get("/api/v1/nothing-here"), 404, "not_found")


def test_other_partners_object_is_404(partner_api) -> None:
    other = make_client(CallerKind.PARTNER)
    assert_problem(partner_api.get(f"/api/v1/partners/me/clients/{other.client_id}"), 404, "not_found")


def test_wrong_method_is_405_with_allow(partner_api) -> None:
    response = partner_api.delete("/api/v1/partners/me")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_plain_django_405_is_problem_too() -> None:
    response = Client().post("/health/live")
    assert_problem(response, 405, "method_not_allowed")


def test_malformed_json_is_400(partner_api) -> None:
    response = partner_api.post(
        "/api/v1/test/slow-create", data="{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert_problem(response, 400, "malformed_request")


def test_validation_errors_are_422_with_field_list(partner_api) -> None:
    response = partner_api.post(
        "/api/v1/test/slow-create", {"name": "", "count": -1}, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )
    body = assert_problem(response, 422, "validation_failed")
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"name", "count"}
    assert all({"field", "code", "message"} == error.keys() for error in body["errors"])


def test_unsupported_media_type_is_415(partner_api) -> None:
    response = partner_api.post(
        "/api/v1/test/slow-create", data="name=x", content_type="text/plain", HTTP_IDEMPOTENCY_KEY="k3"
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_body_over_the_cap_is_413_before_reading(settings, partner_api) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = json.dumps({"name": "x" * 2000, "count": 1})
    response = partner_api.post(
        "/api/v1/test/slow-create", data=payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k4"
    )
    assert_problem(response, 413, "payload_too_large")


def test_crash_is_500_without_internals(partner_api) -> None:
    partner_api.raise_request_exception = False
    response = partner_api.get("/api/v1/test/crash")
    body = assert_problem(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"]


def test_a_request_that_lost_the_database_is_a_503_to_retry_not_a_500(partner_api, caplog) -> None:
    # given a request whose database connection PostgreSQL terminates under it (a restart, a failover)
    partner_api.raise_request_exception = False
    response = partner_api.get("/api/v1/test/lost-database")
    # then it answers 503 service_unavailable with a delay to retry after, and says nothing of the cause
    body = assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "1"
    assert body["detail"] == "La base de données est momentanément injoignable. Réessayez après le délai indiqué."
    assert "terminat" not in response.content.decode()
    assert any("database unreachable" in record.getMessage() for record in caplog.records)


def test_a_failed_statement_is_still_a_500(partner_api) -> None:
    # given a statement PostgreSQL refuses with a SQLSTATE of its own (a deadlock here): the database is there
    partner_api.raise_request_exception = False
    response = partner_api.get("/api/v1/test/lost-database?then=deadlock")
    # then it is the unexpected error it is
    assert_problem(response, 500, "server_error")
    assert "Retry-After" not in response


def test_request_id_is_echoed_or_generated() -> None:
    echoed = Client().get("/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert echoed["X-Request-ID"] == "abc-123"
    generated = Client().get("/health/live", HTTP_X_REQUEST_ID="bad id with spaces\n")
    assert generated["X-Request-ID"] != "bad id with spaces\n"
    assert len(generated["X-Request-ID"]) == 32


def test_titles_follow_accept_language_codes_do_not() -> None:
    french = Client().get("/api/v1/partners/me")
    english = Client().get("/api/v1/partners/me", HTTP_ACCEPT_LANGUAGE="en")
    assert french["Content-Language"] == "fr"
    assert english["Content-Language"] == "en"
    assert json.loads(english.content)["title"] == "Authentication required"
    assert json.loads(french.content)["title"] == "Authentification requise"
    assert json.loads(french.content)["code"] == json.loads(english.content)["code"] == "not_authenticated"


def test_problem_types_are_documented() -> None:
    listing = Client().get("/problems/").json()["results"]
    codes = {item["code"] for item in listing}
    assert {"insufficient_scope", "idempotency_key_reused", "rate_limited", "payload_too_large"} <= codes
    detail = Client().get("/problems/idempotency-key-reused")
    assert detail.status_code == 200
    assert detail.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("code", ["invalid", "unknown_partner"])
def test_a_domain_field_error_reads_as_a_serializer_validation_error(code) -> None:
    # given the same broken rule raised by a serializer (DRF) and by a service (a domain error)
    request = APIRequestFactory().post("/api/v1/products")
    drf = exceptions.ValidationError({"owner": ["No partner with this slug."]}, code=code)
    domain = FieldInvalid("owner", "No partner with this slug.", code=code)
    # when both are answered
    serializer_answer = problem_exception_handler(drf, {"request": request})
    service_answer = problem_exception_handler(domain, {"request": request})
    # then the client cannot tell them apart
    assert serializer_answer is not None
    assert service_answer is not None
    assert serializer_answer.status_code == service_answer.status_code == 422
    assert serializer_answer.data == service_answer.data
