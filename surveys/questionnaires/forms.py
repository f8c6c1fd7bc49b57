"""The staff's form for a survey's questions."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from surveys.responses.models import Answer

from .models import Question, QuestionKind

CHOICE_KEYS = {"value", "nl", "en"}
CHOICE_VALUE_MAX_LENGTH = Answer._meta.get_field("choice").max_length
CHOICE_EXAMPLE = '[{"value": "afspraak", "nl": "Afspraak", "en": "Appointment"}, ...]'


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


class ChoicesWidget(forms.Widget):
    """The options of a choice question as rows of three text fields: the stored value, the Dutch
    and the English text. Empty rows are left out; two more empty rows are shown than are filled."""

    template_name = "admin/kto/choices_widget.html"
    MAX_ROWS = 30

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        options = [option for option in (value or []) if isinstance(option, dict)]
        rows = options + [{}] * max(2, 4 - len(options))
        context["widget"]["rows"] = [
            {
                "index": index,
                "value": option.get("value", ""),
                "nl": option.get("nl", ""),
                "en": option.get("en", ""),
            }
            for index, option in enumerate(rows[: self.MAX_ROWS])
        ]
        return context

    def value_from_datadict(self, data, files, name):
        options = []
        for index in range(self.MAX_ROWS):
            option = {key: (data.get(f"{name}-{index}-{key}") or "").strip() for key in ("value", "nl", "en")}
            if any(option.values()):
                options.append(option)
        return options

    def value_omitted_from_data(self, data, files, name):
        return not any(key.startswith(f"{name}-") for key in data)


class ChoicesField(forms.Field):
    """The options as a list of {"value", "nl", "en"} (the form checks them, see choice_errors)."""

    widget = ChoicesWidget

    def to_python(self, value):
        return list(value or [])

    def has_changed(self, initial, data):
        return list(initial or []) != self.to_python(data)


class QuestionForm(forms.ModelForm):
    choices = ChoicesField(
        label=_("opties"),
        required=False,
        help_text=_(
            "Alleen voor een keuzevraag: per optie een korte waarde (zoals afspraak) en de tekst in het "
            "Nederlands en Engels."
        ),
    )

    class Meta:
        model = Question
        fields = ("order", "key", "kind", "text_nl", "text_en", "required", "choices")
        help_texts = {
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
