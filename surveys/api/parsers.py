import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .exceptions import RequestTooLarge, too_large_message


def max_body_bytes() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class LimitedJSONParser(JSONParser):
    """JSON with a size limit. DRF reads the body from the request stream, which Django does not
    limit (only ``request.body`` is), so the limit is enforced here, for declared and for chunked
    bodies alike."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(too_large_message(limit))
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise RequestTooLarge(too_large_message(limit))
        try:
            return super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:  # nesting deeper than Python's parser follows
            raise ParseError(_("De JSON is te diep genest.")) from None
