"""Writes on inventory."""

from django.db import transaction

from inventory.models import ClientLocation, Location
from partners.models import ApiClient


def client_location_bind(*, client: ApiClient, location: Location) -> ClientLocation:
    """Bind a store or device client to the store it acts for (replacing any earlier binding)."""
    with transaction.atomic():
        binding, _ = ClientLocation.objects.update_or_create(client=client, defaults={"location": location})
    return binding
