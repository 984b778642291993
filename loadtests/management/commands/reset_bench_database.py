"""Drops and recreates the public schema of the configured database. Refuses
unless the database is the benchmark one (port 15434) or --force is given."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Empty the benchmark database (drops every table)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if str(connection.settings_dict.get("PORT")) != "15434" and not options["force"]:
            raise CommandError("Refusing: this is not the benchmark database (use --force to insist).")
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
