"""Partner self-service: a partner reads its profile and clients and rotates secrets."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.idempotency import idempotent
from gateway.api.params import UPDATED_SINCE, updated_since_param
from partners import selectors, services
from partners.api.v1.serializers import ApiClientOutput, ClientSecretOutput, PartnerOutput
from partners.callers import caller_from_request
from partners.models import ApiClient

TAG = ["partners"]


class PartnerMeView(APIView):
    extra_error_statuses = {"GET": [404]}  # a client that belongs to no partner (the operator's)
    required_scopes = ["partners:manage"]

    @extend_schema(tags=TAG, operation_id="partner_me", responses=PartnerOutput, summary="Your partner profile")
    def get(self, request: Request) -> Response:
        partner = selectors.partner_of_caller(caller=caller_from_request(request))
        return Response(PartnerOutput(partner).data)


class ApiClientListView(ListAPIView[ApiClient]):
    required_scopes = ["partners:manage"]
    serializer_class = ApiClientOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        clients = selectors.api_clients_visible_to(caller=caller_from_request(self.request))
        since = updated_since_param(self.request)
        return clients.filter(updated_at__gte=since) if since is not None else clients

    @extend_schema(
        tags=TAG,
        operation_id="partner_clients_list",
        summary="Your OAuth clients (never their secrets)",
        parameters=[UPDATED_SINCE],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class ApiClientDetailView(APIView):
    required_scopes = ["partners:manage"]

    @extend_schema(
        tags=TAG, operation_id="partner_client_detail", responses=ApiClientOutput, summary="One of your OAuth clients"
    )
    def get(self, request: Request, client_id: str) -> Response:
        client = selectors.api_client_get(caller=caller_from_request(request), client_id=client_id)
        return Response(ApiClientOutput(client).data)


class ApiClientRotateSecretView(APIView):
    required_scopes = ["partners:manage"]
    extra_error_statuses = {"POST": [409]}

    @extend_schema(
        tags=TAG,
        operation_id="partner_client_rotate_secret",
        request=None,
        responses={200: ClientSecretOutput},
        summary="Issue a new client secret",
        description="The old secret stops working at once; tokens already issued live until they expire. "
        "The new secret is in this answer only; a retry with the same Idempotency-Key gets the same secret "
        "again (kept sealed with the stored answer), so a lost answer never locks the client out.",
        examples=[
            OpenApiExample(
                "Rotated",
                value={
                    "client_id": "acme-sync",
                    "client_secret": "x6V...Q",
                    "secret_rotated_at": "2026-11-22T10:00:00Z",
                },
                response_only=True,
            )
        ],
    )
    @idempotent(required=False, sealed=("client_secret",))
    def post(self, request: Request, client_id: str) -> Response:
        client = selectors.api_client_get(caller=caller_from_request(request), client_id=client_id)
        secret = services.api_client_rotate_secret(client=client)
        return Response(
            ClientSecretOutput(
                {"client_id": client.client_id, "client_secret": secret, "secret_rotated_at": client.secret_rotated_at}
            ).data
        )
