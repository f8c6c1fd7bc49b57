from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from surveys.api.models import ApiKey


class HasOrganisationApiKey(BasePermission):
    """Every API view needs an organisation's key; the views then only see that organisation."""

    message = _("Geef een API-sleutel op: 'Authorization: Api-Key <sleutel>'.")

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)
