"""Reads on partners, scoped to the caller: another partner's objects do not exist."""

from django.db.models import QuerySet
from django.http import Http404

from partners.callers import Caller
from partners.models import ApiClient, Partner


def partner_of_caller(*, caller: Caller) -> Partner:
    partner = caller.client.partner
    if partner is None:
        raise Http404
    return partner


def api_clients_visible_to(*, caller: Caller) -> QuerySet[ApiClient]:
    if caller.partner_id is None:
        return ApiClient.objects.none()
    return ApiClient.objects.filter(partner_id=caller.partner_id).select_related("partner")


def api_client_get(*, caller: Caller, client_id: str) -> ApiClient:
    client = api_clients_visible_to(caller=caller).filter(client_id=client_id).first()
    if client is None:
        raise Http404
    return client
