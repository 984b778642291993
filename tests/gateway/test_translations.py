"""French is the default language of every human-readable answer: each
message of the catalogue has a French text that gettext will serve (an
empty or fuzzy entry is served in English)."""

import re
from pathlib import Path

from django.utils import translation

from gateway.api.strict import StrictIntegerField

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_french_text() -> None:
    entries = CATALOGUE.read_text().split("\n\n")[1:]  # the first entry is the header
    fuzzy = [entry for entry in entries if "#, fuzzy" in entry]
    empty = [entry for entry in entries if re.search(r'^msgstr ""\Z', entry.strip(), re.M)]
    assert not fuzzy, fuzzy
    assert not empty, empty


def test_a_strict_field_refuses_in_french() -> None:
    with translation.override("fr"):
        message = str(StrictIntegerField().error_messages["invalid"])
    assert message == "Un entier JSON est attendu (pas un texte, un décimal ni un booléen)."
