"""Writes of partners: API clients, the events outbox and webhooks.

clients     api_client_create, api_client_rotate_secret
events      events_record / event_record (the outbox), the doorbell, fan-out to deliveries
webhooks    subscriptions: create, update, delete, rotate secret, disable, redeliver
delivery    one signed attempt, retries, the sweep
targets     SSRF guard on webhook URLs; egress sends one request
signing     whsec_ secrets and Standard Webhooks signatures
"""

from partners.services.clients import api_client_create, api_client_rotate_secret, new_client_secret
from partners.services.events import FanOut, NewEvent, event_record, events_fan_out, events_record

__all__ = [
    "FanOut",
    "NewEvent",
    "api_client_create",
    "api_client_rotate_secret",
    "event_record",
    "events_fan_out",
    "events_record",
    "new_client_secret",
]
