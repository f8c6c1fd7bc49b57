"""Responses in the admin: read-only, for the staff of the response's organisation. Superusers
may delete one (a resident's request); the figures follow through the responses' service."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from surveys.organisations.scoping import OrganisationScopedAdminMixin, ReadOnlyAdminMixin
from surveys.questionnaires.models import QuestionKind

from . import services
from .models import Answer, Response


class ContactMonthFilter(admin.SimpleListFilter):
    """The last 24 months, computed rather than queried: a DISTINCT over millions of responses
    would make every page of the list slow."""

    title = _("maand van contact")
    parameter_name = "contact_month"
    months = 24

    def lookups(self, request, model_admin):
        month = timezone.localdate().replace(day=1)
        options = []
        for _i in range(self.months):
            options.append((month.isoformat(), date_format(month, "F Y")))
            month = (month - timedelta(days=1)).replace(day=1)
        return options

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            month = date.fromisoformat(self.value()).replace(day=1)
        except ValueError as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset.filter(contact_month=month)


class LanguageFilter(admin.SimpleListFilter):
    title = _("taal")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        return settings.LANGUAGES

    def queryset(self, request, queryset):
        return queryset.filter(language=self.value()) if self.value() else queryset


class AnswerInline(OrganisationScopedAdminMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = Answer
    fields = ("question_text", "answer")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")

    @admin.display(description=_("vraag"))
    def question_text(self, obj):
        return obj.question.text_nl

    @admin.display(description=_("antwoord"))
    def answer(self, obj):
        question = obj.question
        if question.kind == QuestionKind.YES_NO:
            return gettext("Ja") if obj.value else gettext("Nee")
        if question.kind == QuestionKind.CHOICE:
            return dict(question.choice_options("nl")).get(obj.choice, obj.choice)
        scale = question.scale()
        return f"{obj.value} / {scale[-1]}" if scale else obj.value


@admin.register(Response)
class ResponseAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
    """Read-only: a resident's answer is never edited. Superusers may delete (for example on a
    resident's request); the affected months are then recomputed by the rollup pass."""

    list_display = (
        "submitted_at",
        "organisation",
        "channel",
        "score",
        "source",
        "language",
        "short_comment",
        "is_complete",
    )
    list_filter = ("channel", "source", LanguageFilter, ContactMonthFilter)
    list_select_related = ("organisation",)
    date_hierarchy = "submitted_at"
    search_fields = ("comment",)
    search_help_text = _("Zoek in de toelichtingen.")
    show_full_result_count = False
    list_per_page = 50
    fields = (
        "organisation",
        "channel",
        "survey_version",
        "contact_moment",
        "contact_month",
        "submitted_at",
        "score",
        "comment",
        "language",
        "source",
        "is_complete",
    )
    inlines = [AnswerInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("toelichting"))
    def short_comment(self, obj):
        return Truncator(obj.comment).chars(80)

    def delete_model(self, request, obj):
        self.delete_queryset(request, Response.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.delete_responses(list(queryset.values_list("pk", flat=True)))
