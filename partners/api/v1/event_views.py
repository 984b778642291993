"""The events feed: the outbox, readable by partners who cannot receive webhooks."""

from urllib.parse import urlencode

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.params import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, choices_param, page_size_param
from gateway.api.problems import InvalidQueryParameter
from partners import selectors
from partners.api.v1.webhook_serializers import EventFeedPage, EventTypeList, EventTypeOutput, event_rows
from partners.callers import caller_from_request
from partners.event_types import EVENT_TYPES, event_type_names

TAG = ["events"]

FEED_DESCRIPTION = """Events whose audience is you (the operator reads all), oldest first.

Poll it: keep the `cursor` of the last event you processed and ask again with
`after=<cursor>`; `next` is set while more events are waiting. An event
appears only once every transaction that began before it has finished, so
reading on from a cursor never skips an event that commits late. Delivery is
at least once and in no guaranteed order across webhooks and this feed; dedupe
on `id` (webhooks carry it as `webhook-id: msg_<id>`).

Event types and their `data`:

""" + "\n".join(f"- `{t.name}`: {t.description}" for t in EVENT_TYPES.values())


def _feed_example(name: str) -> OpenApiExample:
    event_type = EVENT_TYPES[name]
    return OpenApiExample(
        name,
        summary=name,
        response_only=True,
        value={
            "results": [
                {
                    "id": 1042,
                    "cursor": "884211-1042",
                    "type": name,
                    "subject": "stock:PAR01:ACME-001" if name == "stock.changed" else "",
                    "partner_id": 7,
                    "timestamp": "2026-11-22T10:00:00.123456Z",
                    "data": event_type.example,
                }
            ],
            "next": None,
            "previous": None,
        },
    )


class EventFeedView(APIView):
    required_scopes = ["webhooks:manage"]
    extra_error_statuses = {"GET": [400]}

    @extend_schema(
        tags=TAG,
        operation_id="events_feed",
        summary="Read the events feed",
        description=FEED_DESCRIPTION,
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="A `cursor` from an earlier event; omit to start."),
            OpenApiParameter(
                "type", OpenApiTypes.STR, many=True, enum=event_type_names(), description="Only these types."
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
                description=f"Events per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
            ),
        ],
        responses={200: EventFeedPage},
        examples=[_feed_example(name) for name in EVENT_TYPES],
    )
    def get(self, request: Request) -> Response:
        after = request.query_params.get("after")  # empty: from the start, as an empty parameter is everywhere
        try:
            position = selectors.FeedPosition.decode(after) if after else None
        except ValueError as exc:
            raise InvalidQueryParameter("after", _("after must be a cursor returned by this feed.")) from exc
        types = choices_param(request, "type", EVENT_TYPES)
        page_size = page_size_param(request)
        events = selectors.events_feed(
            caller=caller_from_request(request), after=position, types=types, limit=page_size + 1
        )
        page = event_rows(events[:page_size])
        next_url = None
        if len(events) > page_size:
            query = {"after": page[-1]["cursor"], "page_size": page_size}
            if types:
                query["type"] = ",".join(types)
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
        return Response({"results": page, "next": next_url, "previous": None})


class EventTypeListView(APIView):
    required_scopes = ["webhooks:manage"]

    @extend_schema(
        tags=TAG,
        operation_id="event_types_list",
        summary="Event types you can subscribe to",
        description="Every type with what it means and an example of its `data`.",
        responses={200: EventTypeList},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"results": EventTypeOutput(EVENT_TYPES.values(), many=True).data, "next": None, "previous": None}
        )
