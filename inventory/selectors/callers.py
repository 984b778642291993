"""Reads on inventory, scoped to the caller."""

from inventory.models import ClientLocation
from partners.callers import Caller
from partners.models import CallerKind


def store_id_of_caller(*, caller: Caller) -> int | None:
    """The store a store or device client acts for; None for other callers
    and for a store client that is not bound yet (which then sees nothing)."""
    if caller.kind not in (CallerKind.STORE, CallerKind.DEVICE):
        return None
    if "store_id" not in caller.memo:
        binding = (
            ClientLocation.objects.filter(client_id=caller.client.pk).values_list("location_id", flat=True).first()
        )
        caller.memo["store_id"] = binding
    return caller.memo["store_id"]
