"""Root URLs of the bench settings: the production ones, with the benchmark
endpoints added to the ``v1`` include rather than beside it: DRF's namespace
versioning refuses a route outside a version namespace, and a second ``v1``
namespace would make reversing ambiguous."""

from django.urls import URLPattern, URLResolver, include, path

from gateway.urls import handler400, handler403, handler404, handler500, v1_patterns
from gateway.urls import urlpatterns as gateway_urlpatterns
from loadtests.views import BareView

bench_patterns = [
    path("bench/bare", BareView.as_view(), name="bench-bare"),
]
# The ceiling resolves where it always did, right after inventory's routes
# (v1_patterns: partners, inventory, commerce, footfall), so it pays the URL
# resolution the availability endpoint pays. Put first, it read 1,896
# requests/s against 1,401 in the interleaved run before the move, while
# availability itself read 621 against 587 (2026-12-04).
_BEFORE_BENCH = 2
_V1_WITH_BENCH: list[URLPattern | URLResolver] = [
    *v1_patterns[:_BEFORE_BENCH],
    *bench_patterns,
    *v1_patterns[_BEFORE_BENCH:],
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include((_V1_WITH_BENCH, "v1"), namespace="v1")),
    *(
        pattern
        for pattern in gateway_urlpatterns
        if isinstance(pattern, URLPattern) or (isinstance(pattern, URLResolver) and pattern.namespace != "v1")
    ),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
