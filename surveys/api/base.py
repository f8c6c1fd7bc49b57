"""What every endpoint of the API shares: it sees only the organisation of the request's key,
reads JSON with a size limit and answers JSON that is always valid UTF-8."""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from .parsers import LimitedJSONParser

LANGUAGES = [("nl", "Nederlands"), ("en", "English")]


class AsciiJSONRenderer(JSONRenderer):
    """Escapes non-ASCII, so that an answer that quotes a caller's malformed text (a lone UTF-16
    surrogate in an invalid choice, say) is still valid UTF-8 instead of a crash while encoding."""

    ensure_ascii = True


class OrganisationApiView(APIView):
    """An endpoint that sees only the organisation of the request's API key."""

    parser_classes = [LimitedJSONParser]
    renderer_classes = [AsciiJSONRenderer]

    @property
    def organisation(self):
        return self.request.auth.organisation
