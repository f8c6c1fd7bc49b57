"""Responses in the admin: read-only, for the staff of the response's organisation. Superusers
may delete one (a resident's request); the figures follow through the responses' service."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from surveys.organisations.roles import membership_of
from surveys.organisations.scoping import OrganisationScopedAdminMixin, ReadOnlyAdminMixin
from surveys.questionnaires.models import QuestionKind

from . import exports, services
from .filters import CappedPaginator, FollowUpFilter, HasCommentFilter, PeriodFilter, ScoreBandFilter
from .models import Answer, ExportLog, Response


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

    # Short headers and dates, so that every column fits beside the filters at 1280 pixels.
    list_display = (
        "submitted",
        "organisation",
        "channel",
        "cijfer",
        "source",
        "short_comment",
        "is_complete",
    )
    list_filter = (
        "channel",
        PeriodFilter,
        ScoreBandFilter,
        HasCommentFilter,
        "survey_version",
        "source",
        FollowUpFilter,
        LanguageFilter,
    )
    list_select_related = ("organisation",)
    search_fields = ("comment",)  # searched in Dutch full text, see get_search_results
    search_help_text = _("Zoek in de toelichtingen (ook vervoegingen: 'wachten' vindt 'wachtte').")
    show_full_result_count = False
    paginator = CappedPaginator
    ordering = ("-contact_month", "-submitted_at")  # the index response_list_idx
    list_per_page = 50
    change_list_template = "admin/surveys/response/change_list.html"
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

    def get_urls(self):
        return [
            path(
                "export/<str:file_format>/",
                self.admin_site.admin_view(self.export_view),
                name="surveys_response_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request, file_format: str):
        """The responses as the list shows them (filters, search, own organisation only), as a
        streamed CSV or an XLSX file; logged."""
        if file_format not in ("csv", "xlsx") or not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:surveys_response_changelist") + "?e=1")
        membership = membership_of(request.user)
        log = exports.start(request, file_format, membership.organisation_id if membership else None)
        name = f"reacties-{timezone.localdate():%Y-%m-%d}.{file_format}"
        if file_format == "csv":
            answer = StreamingHttpResponse(exports.csv_lines(queryset, log), content_type="text/csv; charset=utf-8")
            answer["Content-Disposition"] = f'attachment; filename="{name}"'
            return answer
        return FileResponse(exports.xlsx_file(queryset, log), as_attachment=True, filename=name)

    def get_list_display(self, request):
        # Staff see one organisation: its column would only take the comment's room.
        columns = super().get_list_display(request)
        return columns if request.user.is_superuser else [c for c in columns if c != "organisation"]

    def get_search_results(self, request, queryset, search_term):
        """PostgreSQL's Dutch full-text search (stemming, stop words) over the comments, through the
        GIN index response_comment_fts; the words as typed, with "quotes" and -not as on the web."""
        if not search_term.strip():
            return queryset, False
        query = SearchQuery(search_term, config="dutch", search_type="websearch")
        # alias(), not annotate(): the vector is only matched, never selected for every row.
        return queryset.alias(search=SearchVector("comment", config="dutch")).filter(search=query), False

    @admin.display(description=_("ingevuld"), ordering="submitted_at")
    def submitted(self, obj):
        return formats.date_format(timezone.localtime(obj.submitted_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("cijfer"), ordering="score")
    def cijfer(self, obj):
        return obj.score

    @admin.display(description=_("toelichting"))
    def short_comment(self, obj):
        return Truncator(obj.comment).chars(80)

    def delete_model(self, request, obj):
        self.delete_queryset(request, Response.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.delete_responses(list(queryset.values_list("pk", flat=True)))


@admin.register(ExportLog)
class ExportLogAdmin(OrganisationScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every export of responses: who, when, with which filter, how many rows."""

    list_display = ("created_at", "username", "organisation", "file_format", "rows", "filters")
    list_filter = ("file_format",)
    search_fields = ("username",)
