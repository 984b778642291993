"""Root URLs: the versioned API, OAuth, docs, health and the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from gateway.api import views as api_views
from gateway.api.schema_view import SchemaView

v1_patterns = [
    path("", include("partners.api.v1.urls")),
    path("", include("inventory.api.v1.urls")),
    path("", include("loyalty.api.v1.urls")),
    path("", include("commerce.api.v1.urls")),
    path("", include("footfall.api.v1.urls")),
]

urlpatterns = [
    path("api/v1/", include((v1_patterns, "v1"), namespace="v1")),
    path("api/v1/schema/", SchemaView.as_view(api_version="v1"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("oauth/", include(("gateway.api.oauth", "oauth2_provider"), namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/live", api_views.health_live, name="health-live"),
    path("health/ready", api_views.health_ready, name="health-ready"),
    path("metrics", api_views.metrics_view, name="metrics"),
    path("problems/", api_views.problem_types, name="problem-types"),
    path("problems/<slug:slug>", api_views.problem_type_detail, name="problem-type"),
    path("admin/", admin.site.urls),
]

handler400 = "gateway.api.errors.handler400"
handler403 = "gateway.api.errors.handler403"
handler404 = "gateway.api.errors.handler404"
handler500 = "gateway.api.errors.handler500"
