from django.urls import path

from partners.api.v1 import views

urlpatterns = [
    path("partners/me", views.PartnerMeView.as_view(), name="partner-me"),
    path("partners/me/clients", views.ApiClientListView.as_view(), name="partner-client-list"),
    path("partners/me/clients/<str:client_id>", views.ApiClientDetailView.as_view(), name="partner-client-detail"),
    path(
        "partners/me/clients/<str:client_id>/rotate-secret",
        views.ApiClientRotateSecretView.as_view(),
        name="partner-client-rotate-secret",
    ),
]
