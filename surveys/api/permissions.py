from rest_framework.permissions import BasePermission


class HasOrganisationApiKey(BasePermission):
    def has_permission(self, request, view):
        return False
