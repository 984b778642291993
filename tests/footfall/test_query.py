"""The KPI and aggregate queries are declared once (footfall/api/v1/query.py):
the committed schema documents exactly the declared parameters, and the view
reads each of them by the declaration (a value the schema refuses is a 400
naming the parameter, a value it lists is taken)."""

from pathlib import Path

import pytest
import yaml

from footfall.api.v1.views import AggregatesQuery, KpisQuery

ROOT = Path(__file__).resolve().parents[2]
PATHS = yaml.safe_load((ROOT / "schema" / "openapi-v1.yaml").read_text())["paths"]
RANGE = {"from": "2026-03-09", "to": "2026-03-15"}


@pytest.mark.parametrize(
    ("path", "declared"),
    [("/api/v1/footfall/kpis", KpisQuery), ("/api/v1/footfall/aggregates", AggregatesQuery)],
)
def test_the_schema_documents_the_declared_parameters(path, declared) -> None:
    documented = {p["name"]: p for p in PATHS[path]["get"]["parameters"] if p["in"] == "query"}
    assert set(documented) == {p.name for p in declared.parameters}
    for parameter in declared.parameters:
        assert documented[parameter.name].get("required", False) == parameter.required
        enum = getattr(parameter, "enum", None)
        if enum:
            assert sorted(documented[parameter.name]["schema"]["enum"]) == sorted(enum)


@pytest.mark.parametrize(
    ("path", "name", "bad"),
    [
        ("/api/v1/footfall/kpis", "capture_formula", "entries"),
        ("/api/v1/footfall/kpis", "from", "09/03/2026"),
        ("/api/v1/footfall/kpis", "store", "PAR\u000701"),
        ("/api/v1/footfall/aggregates", "granularity", "minute"),
        ("/api/v1/footfall/aggregates", "kind", "door"),
        ("/api/v1/footfall/aggregates", "to", "tomorrow"),
    ],
)
def test_a_value_outside_the_declaration_is_a_400_naming_it(operator_api, store, path, name, bad) -> None:
    response = operator_api.get(path, {"store": store.code, **RANGE, name: bad})
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], body["errors"][0]["field"]) == ("invalid_query_parameter", name)


@pytest.mark.parametrize("formula", list(KpisQuery.capture_formula.values))
def test_every_documented_formula_is_taken(operator_api, store, formula) -> None:
    response = operator_api.get("/api/v1/footfall/kpis", {"store": store.code, **RANGE, "capture_formula": formula})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("granularity", list(AggregatesQuery.granularity.values))
def test_every_documented_granularity_is_taken(operator_api, store, granularity) -> None:
    response = operator_api.get(
        "/api/v1/footfall/aggregates", {"store": store.code, **RANGE, "granularity": granularity}
    )
    assert response.status_code == 200, response.content
