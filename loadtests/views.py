"""The ceiling of loadtests/bench_availability.py: an authenticated DRF view
(same authentication, scope check and rate limiter as every endpoint) that
answers a constant. Served only by the bench URLs (loadtests/urls.py)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class BareView(APIView):
    required_scopes = ["inventory:read"]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})
