from django.contrib import admin

from surveys.organisations.scoping import OrganisationScopedAdminMixin

from .models import RetentionRun


@admin.register(RetentionRun)
class RetentionRunAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    """Read-only: what retention erased and deleted, day by day (the privacy officer's evidence)."""

    list_display = (
        "ran_at",
        "organisation",
        "comments_erased",
        "responses_deleted",
        "contacts_deleted",
        "invitations_deleted",
        "cooldowns_deleted",
        "comments_before",
        "raw_data_before",
    )
    list_filter = ("organisation",)
    date_hierarchy = "ran_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
