"""Loads the demo data set: each app's ``demo.load()``, lowest floor first.

Idempotent: running it again updates the demo rows instead of adding more."""

import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction


class Command(BaseCommand):
    help = "Load (or refresh) the demo partners, stores, clients and data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--data-dir", default="", help="Folder with optional real data sets (CSV) to load.")

    def handle(self, *args: Any, **options: Any) -> None:
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.load(stdout=self.stdout, options=options)
