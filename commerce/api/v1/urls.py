from django.urls import URLPattern, URLResolver, path, register_converter

from commerce.api.v1.stores import StoreConverter
from commerce.api.v1.views import orders, recommendations, schedules, slots

register_converter(StoreConverter, "store")

urlpatterns: list[URLPattern | URLResolver] = [
    path("pickup-slots", slots.PickupSlotListView.as_view(), name="pickup-slot-list"),
    path("pickup-slots/<int:slot_id>", slots.PickupSlotDetailView.as_view(), name="pickup-slot-detail"),
    path("pickup-slots/<int:slot_id>/orders", slots.SlotOrderQueueView.as_view(), name="pickup-slot-orders"),
    path("pickup-holds", slots.SlotHoldCreateView.as_view(), name="pickup-hold-list"),
    path("pickup-holds/<uuid:hold_id>", slots.SlotHoldDetailView.as_view(), name="pickup-hold-detail"),
    path("orders", orders.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<uuid:order_id>", orders.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/cancel", orders.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<uuid:order_id>/status", orders.OrderStatusView.as_view(), name="order-status"),
    path("recommendations", recommendations.RecommendationsView.as_view(), name="recommendations"),
    path(
        "recommendations/analytics",
        recommendations.RecommendationAnalyticsView.as_view(),
        name="recommendation-analytics",
    ),
    path("product-relations", recommendations.ProductRelationListView.as_view(), name="product-relation-list"),
    path(
        "product-relations/<int:relation_id>",
        recommendations.ProductRelationDetailView.as_view(),
        name="product-relation-detail",
    ),
    path(
        "recommendation-model/rebuilds",
        recommendations.ModelRebuildListView.as_view(),
        name="recommendation-model-rebuild-list",
    ),
    path(
        "recommendation-model/rebuilds/<int:rebuild_id>",
        recommendations.ModelRebuildDetailView.as_view(),
        name="recommendation-model-rebuild-detail",
    ),
    path("pickup-schedules/<store:store>", schedules.PickupScheduleView.as_view(), name="pickup-schedule"),
    path(
        "pickup-schedules/<store:store>/exceptions",
        schedules.SlotExceptionListView.as_view(),
        name="pickup-schedule-exceptions",
    ),
    path(
        "pickup-schedules/<store:store>/exceptions/<int:exception_id>",
        schedules.SlotExceptionDetailView.as_view(),
        name="pickup-schedule-exception",
    ),
]
