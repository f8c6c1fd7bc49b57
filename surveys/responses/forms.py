"""The residents' rating form, built from a survey version."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from surveys.invitations.addresses import InvalidRecipient, normalise_recipient
from surveys.questionnaires.models import QuestionKind, SurveyVersion

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 11)]


def valid_score(value: object) -> bool:
    """A rapportcijfer: a whole number from 1 to 10."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10


class ResponseForm(forms.Form):
    """Rapportcijfer (required), the version's extra questions, and the optional comment.
    Field names of extra questions are ``q_<key>``."""

    score = forms.TypedChoiceField(
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Kies een rapportcijfer van 1 tot en met 10."),
            "invalid_choice": _("Kies een rapportcijfer van 1 tot en met 10."),
        },
    )

    def __init__(self, *args, version: SurveyVersion, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = version
        self.fields["score"].label = version.score_label(language)
        self.extra_questions = list(version.questions.all())
        # Numeric scales are laid out as a grid of number buttons; other choices as a list (presentation only).
        self.scale_fields = {"score"} | {f"q_{q.key}" for q in self.extra_questions if q.scale()}
        for question in self.extra_questions:
            self.fields[f"q_{question.key}"] = self._field_for(question, language)
        comment_label = version.comment_label(language)
        if comment_label:
            limit = settings.KTO_COMMENT_MAX_LENGTH
            self.fields["comment"] = forms.CharField(
                label=comment_label,
                required=False,
                max_length=limit,
                widget=forms.Textarea(attrs={"rows": 4, "maxlength": limit}),
                error_messages={
                    "max_length": _(
                        "Uw toelichting is te lang: gebruik hoogstens %(limit_value)d tekens "
                        "(u gebruikte er %(show_value)d)."
                    )
                },
            )

        # Follow-up of a low score: the resident may leave a way to be reached, kept apart from the
        # response (surveys/followups) and erased when the question is dealt with.
        self.fields["may_contact"] = forms.TypedChoiceField(
            label=_("Mag de gemeente contact met u opnemen over uw reactie?"),
            required=False,
            choices=[("1", _("Ja")), ("0", _("Nee"))],
            coerce=lambda value: value == "1",
            empty_value=False,
            widget=forms.RadioSelect,
        )
        self.fields["contact"] = forms.CharField(
            label=_("Uw telefoonnummer of e-mailadres"),
            help_text=_(
                "Alleen als u hierboven ja kiest. We gebruiken het alleen om u hierover te bellen of te mailen."
            ),
            required=False,
            max_length=254,
        )

    def clean(self):
        cleaned = super().clean()
        contact = (cleaned.get("contact") or "").strip()
        if cleaned.get("may_contact") and not contact:
            self.add_error("contact", _("Vul uw telefoonnummer of e-mailadres in, of kies nee."))
        elif contact and not cleaned.get("may_contact"):
            self.add_error("may_contact", _("Kies ja als de gemeente contact met u mag opnemen."))
        elif contact:
            try:
                cleaned["contact"] = normalise_recipient(contact)
            except InvalidRecipient:
                self.add_error("contact", _("Dit is geen geldig telefoonnummer of e-mailadres."))
        return cleaned

    def contact(self) -> str:
        """The resident's phone number or e-mail address, when they want to be contacted."""
        return self.cleaned_data.get("contact", "") if self.cleaned_data.get("may_contact") else ""

    @staticmethod
    def _field_for(question, language: str) -> forms.Field:
        label = question.text(language)
        required = question.required
        if question.kind == QuestionKind.YES_NO:
            choices = [("1", _("Ja")), ("0", _("Nee"))]
        elif question.kind == QuestionKind.CHOICE:
            return forms.ChoiceField(
                label=label,
                required=required,
                choices=question.choice_options(language),
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": _("Kies een van de opties.")},
            )
        else:
            choices = [(str(n), str(n)) for n in question.scale()]
        return forms.TypedChoiceField(
            label=label,
            required=required,
            choices=choices,
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect,
            error_messages={
                "required": _("Beantwoord deze vraag."),
                "invalid_choice": _("Kies een van de antwoorden."),
            },
        )

    def answers(self) -> dict[str, object]:
        return {q.key: self.cleaned_data.get(f"q_{q.key}") for q in self.extra_questions}

    def comment(self) -> str:
        return self.cleaned_data.get("comment", "") or ""
