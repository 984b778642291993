from django.urls import path

from partners.api.v1 import event_views, views, webhook_views

urlpatterns = [
    path("partners/me", views.PartnerMeView.as_view(), name="partner-me"),
    path("partners/me/clients", views.ApiClientListView.as_view(), name="partner-client-list"),
    path("partners/me/clients/<str:client_id>", views.ApiClientDetailView.as_view(), name="partner-client-detail"),
    path(
        "partners/me/clients/<str:client_id>/rotate-secret",
        views.ApiClientRotateSecretView.as_view(),
        name="partner-client-rotate-secret",
    ),
    path("events", event_views.EventFeedView.as_view(), name="event-feed"),
    path("events/types", event_views.EventTypeListView.as_view(), name="event-type-list"),
    path("webhooks", webhook_views.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:webhook_id>", webhook_views.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:webhook_id>/rotate-secret",
        webhook_views.WebhookRotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries",
        webhook_views.WebhookDeliveryListView.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<int:delivery_id>",
        webhook_views.WebhookDeliveryDetailView.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver",
        webhook_views.WebhookRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
