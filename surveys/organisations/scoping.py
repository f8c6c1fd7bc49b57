"""Staff see only their own organisation's data. Use this in EVERY admin of KTO data.

    from surveys.organisations.scoping import OrganisationScopedAdminMixin

    @admin.register(ApiKey)
    class ApiKeyAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):   # the mixin comes first
        ...

    class DeliveryInline(OrganisationScopedAdminMixin, admin.TabularInline):  # inlines too
        ...

What the mixin does, for a user who is not a superuser:
- ``get_queryset`` keeps only the rows of ``request.user.kto_membership.organisation``. A staff user
  without a StaffMembership sees nothing. Other organisations' rows therefore do not exist for them:
  their change pages redirect to the admin index with "... bestaat niet".
- Foreign-key and many-to-many choices (``organisation``, ``survey``, ``invitation``, ...) only offer
  rows of their own organisation, so a tampered POST gets "Selecteer een geldige keuze".
- ``save_model`` sets ``organisation`` to their own organisation on models that have that field.
- Adding is refused to staff without a membership.
- ``list_filter`` entries on a relation (``"organisation"``, ``"survey"``, ...) only list the
  related rows the user may see, so the names of other organisations never show up in a filter.
- Its lists take ``?lang=`` (the site's language switch) as no filter (ChangeListWithLanguageSwitch).

How a row is tied to its organisation is found from the model: the model itself for Organisation,
its ``organisation`` foreign key, or a chain of foreign keys that ends in one (Question ->
version -> survey -> organisation), at most three steps. Set ``organisation_lookup`` (for example
``"invitation__organisation"``) to choose the path yourself. A model with no such path shows
non-superusers nothing at all, never everything.

The mixin decides which ROWS are visible; what a user may DO (view, change, ...) comes from
Django's permissions, which KTO grants by role (surveys/organisations/roles.py). Superusers see and may do all.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .models import Organisation
from .roles import membership_of

MAX_LOOKUP_DEPTH = 3


def organisation_lookup(model: type[models.Model], depth: int = MAX_LOOKUP_DEPTH) -> str | None:
    """The ORM path from ``model`` to its Organisation, or None when there is none."""
    if model is Organisation:
        return "pk"
    forward = [
        field
        for field in model._meta.get_fields()
        if field.concrete and (field.many_to_one or field.one_to_one) and field.related_model is not None
    ]
    # Prefer the direct field, and a field called ``organisation`` above all.
    forward.sort(key=lambda field: field.name != "organisation")
    for field in forward:
        if field.related_model is Organisation:
            return field.name
    if depth <= 1:
        return None
    for field in forward:
        if field.related_model is model:
            continue
        rest = organisation_lookup(field.related_model, depth - 1)
        if rest is not None:
            return f"{field.name}__{rest}"
    return None


def scope_queryset(queryset: models.QuerySet, user, lookup: str | None = None) -> models.QuerySet:
    """``queryset`` limited to what ``user`` may see (everything for superusers)."""
    if user.is_superuser:
        return queryset
    membership = membership_of(user)
    lookup = lookup if lookup is not None else organisation_lookup(queryset.model)
    if membership is None or lookup is None:
        return queryset.none()
    return queryset.filter(**{lookup: membership.organisation_id})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A relation filter that only offers the related rows the user may see."""

    def field_choices(self, field, request, model_admin):
        visible = scope_queryset(field.related_model._default_manager.all(), request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, ordering=ordering, limit_choices_to={"pk__in": visible.values("pk")}
        )


def _scoped_list_filter(model, entry):
    if not isinstance(entry, str):
        return entry
    try:
        field = get_fields_from_path(model, entry)[-1]
    except (FieldDoesNotExist, NotRelationField):
        return entry
    if field.is_relation and field.related_model is not None and organisation_lookup(field.related_model):
        return (entry, ScopedRelatedFieldListFilter)
    return entry


class ChangeListWithLanguageSwitch(ChangeList):
    """``?lang=en`` chooses the staff pages' language (surveys.common.middleware), so it is no
    filter: Django's list would answer an unknown parameter with its "?e=1" error."""

    def get_filters_params(self, params=None):
        params = super().get_filters_params(params)
        params.pop("lang", None)
        return params


class OrganisationScopedAdminMixin:
    """See the module docstring. Works for ModelAdmin and InlineModelAdmin."""

    organisation_lookup: str | None = None

    def get_organisation_lookup(self) -> str | None:
        return self.organisation_lookup or organisation_lookup(self.model)

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, self.get_organisation_lookup())

    def get_changelist(self, request, **kwargs):
        return ChangeListWithLanguageSwitch

    def get_list_filter(self, request):
        entries = list(super().get_list_filter(request))
        lookup = self.get_organisation_lookup()
        # Superusers see every organisation's rows, so they also get a filter on the organisation.
        if request.user.is_superuser and lookup and lookup.endswith("organisation") and lookup not in entries:
            entries.insert(0, lookup)
        return [_scoped_list_filter(self.model, entry) for entry in entries]

    def _scope_choices(self, formfield, request):
        queryset = getattr(formfield, "queryset", None) if formfield is not None else None
        if queryset is None or request.user.is_superuser:
            return formfield
        if organisation_lookup(queryset.model) is None:
            return formfield  # not organisation data (users, content types, ...)
        formfield.queryset = scope_queryset(queryset, request.user)
        if queryset.model is Organisation and getattr(formfield, "required", False):
            formfield.empty_label = None  # their own organisation is the only, preselected choice
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return self._scope_choices(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return self._scope_choices(super().formfield_for_manytomany(db_field, request, **kwargs), request)

    def assign_organisation(self, request, obj) -> None:
        """A staff member's rows belong to their own organisation, whatever a form sent."""
        membership = membership_of(request.user)
        if not request.user.is_superuser and membership is not None and _has_organisation_field(obj):
            obj.organisation_id = membership.organisation_id

    def save_model(self, request, obj, form, change):
        self.assign_organisation(request, obj)
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request, *args, **kwargs):
        if not request.user.is_superuser and membership_of(request.user) is None:
            return False
        return super().has_add_permission(request, *args, **kwargs)


def _has_organisation_field(obj: models.Model) -> bool:
    try:
        field = obj._meta.get_field("organisation")
    except FieldDoesNotExist:
        return False
    return getattr(field, "related_model", None) is Organisation


class ReadOnlyAdminMixin:
    """For rows staff may look at but never add, change or delete (responses' answers, invitations,
    deliveries, contacts, older survey versions)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
