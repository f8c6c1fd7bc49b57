"""API keys in the admin: the plain key is shown once, right after it is created."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from surveys.organisations.scoping import OrganisationScopedAdminMixin

from .models import ApiKey, generate_api_key, hash_api_key


@admin.register(ApiKey)
class ApiKeyAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organisation", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "organisation__name"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "name"]
        return ["organisation", "name", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "organisation"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.prefix, key = generate_api_key()
        obj.key_hash = hash_api_key(key)
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            _("De nieuwe API-sleutel is: %(key)s — kopieer hem nu; hij wordt niet opnieuw getoond.") % {"key": key},
        )

    @admin.action(description=_("Geselecteerde sleutels intrekken"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)d sleutel ingetrokken.", "%(count)d sleutels ingetrokken.", count) % {"count": count},
        )
