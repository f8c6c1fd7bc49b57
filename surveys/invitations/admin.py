"""Invitations and their delivery in the staff interface: read-only, scoped to the staff member's
organisation, and never showing a token or an address (only whether one is still held)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from surveys.organisations.scoping import OrganisationScopedAdminMixin, ReadOnlyAdminMixin

from .models import Contact, Delivery, Invitation


class DeliveryInline(OrganisationScopedAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = Delivery
    organisation_lookup = "invitation__organisation"
    fields = ("method", "status", "attempts", "sent_at", "address_held", "provider_reference", "error")
    readonly_fields = fields
    extra = 0

    @admin.display(boolean=True, description=_("adres nog bewaard"))
    def address_held(self, obj: Delivery) -> bool:
        return bool(obj.recipient)


class DeliveryStatusFilter(admin.SimpleListFilter):
    title = _("verzending")
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("none", _("Geen (link via het eigen systeem)")), *Delivery.Status.choices]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(delivery__isnull=True)
        if self.value() in Delivery.Status.values:
            return queryset.filter(delivery__status=self.value())
        return queryset


@admin.register(Invitation)
class InvitationAdmin(OrganisationScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "organisation",
        "channel",
        "status",
        "delivery_method",
        "delivery_status",
        "address_held",
        "expires_at",
    )
    list_filter = ("status", "channel", DeliveryStatusFilter)
    list_select_related = ("organisation", "delivery")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    fields = (
        "organisation",
        "channel",
        "contact_moment",
        "language",
        "status",
        "created_at",
        "expires_at",
        "sent_at",
        "opened_at",
        "answered_at",
        "link_scanner_at",
    )
    inlines = [DeliveryInline]

    @admin.display(description=_("methode"))
    def delivery_method(self, obj: Invitation) -> str:
        delivery = _delivery(obj)
        return delivery.get_method_display() if delivery else "–"

    @admin.display(description=_("verzending"))
    def delivery_status(self, obj: Invitation) -> str:
        delivery = _delivery(obj)
        return delivery.get_status_display() if delivery else "–"

    @admin.display(boolean=True, description=_("adres nog bewaard"))
    def address_held(self, obj: Invitation) -> bool:
        delivery = _delivery(obj)
        return bool(delivery and delivery.recipient)


def _delivery(invitation: Invitation) -> Delivery | None:
    try:
        return invitation.delivery
    except Delivery.DoesNotExist:
        return None


@admin.register(Contact)
class ContactAdmin(OrganisationScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The contact moments registered through the API, with whether (and why not) the resident
    was invited."""

    list_display = ("contact_moment", "organisation", "channel", "reference", "language", "outcome")
    list_filter = ("outcome", "channel")
    list_select_related = ("organisation",)
    date_hierarchy = "contact_moment"
    search_fields = ("reference",)
    show_full_result_count = False
    list_per_page = 50
    fields = ("organisation", "channel", "contact_moment", "reference", "language", "outcome", "created_at")
