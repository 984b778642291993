"""French is the default language of every human-readable answer: each
message of the catalogue has a French text that gettext will serve (an
empty or fuzzy entry is served in English)."""

import ast
import re
from pathlib import Path

from django.utils import translation

from gateway.api.strict import StrictIntegerField

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
APPS = ("commerce", "footfall", "gateway", "inventory", "loyalty", "partners")
# How the code names gettext's functions (``gettext as _``, ``gettext_lazy as _``, or by name).
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy"}


def catalogue_messages() -> set[str]:
    text = CATALOGUE.read_text()
    return {"".join(re.findall(r'"(.*)"', block)) for block in re.findall(r'^msgid ((?:".*"\n)+)', text, re.M)}


def messages_in_code() -> dict[str, str]:
    """Every literal message the apps' code passes to gettext: message -> where."""
    found: dict[str, str] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_NAMES
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_message_has_a_french_text() -> None:
    entries = CATALOGUE.read_text().split("\n\n")[1:]  # the first entry is the header
    fuzzy = [entry for entry in entries if "#, fuzzy" in entry]
    empty = [entry for entry in entries if re.search(r'^msgstr ""\Z', entry.strip(), re.M)]
    assert not fuzzy, fuzzy
    assert not empty, empty


def test_every_message_of_the_code_is_in_the_catalogue() -> None:
    # a message missing from the catalogue is served in English (manage.py makemessages -l fr, then translate)
    in_code = messages_in_code()
    assert len(in_code) > 300  # the scan finds the code's messages
    known = catalogue_messages()
    missing = {message: where for message, where in in_code.items() if message.replace('"', '\\"') not in known}
    assert not missing, missing


def test_a_strict_field_refuses_in_french() -> None:
    with translation.override("fr"):
        message = str(StrictIntegerField().error_messages["invalid"])
    assert message == "Un entier JSON est attendu (pas un texte, un décimal ni un booléen)."
