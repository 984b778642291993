"""The SQL homes: every registered statement parses against the migrated
schema, each app's statements name only its own tables, and no production
module spells a table name by hand."""

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from gateway import sql
from gateway.sql import REGISTRY, statement

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = [name for name in ("partners", "inventory", "commerce", "loyalty", "footfall") if (ROOT / name).is_dir()]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sb]|%[sb]|%%")


def _import_sql_homes() -> None:
    importlib.import_module("gateway.api.sql")  # the shared API layer's own home
    for app in DOMAIN_APPS:
        try:
            module = importlib.import_module(f"{app}.sql")
        except ModuleNotFoundError:
            continue
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{app}.sql."):
            importlib.import_module(info.name)


def _numbered(text: str) -> str:
    """psycopg placeholders as PostgreSQL's $n, so PREPARE can read them."""
    names: dict[str, int] = {}
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name is not None and name in names:
            return f"${names[name]}"
        count += 1
        if name is not None:
            names[name] = count
        return f"${count}"

    return PLACEHOLDER.sub(number, text)


def test_every_registered_statement_parses_against_the_schema() -> None:
    # Given every app's SQL home imported
    _import_sql_homes()
    assert REGISTRY, "no statement is registered"
    failures = []
    # When PostgreSQL prepares each one (parse and resolve names, run nothing)
    with connection.cursor() as cursor:
        for number, item in enumerate(REGISTRY):
            cursor.execute("SAVEPOINT parse")
            try:
                cursor.execute(f"PREPARE gateway_parse_{number} AS {_numbered(item.sql)}")
                cursor.execute(f"DEALLOCATE gateway_parse_{number}")
            except Exception as exc:  # every failure is collected and reported
                failures.append(f"{item.module}: {exc}\n{item.sql}")
            cursor.execute("ROLLBACK TO SAVEPOINT parse")
    # Then none fails
    assert not failures, "\n\n".join(failures)


def test_each_app_names_only_its_own_tables() -> None:
    _import_sql_homes()
    crossing = [
        f"{item.module} names {model._meta.label}"
        for item in REGISTRY
        for model in item.models
        if item.module.split(".")[0] in DOMAIN_APPS and model._meta.app_label != item.module.split(".")[0]
    ]
    assert not crossing


def test_no_production_module_spells_a_table_name() -> None:
    # Given every table of the domain apps
    tables = {model._meta.db_table for app in DOMAIN_APPS for model in apps.get_app_config(app).get_models()}
    pattern = re.compile(r"\b(" + "|".join(sorted(tables, key=len, reverse=True)) + r")\b")
    # When every production module is read (migrations are history, not code)
    offenders = [
        f"{path.relative_to(ROOT)}:{line_number}: {line.strip()}"
        for app in DOMAIN_APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for line_number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    # Then none writes one by hand
    assert not offenders, "\n".join(offenders)


def test_the_shared_api_layer_spells_no_table_name() -> None:
    # Given the tables the API layer reads (its own app's and the OAuth
    # toolkit's) and every table of the domain apps
    labels = ["gateway_api", "oauth2_provider", *DOMAIN_APPS]
    tables = {model._meta.db_table for label in labels for model in apps.get_app_config(label).get_models()}
    pattern = re.compile(r"\b(" + "|".join(sorted(tables, key=len, reverse=True)) + r")\b")
    # When every module of gateway/api is read
    offenders = [
        f"{path.relative_to(ROOT)}:{line_number}: {line.strip()}"
        for path in sorted((ROOT / "gateway" / "api").rglob("*.py"))
        if "migrations" not in path.parts
        for line_number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    # Then none writes one by hand: gateway/api/sql.py takes them from the models
    assert not offenders, "\n".join(offenders)


def test_an_unknown_field_fails_when_the_statement_is_declared() -> None:
    from partners.models import Partner

    with pytest.raises(ImproperlyConfigured, match=r"Partner\.no_such_field"):
        statement("SELECT {p.no_such_field} FROM {p}", p=Partner)
    with pytest.raises(ImproperlyConfigured, match="no model was given"):
        statement("SELECT 1 FROM {q}", p=Partner)


def test_names_resolve_to_tables_and_columns() -> None:
    from commerce.models import PickupSlot

    text = sql.fragment("{s} {s.store} {s.booked} '{{}}'", s=PickupSlot)
    assert text == "commerce_pickupslot store_id booked '{}'"


def test_a_column_that_does_not_exist_fails_the_parse_check() -> None:
    # The parse check itself must be able to fail: a plain column name that
    # PostgreSQL does not know is refused by PREPARE.
    from partners.models import Partner

    text = statement("SELECT p.no_such_column FROM {p} p WHERE p.id = %(id)s", p=Partner)
    REGISTRY.pop()
    with connection.cursor() as cursor, pytest.raises(Exception, match="no_such_column"):
        cursor.execute(f"PREPARE gateway_parse_bad AS {_numbered(text)}")


def test_a_string_part_is_a_fragment_inserted_as_it_is() -> None:
    from commerce.models import PickupSlot

    published = sql.fragment("(SELECT 1 AS id, '{{}}'::text AS t)")
    text = sql.fragment("SELECT {s.booked} FROM {s} s JOIN {other} o ON o.id = s.id", s=PickupSlot, other=published)
    assert text == "SELECT booked FROM commerce_pickupslot s JOIN (SELECT 1 AS id, '{}'::text AS t) o ON o.id = s.id"
