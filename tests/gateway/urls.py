"""Test-only URLs: the real gateway URLs plus views that exercise the shared
machinery in ways no product endpoint does on demand (a crash, a slow write)."""

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.utils import ConnectionHandler
from django.urls import include, path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.idempotency import idempotent
from gateway.api.problems import Conflict
from gateway.urls import urlpatterns as gateway_urlpatterns
from partners.models import Partner


class NoteInput(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=50)
    count = serializers.IntegerField(min_value=0, max_value=1000)


class CrashView(APIView):
    required_scopes = ["partners:manage"]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internal detail: password=hunter2")


class LostDatabaseView(APIView):
    """Runs a statement on a connection that PostgreSQL has just terminated
    (what a request in flight meets when the server restarts or fails over):
    a connection of its own to the test database, without the pool, whose
    backend the request's usual connection terminates. ``?then=deadlock``
    fails a statement instead (a real SQLSTATE: not a lost database)."""

    required_scopes = ["partners:manage"]

    def get(self, request: Request) -> Response:
        if request.query_params.get("then") == "deadlock":
            with connection.cursor() as cursor:  # the deadlock's SQLSTATE, raised by PostgreSQL itself
                cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '40P01'; END $$")
        own = {**settings.DATABASES["default"], "OPTIONS": {}, "CONN_HEALTH_CHECKS": False}
        handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, "lost": own})
        lost = handler["lost"]
        try:
            with lost.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            with lost.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            lost.close()
        return Response({"detail": "the terminated connection answered"})


class SlowCreateView(APIView):
    """Creates a partner (a real effect to count) after a delay, so a
    concurrent duplicate arrives while the first is still running."""

    required_scopes = ["partners:manage"]

    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        time.sleep(float(request.query_params.get("delay", "0")))
        partner = Partner.objects.create(name=data.validated_data["name"], slug=f"p-{time.time_ns()}")
        return Response({"id": partner.pk, "name": partner.name}, status=201)


class ServerErrorResponseView(APIView):
    required_scopes = ["partners:manage"]

    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        Partner.objects.create(name="should-roll-back", slug=f"p-{time.time_ns()}")
        return Response({"detail": "upstream failed"}, status=503)


class WriteThenRefuseView(APIView):
    """Writes a partner, then refuses with a 4xx: a stored refusal must not
    keep what the handler wrote before it."""

    required_scopes = ["partners:manage"]

    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        Partner.objects.create(name=request.data.get("name", "half-done"), slug=f"p-{time.time_ns()}")
        if request.data.get("returned"):
            return Response({"detail": "refused after writing"}, status=409)
        raise Conflict("Refused after writing.")


test_patterns = [
    path("write-then-refuse", WriteThenRefuseView.as_view()),
    path("crash", CrashView.as_view()),
    path("lost-database", LostDatabaseView.as_view()),
    path("slow-create", SlowCreateView.as_view()),
    path("server-error", ServerErrorResponseView.as_view()),
]

urlpatterns = [
    path("api/v1/test/", include((test_patterns, "v1"), namespace="v1")),
    *gateway_urlpatterns,
]
handler400 = "gateway.api.errors.handler400"
handler403 = "gateway.api.errors.handler403"
handler404 = "gateway.api.errors.handler404"
handler500 = "gateway.api.errors.handler500"
