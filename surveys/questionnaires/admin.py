"""Surveys and their versions in the admin. A version that has responses is frozen: saving
edits to it stores them as a new version (surveys/questionnaires/services.py decides), so that
earlier answers keep the meaning of the questions they answered."""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Max
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from surveys.organisations.scoping import OrganisationScopedAdminMixin, ReadOnlyAdminMixin

from . import services
from .forms import QuestionForm
from .models import Question, Survey, SurveyVersion
from .selectors import is_current, is_frozen, with_version_state


def version_state(version: SurveyVersion) -> str:
    if version.pk is None:
        return gettext("Nieuwe versie; het versienummer wordt bij het opslaan toegekend.")
    if not is_current(version):
        return gettext("Vervangen door een nieuwere versie; alleen te bekijken.")
    if is_frozen(version):
        return gettext(
            "In gebruik. Deze versie heeft al reacties en verandert daarom niet meer: als u wijzigingen "
            "opslaat, worden die een nieuwe versie. Eerdere antwoorden houden zo hun betekenis."
        )
    return gettext("In gebruik. Nog geen reacties: wijzigingen gelden meteen.")


class SurveyVersionInline(OrganisationScopedAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    """The versions of a survey, newest first; each opens on its own page."""

    model = SurveyVersion
    fields = ("number", "created_at", "score_label_nl", "state")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return with_version_state(super().get_queryset(request)).order_by("-number")

    @admin.display(description=_("status"))
    def state(self, obj):
        return version_state(obj)


@admin.register(Survey)
class SurveyAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    """Surveys come with the organisation's channels; their content lives in versions."""

    list_display = ("__str__", "organisation", "channel", "current_version_number")
    list_select_related = ("organisation",)
    list_filter = ("channel",)
    inlines = [SurveyVersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(current_number=Max("versions__number"))

    def get_fields(self, request, obj=None):
        can_add_version = request.user.has_perm("surveys.add_surveyversion")
        return ("organisation", "channel", "new_version_link") if can_add_version else ("organisation", "channel")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("huidige versie"), ordering="current_number")
    def current_version_number(self, obj):
        return obj.current_number

    @admin.display(description=_("nieuwe versie"))
    def new_version_link(self, obj):
        url = reverse("admin:surveys_surveyversion_add") + f"?survey={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("Een lege nieuwe versie toevoegen"))


class QuestionInline(OrganisationScopedAdminMixin, admin.TabularInline):
    model = Question
    form = QuestionForm
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or obj.pk is None or is_current(obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(SurveyVersion)
class SurveyVersionAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "number", "created_at", "state")
    list_select_related = ("survey__organisation",)
    list_filter = ("survey__channel",)
    inlines = [QuestionInline]
    fieldsets = [
        (None, {"fields": ("survey", "number", "state", "preview")}),
        (_("Teksten"), {"fields": services.TEXTS}),
    ]
    save_as = False

    def get_queryset(self, request):
        return with_version_state(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        return ("number", "state", "preview") if obj is None else ("survey", "number", "state", "preview")

    def get_urls(self):
        return [
            path(
                "<int:pk>/voorbeeld/",
                self.admin_site.admin_view(self.preview_view),
                name="surveys_surveyversion_preview",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("voorbeeld"))
    def preview(self, obj):
        if obj is None or obj.pk is None:
            return gettext("Na het opslaan.")
        url = reverse("admin:surveys_surveyversion_preview", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?language=en">{}</a>', url, gettext("Nederlands"), url, gettext("Engels")
        )

    def preview_view(self, request, pk: int):
        """The version as residents will see it, in Dutch or English; sending is not possible here."""
        version = self.get_queryset(request).filter(pk=pk).select_related("survey__organisation").first()
        if version is None or not self.has_view_permission(request, version):
            raise Http404
        from surveys.responses.forms import ResponseForm  # the residents' form, as they get it

        # ?language=, not the site's ?lang=: previewing English leaves the staff member's admin in Dutch.
        language = request.GET.get("language", settings.LANGUAGE_CODE)
        language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        with translation.override(language):
            context = {
                "form": ResponseForm(version=version, language=language),
                "organisation": version.survey.organisation,
                "version": version,
                "preview": True,
            }
            return render(request, "surveys/form.html", context)

    def has_change_permission(self, request, obj=None):
        # Older versions are history: only the version in use can be edited.
        return super().has_change_permission(request, obj) and (obj is None or is_current(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not is_frozen(obj))

    @admin.display(description=_("status"))
    def state(self, obj):
        return version_state(obj)

    def save_model(self, request, obj, form, change):
        """Saved in save_related, with its questions, by the service (which numbers a new version
        and stores the edits of a frozen one as the next version)."""

    def save_related(self, request, form, formsets, change):
        questions, deleted = [], []
        for formset in formsets:
            questions += formset.save(commit=False)
            deleted += formset.deleted_objects
        if change:
            services.save_version(form.instance, questions=questions, deleted=deleted)
        else:
            services.add_version(form.instance, questions)

    def response_change(self, request, obj):
        current = obj.survey.current_version()
        if current.pk == obj.pk:
            return super().response_change(request, obj)
        # Only the version in use can be edited, so a newer one is this save's: Django's own
        # message would link the old version, ours names both.
        self.message_user(
            request,
            gettext(
                "Versie %(old)s heeft al reacties en is daarom niet gewijzigd. Uw wijzigingen zijn opgeslagen "
                "als versie %(new)s; die wordt nu gebruikt."
            )
            % {"old": obj.number, "new": current.number},
            messages.SUCCESS,
        )
        if "_continue" in request.POST:
            return HttpResponseRedirect(reverse("admin:surveys_surveyversion_change", args=[current.pk]))
        return HttpResponseRedirect(reverse("admin:surveys_surveyversion_changelist"))
