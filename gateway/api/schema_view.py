"""The published OpenAPI schema, generated once per process.

drf-spectacular keeps generation state in process-wide objects, so two
requests generating the schema at once in one process can corrupt each
other (its issue #1123): four clients fetching it together got a 500. The
schema is the same for every caller (public, no per-request servers), so
each process generates it once under a lock and serves that copy; the
renderers still give YAML or JSON as the client asks."""

import threading
from typing import Any, ClassVar

from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response


class SchemaView(SpectacularAPIView):
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _generated: ClassVar[dict[str | None, Any]] = {}

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        with SchemaView._lock:
            if version not in SchemaView._generated:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                SchemaView._generated[version] = generator.get_schema(request=None, public=self.serve_public)
            schema = SchemaView._generated[version]
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
