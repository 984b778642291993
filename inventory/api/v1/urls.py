from django.urls import URLPattern, URLResolver, path, register_converter

from inventory.api.v1.converters import ReferenceConverter
from inventory.api.v1.views import availability, locations, products, stock, sync

register_converter(ReferenceConverter, "ref")

urlpatterns: list[URLPattern | URLResolver] = [
    path("products", products.ProductListView.as_view(), name="product-list"),
    path("products/<int:product_id>", products.ProductDetailView.as_view(), name="product-detail"),
    path("products/<int:product_id>/stock", stock.ProductStockListView.as_view(), name="product-stock"),
    path("locations", locations.LocationListView.as_view(), name="location-list"),
    path("locations/<ref:code>", locations.LocationDetailView.as_view(), name="location-detail"),
    path("locations/<ref:code>/stock", stock.LocationStockListView.as_view(), name="location-stock"),
    path("locations/<ref:code>/stock/<ref:sku>", stock.StockLevelView.as_view(), name="stock-level"),
    path(
        "locations/<ref:code>/stock/<ref:sku>/adjustments",
        stock.StockAdjustmentView.as_view(),
        name="stock-level-adjust",
    ),
    path("stock/sync", sync.StockSyncView.as_view(), name="stock-sync"),
    path("availability", availability.AvailabilityView.as_view(), name="availability"),
]
