"""Every error of the API as JSON in DRF's shape: 400 with field messages, 401, 404, 409, 413."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from surveys.common.unavailable import DATABASE_ERRORS, RETRY_AFTER


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Het verzoek is te groot.")
    default_code = "request_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Dit conflicteert met eerdere gegevens.")
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("KTO is even niet bereikbaar. Probeer het over een halve minuut opnieuw.")
    default_code = "service_unavailable"


def too_large_message(limit: int) -> str:
    return _("Het verzoek is groter dan %(limit)d bytes.") % {"limit": limit}


def exception_handler(exc, context):
    """DRF's handler, plus the Django exceptions that mean 'bad request' rather than 'bug'.
    Anything else still propagates: a 500 is a bug to fix, not to hide."""
    if isinstance(exc, exceptions.NotAuthenticated):
        auth_header = getattr(exc, "auth_header", None)
        exc = exceptions.NotAuthenticated(_("Geef een API-sleutel op: 'Authorization: Api-Key <sleutel>'."))
        exc.auth_header = auth_header  # set by APIView; it becomes the WWW-Authenticate header
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(too_large_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DataError):
        # A value the database cannot hold (out of range, too long) that validation let through.
        exc = exceptions.ValidationError({"non_field_errors": [_("Een waarde valt buiten het toegestane bereik.")]})
    elif isinstance(exc, DATABASE_ERRORS):
        exc = ServiceUnavailable()
    answer = drf_exception_handler(exc, context)
    if answer is not None and isinstance(exc, ServiceUnavailable):
        answer["Retry-After"] = str(RETRY_AFTER)
    return answer
