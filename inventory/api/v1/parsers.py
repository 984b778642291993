"""JSON bodies for the inventory writes.

DRF's JSONParser turns ValueError into a 400 but lets RecursionError through,
so a body nested a few thousand levels deep (well under the 4 MiB cap) was a
500. This parser answers it with 400 ``malformed_request`` like any other
unparsable body. (It belongs in gateway/api for every app; it lives here
until the gateway adopts it.)"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class NestingSafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
