from django.urls import path

from footfall.api.v1 import calendar, views

urlpatterns = [
    path("footfall/calendar", calendar.CalendarListView.as_view(), name="footfall-calendar-list"),
    path("footfall/calendar/<int:day_id>", calendar.CalendarDetailView.as_view(), name="footfall-calendar-detail"),
    path("footfall/counts", views.CountBatchView.as_view(), name="footfall-counts"),
    path("footfall/counts/csv", views.CountCsvView.as_view(), name="footfall-counts-csv"),
    path("footfall/counts/xovis", views.XovisPushView.as_view(), name="footfall-counts-xovis"),
    path("footfall/counts/axis", views.AxisExportView.as_view(), name="footfall-counts-axis"),
    path("footfall/sales", views.SalesBatchView.as_view(), name="footfall-sales"),
    path("footfall/sensors", views.SensorListView.as_view(), name="footfall-sensor-list"),
    path("footfall/sensors/<str:code>", views.SensorDetailView.as_view(), name="footfall-sensor-detail"),
    path("footfall/aggregates", views.AggregatesView.as_view(), name="footfall-aggregates"),
    path("footfall/kpis", views.KpisView.as_view(), name="footfall-kpis"),
    path("footfall/anomalies", views.AnomalyListView.as_view(), name="footfall-anomaly-list"),
    path("footfall/anomalies/<int:anomaly_id>", views.AnomalyDetailView.as_view(), name="footfall-anomaly-detail"),
]
