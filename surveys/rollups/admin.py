"""Contact volumes in the admin: the imported kerncijfers per month, and a page to import a CSV or
XLSX file (surveys/rollups/volumes.py does the checking; a wrong file is refused as a whole with every
wrong row listed). Staff import for their own organisation only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import FileExtensionValidator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Organisation
from surveys.organisations.roles import membership_of
from surveys.organisations.scoping import OrganisationScopedAdminMixin

from .models import ContactVolume, KeyFigure, KeyFigureValue
from .volumes import VolumeImportError, delete_volumes, import_volumes, save_volume

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class VolumeImportForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisatie"),
        queryset=Organisation.objects.all(),
        required=False,
        help_text=_("Leeg: de kolom organisation in het bestand bepaalt de organisatie per rij."),
    )
    file = forms.FileField(
        label=_("Bestand"),
        validators=[FileExtensionValidator(["csv", "xlsx"])],
        help_text=_(
            "CSV of XLSX met de kolommen channel, month (zoals 2018-03) en count; de eerste rij bevat de "
            "kolomnamen. Met een kolom kerncijfer ook de eigen kerncijfers (month: 2018 of 2018-03)."
        ),
    )

    def __init__(self, *args, choose_organisation: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not choose_organisation:
            del self.fields["organisation"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(gettext("Het bestand is groter dan 5 MB."))
        return upload


@admin.register(ContactVolume)
class ContactVolumeAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    list_display = ("month", "channel", "count", "organisation", "source", "imported_at")
    list_filter = ("channel", "organisation")
    ordering = ("-month", "channel")
    readonly_fields = ("imported_at",)
    change_list_template = "admin/surveys/contactvolume/change_list.html"

    def save_model(self, request, obj, form, change):
        self.assign_organisation(request, obj)
        save_volume(obj)

    def delete_model(self, request, obj):
        delete_volumes(ContactVolume.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        delete_volumes(queryset)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="surveys_contactvolume_import"),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        if request.user.is_superuser:
            return True
        return membership_of(request.user) is not None and request.user.has_perm("surveys.add_contactvolume")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        superuser = request.user.is_superuser
        form = VolumeImportForm(request.POST or None, request.FILES or None, choose_organisation=superuser)
        errors = []
        if request.method == "POST" and form.is_valid():
            organisation = (
                form.cleaned_data.get("organisation") if superuser else membership_of(request.user).organisation
            )
            upload = form.cleaned_data["file"]
            try:
                result = import_volumes(upload, filename=upload.name, organisation=organisation)
            except VolumeImportError as exc:
                errors = exc.errors
            else:
                messages.success(
                    request,
                    gettext(
                        "%(volumes)s contactvolumes geïmporteerd (%(created)s nieuw, %(updated)s vervangen) en "
                        "%(kerncijfers)s waarden van kerncijfers. De cijfers worden binnen enkele minuten bijgewerkt."
                    )
                    % {
                        "volumes": result.created + result.updated,
                        "created": result.created,
                        "updated": result.updated,
                        "kerncijfers": result.kerncijfers,
                    },
                )
                return HttpResponseRedirect(reverse("admin:surveys_contactvolume_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Contactvolumes importeren"),
            "form": form,
            "errors": errors,
            "file_name": request.FILES["file"].name if errors and "file" in request.FILES else "",
        }
        return TemplateResponse(request, "admin/surveys/contactvolume/import.html", context)


class KeyFigureValueInline(OrganisationScopedAdminMixin, admin.TabularInline):
    model = KeyFigureValue
    fields = ("period_start", "value", "source")
    extra = 1


@admin.register(KeyFigure)
class KeyFigureAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    """The municipality's own kerncijfers (beside the contact volumes), with their values."""

    list_display = ("name", "organisation", "kind", "period", "channel", "order")
    list_filter = ("organisation", "kind", "channel")
    search_fields = ("name", "name_en")
    fields = ("organisation", "name", "name_en", "kind", "period", "channel", "order")
    inlines = [KeyFigureValueInline]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if request.user.is_superuser else [field for field in fields if field != "organisation"]
