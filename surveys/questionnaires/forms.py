"""The staff's form for a survey's questions."""

from django import forms
from django.utils.text import format_lazy
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
