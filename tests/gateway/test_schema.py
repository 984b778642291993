"""The committed OpenAPI contract matches the code and is valid OpenAPI 3.1."""

import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "openapi-v1.yaml"


@pytest.fixture(scope="module")
def generated() -> str:
    out = io.StringIO()
    call_command("spectacular", "--api-version", "v1", "--fail-on-warn", stdout=out)
    return out.getvalue()


def test_committed_schema_matches_the_code(generated: str) -> None:
    assert SCHEMA_FILE.read_text() == generated, "schema/openapi-v1.yaml drifted: run bin/schema and commit it"


def test_schema_is_valid_openapi_31(generated: str) -> None:
    document = yaml.safe_load(generated)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_declares_oauth_scopes_and_error_responses(generated: str) -> None:
    document = yaml.safe_load(generated)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            security = operation.get("security", [])
            assert any("oauth2" in item for item in security), f"{method} {path} has no OAuth2 security"
            assert "401" in operation["responses"], f"{method} {path} does not document 401"
            problem = operation["responses"]["401"]["content"]["application/problem+json"]
            assert problem["schema"]["$ref"].endswith("/Problem")


def test_docs_pages_are_served_from_local_files(client) -> None:
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    redoc = client.get("/api/redoc/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in redoc
    for text in (html, redoc):
        # Every script, style and link is the server's own (a nonce in the page
        # may spell anything, so hosts are looked for, not substrings).
        assert _EXTERNAL.findall(text) == []
        assert "cdn.jsdelivr" not in text
        assert "unpkg.com" not in text


_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.django_db
def test_schema_endpoint_is_public_so_the_docs_can_load_it(client) -> None:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"openapi: 3.1" in response.content


def _gtins(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [value for key, value in node.items() if key == "gtin" and isinstance(value, str)]
        return found + [gtin for value in node.values() for gtin in _gtins(value)]
    if isinstance(node, list):
        return [gtin for value in node for gtin in _gtins(value)]
    return []


def test_every_gtin_in_the_examples_has_its_check_digit(generated: str) -> None:
    # Swagger's "Try it out" sends the example as it is: a wrong check digit made it fail with a 422
    from inventory.models import validate_gtin

    gtins = _gtins(yaml.safe_load(generated))
    assert gtins
    for gtin in gtins:
        validate_gtin(gtin)
