"""Bind a store or device client to its store."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.models import Location, LocationKind
from inventory.services import client_location_bind
from partners.models import ApiClient, CallerKind


class Command(BaseCommand):
    help = "Bind a store or device API client to the store (location code) it acts for."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")
        parser.add_argument("location_code")

    def handle(self, *args: Any, **options: Any) -> None:
        client = ApiClient.objects.filter(client_id=options["client_id"]).first()
        if client is None or client.kind not in (CallerKind.STORE, CallerKind.DEVICE):
            raise CommandError("No store or device client with that id.")
        location = Location.objects.filter(code=options["location_code"], kind=LocationKind.STORE).first()
        if location is None:
            raise CommandError("No store with that code.")
        client_location_bind(client=client, location=location)
        self.stdout.write(f"{client.client_id} acts for {location.code}")
