"""Organisations and their staff in the admin. Every admin of KTO is scoped to the staff member's
organisation (surveys/organisations/scoping.py); what they may do follows from their role
(surveys/organisations/roles.py)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from surveys.questionnaires.services import create_default_survey

from .models import Organisation, OrganisationChannel, StaffMembership
from .scoping import OrganisationScopedAdminMixin


class OrganisationChannelInline(OrganisationScopedAdminMixin, admin.TabularInline):
    model = OrganisationChannel
    fields = ("channel", "enabled", "sample_one_in")
    extra = 0
    # A channel is switched off, not deleted: its surveys and responses stay meaningful.
    can_delete = False


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "enabled_channel_list")
    search_fields = ("name", "slug")
    inlines = [OrganisationChannelInline]
    fields = (
        "name",
        "slug",
        "logo",
        "brand_colour",
        "invitation_valid_days",
        "invitation_cooldown_days",
        "follow_up_below",
        "comment_retention_months",
        "response_retention_months",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    def get_readonly_fields(self, request, obj=None):
        # The slug is in every link and QR code already handed out.
        return () if request.user.is_superuser else ("slug",)

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if request.user.is_superuser else {}

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("actieve kanalen"))
    def enabled_channel_list(self, obj):
        return ", ".join(str(c.get_channel_display()) for c in obj.channels.all() if c.enabled)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Every channel gets the default survey, so residents can rate it at once.
        for channel in form.instance.channels.values_list("channel", flat=True):
            create_default_survey(organisation=form.instance, channel=channel)


@admin.register(StaffMembership)
class StaffMembershipAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    """Who belongs to which organisation, with which role. Only superusers assign them: a
    membership decides which organisation's data someone sees."""

    list_display = ("user", "organisation", "role")
    list_select_related = ("user", "organisation")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
