"""``Authorization: Api-Key <key>``: one key per system of one organisation."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from surveys.api.models import ApiKey
from surveys.common.ratelimits import failed_api_key

KEYWORD = "Api-Key"


class ApiKeyAuthentication(BaseAuthentication):
    """Sets ``request.auth`` to the ApiKey and ``request.organisation`` to its organisation.
    There is no user: the organisation is the principal."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Geef de sleutel op als 'Authorization: Api-Key <sleutel>'."))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Ongeldige API-sleutel.")) from exc
        api_key = ApiKey.objects.for_key(key)
        if api_key is None and (wait := failed_api_key(request._request)):
            raise exceptions.Throttled(wait=wait)
        if api_key is None:
            # Unknown and revoked keys get the same answer: a guess learns nothing.
            raise exceptions.AuthenticationFailed(_("Ongeldige of ingetrokken API-sleutel."))
        api_key.touch()
        request.organisation = api_key.organisation
        return (None, api_key)

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) with a WWW-Authenticate header.
        return f'{KEYWORD} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the key in the OpenAPI schema (and gives the docs page its Authorize button)."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _(
                    "Een API-sleutel van uw organisatie, als 'Api-Key <sleutel>'. Sleutels maakt een beheerder aan "
                    "in het beheer of met 'manage.py create_api_key <organisatie>'."
                )
            ),
        }
