"""The follow-up queue in the admin: low scores to call back, oldest deadline first; a staff member
takes one, notes what was done, closes it. The resident's contact details show only here."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from surveys.organisations.roles import membership_of
from surveys.organisations.scoping import OrganisationScopedAdminMixin

from . import services
from .models import FollowUp, FollowUpStatus


class OverdueFilter(admin.SimpleListFilter):
    title = _("termijn")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("te laat")), ("no", _("op tijd"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.exclude(status=FollowUpStatus.DONE).filter(due_at__lt=now)
        if self.value() == "no":  # done, or still within its days
            return queryset.exclude(~Q(status=FollowUpStatus.DONE) & Q(due_at__lt=now))
        return queryset


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ("status", "assigned_to", "note")


@admin.register(FollowUp)
class FollowUpAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    form = FollowUpForm
    list_display = ("due_at", "status", "score", "channel", "short_comment", "assigned_to", "age", "overdue")
    list_filter = ("status", OverdueFilter, "assigned_to")
    list_select_related = ("response", "assigned_to")
    readonly_fields = ("score", "channel", "comment", "contact_address", "created_at", "due_at", "closed_at")
    fields = readonly_fields + ("status", "assigned_to", "note")
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("response", "contact")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":  # only the organisation's own staff
            membership = membership_of(request.user)
            users = get_user_model().objects.filter(is_active=True, is_staff=True)
            if not request.user.is_superuser:
                users = users.filter(kto_membership__organisation_id=membership.organisation_id if membership else None)
            kwargs["queryset"] = users.order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return False  # items come from residents' low scores

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.update_follow_up(
            obj, status=obj.status, assigned_to=obj.assigned_to, note=form.cleaned_data.get("note", "")
        )

    @admin.display(description=_("cijfer"))
    def score(self, obj):
        return obj.response.score

    @admin.display(description=_("kanaal"))
    def channel(self, obj):
        return obj.response.get_channel_display()

    @admin.display(description=_("toelichting"))
    def comment(self, obj):
        return obj.response.comment or "–"

    @admin.display(description=_("toelichting"))
    def short_comment(self, obj):
        return Truncator(obj.response.comment).chars(60) or "–"

    @admin.display(description=_("contactgegevens van de inwoner"))
    def contact_address(self, obj):
        contact = getattr(obj, "contact", None)
        return contact.address if contact else _("(geen, of gewist)")

    @admin.display(description=_("leeftijd"))
    def age(self, obj):
        return timesince(obj.created_at)

    @admin.display(description=_("te laat"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue()
