"""The KCC staff interface (Django admin), minimal until the full staff interface arrives.

Every admin here is scoped to the staff member's organisation (surveys/admin_scoping.py);
what they may do follows from their role (surveys/roles.py). Responses are read-only.
A survey version that has responses is frozen: saving changes to it stores them as a new
version, so that earlier answers keep the meaning of the questions they answered.
"""

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator, format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_scoping import OrganisationScopedAdminMixin, ReadOnlyAdminMixin
from .models import (
    Answer,
    Organisation,
    OrganisationChannel,
    Question,
    QuestionKind,
    Response,
    StaffMembership,
    Survey,
    SurveyVersion,
)

admin.site.site_header = _("KTO – klanttevredenheid")
admin.site.site_title = _("KTO – klanttevredenheid")
admin.site.index_title = _("Beheer")

CHOICE_KEYS = {"value", "nl", "en"}
CHOICE_VALUE_MAX_LENGTH = Answer._meta.get_field("choice").max_length
CHOICE_EXAMPLE = '[{"value": "afspraak", "nl": "Afspraak", "en": "Appointment"}, ...]'


# --- organisations ----------------------------------------------------------------------------


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
    fields = ("name", "slug", "logo", "brand_colour", "invitation_valid_days", "invitation_cooldown_days")

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
            services.create_default_survey(organisation=form.instance, channel=channel)


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


# --- surveys and their versions -------------------------------------------------------------


def with_version_state(queryset):
    """Annotate versions with ``has_responses`` and their survey's ``current_number``."""
    latest = SurveyVersion.objects.filter(survey=OuterRef("survey")).order_by("-number").values("number")[:1]
    return queryset.annotate(
        has_responses=Exists(Response.objects.filter(survey_version=OuterRef("pk"))),
        current_number=Subquery(latest),
    )


def is_frozen(version: SurveyVersion) -> bool:
    annotated = getattr(version, "has_responses", None)
    return annotated if annotated is not None else version.is_frozen


def is_current(version: SurveyVersion) -> bool:
    current = getattr(version, "current_number", None)
    if current is None:
        current = version.survey.versions.aggregate(n=Max("number"))["n"]
    return version.number == current


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


def choice_errors(choices) -> list[str]:
    """What is wrong with the options of a choice question (an empty list when nothing is)."""
    if not isinstance(choices, list):
        return [gettext("De opties moeten een lijst zijn, bijvoorbeeld %(example)s.") % {"example": CHOICE_EXAMPLE}]
    if len(choices) < 2:
        return [
            gettext("Een keuzevraag heeft minstens twee opties nodig, bijvoorbeeld %(example)s.")
            % {"example": CHOICE_EXAMPLE}
        ]
    errors, seen = [], set()
    for number, option in enumerate(choices, start=1):
        if not isinstance(option, dict):
            errors.append(
                gettext('Optie %(number)s moet de vorm {"value": ..., "nl": ..., "en": ...} hebben.')
                % {"number": number}
            )
            continue
        unknown = sorted(set(option) - CHOICE_KEYS)
        value, nl, en = option.get("value"), option.get("nl"), option.get("en", "")
        if unknown:
            errors.append(
                gettext("Optie %(number)s heeft onbekende sleutels: %(keys)s. Gebruik alleen value, nl en en.")
                % {"number": number, "keys": ", ".join(unknown)}
            )
        if not isinstance(value, str) or not value.strip():
            errors.append(gettext('Optie %(number)s mist een "value" (tekst).') % {"number": number})
        elif len(value) > CHOICE_VALUE_MAX_LENGTH:
            errors.append(
                gettext('De "value" van optie %(number)s is langer dan %(max)s tekens.')
                % {"number": number, "max": CHOICE_VALUE_MAX_LENGTH}
            )
        elif value in seen:
            errors.append(
                gettext('De "value" %(value)s komt vaker voor; elke optie heeft een eigen waarde nodig.')
                % {"value": value}
            )
        else:
            seen.add(value)
        if not isinstance(nl, str) or not nl.strip():
            errors.append(gettext('Optie %(number)s mist een Nederlandse tekst ("nl").') % {"number": number})
        if not isinstance(en, str):
            errors.append(gettext('De Engelse tekst ("en") van optie %(number)s moet tekst zijn.') % {"number": number})
    return errors


class QuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ("order", "key", "kind", "text_nl", "text_en", "required", "choices")
        widgets = {"choices": forms.Textarea(attrs={"rows": 3, "cols": 40})}
        help_texts = {
            "choices": format_lazy(_("Alleen voor een keuzevraag, bijvoorbeeld {example}."), example=CHOICE_EXAMPLE),
            "key": _("Blijft gelijk tussen versies, zodat de cijfers van een vraag te volgen zijn."),
        }

    def clean_choices(self):
        choices = self.cleaned_data.get("choices")
        return [] if choices in (None, "") else choices

    def clean(self):
        cleaned = super().clean()
        kind, choices = cleaned.get("kind"), cleaned.get("choices")
        if kind == QuestionKind.CHOICE:
            for error in choice_errors(choices):
                self.add_error("choices", error)
        elif kind and choices:
            self.add_error(
                "choices",
                gettext("Alleen een keuzevraag heeft opties: maak dit veld leeg of kies de soort “%(kind)s”.")
                % {"kind": QuestionKind.CHOICE.label},
            )
        return cleaned


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
        (None, {"fields": ("survey", "number", "state")}),
        (
            _("Teksten"),
            {
                "fields": (
                    "intro_nl",
                    "intro_en",
                    "score_label_nl",
                    "score_label_en",
                    "comment_label_nl",
                    "comment_label_en",
                )
            },
        ),
    ]
    save_as = False

    def get_queryset(self, request):
        return with_version_state(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        return ("number", "state") if obj is None else ("survey", "number", "state")

    def has_change_permission(self, request, obj=None):
        # Older versions are history: only the version in use can be edited.
        return super().has_change_permission(request, obj) and (obj is None or is_current(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not is_frozen(obj))

    @admin.display(description=_("status"))
    def state(self, obj):
        return version_state(obj)

    def save_model(self, request, obj, form, change):
        if not change:
            # Lock the survey so that two new versions cannot get the same number.
            survey = Survey.objects.select_for_update().get(pk=obj.survey_id)
            obj.number = (survey.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        elif Response.objects.filter(survey_version_id=obj.pk).exists():
            obj._kto_frozen = True  # save_related stores the edits as a new version, if there are any
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        frozen = getattr(form.instance, "_kto_frozen", False)
        if frozen and (form.has_changed() or any(formset.has_changed() for formset in formsets)):
            self._save_as_new_version(request, form, formsets)
        else:
            # Also for a frozen version saved without changes: nothing is written then.
            super().save_related(request, form, formsets, change)

    def _save_as_new_version(self, request, form, formsets):
        """Copy the frozen version with its questions, then apply the edits to the copy."""
        version = form.instance
        original = SurveyVersion.objects.get(pk=version.pk)
        copy = services.new_survey_version(version=original)
        keys = dict(Question.objects.filter(version=original).values_list("pk", "key"))
        copied = dict(Question.objects.filter(version=copy).values_list("key", "pk"))
        version.pk, version.number, version.created_at = copy.pk, copy.number, copy.created_at
        version.save()
        for formset in formsets:
            for question_form in formset.initial_forms:
                question = question_form.instance
                if question.pk in keys:
                    question.pk = copied[keys[question.pk]]
                    question.version = version
            self.save_formset(request, form, formset, change=True)
        version._kto_forked_from = original
        self.message_user(
            request,
            gettext(
                "Versie %(old)s heeft al reacties en is daarom niet gewijzigd. Uw wijzigingen zijn opgeslagen "
                "als versie %(new)s; die wordt nu gebruikt."
            )
            % {"old": original.number, "new": version.number},
            messages.SUCCESS,
        )

    def response_change(self, request, obj):
        if getattr(obj, "_kto_forked_from", None) is None:
            return super().response_change(request, obj)
        # Django's own message would link the old version; ours names both.
        if "_continue" in request.POST:
            return HttpResponseRedirect(reverse("admin:surveys_surveyversion_change", args=[obj.pk]))
        return HttpResponseRedirect(reverse("admin:surveys_surveyversion_changelist"))


# --- responses (read-only) --------------------------------------------------------------------


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

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        services.delete_responses(list(queryset.values_list("pk", flat=True)))


# Admin modules of other parts of KTO register themselves on import (one line each, below).
from . import rollups_admin  # noqa: F401, E402
from .api import admin as api_admin  # noqa: F401, E402
from .delivery import admin as delivery_admin  # noqa: F401, E402
