"""The English catalogue: every Dutch source string has a reviewed English translation.
(The browser tests show the English pages; this catches strings added without a translation.)"""

import ast
from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parent.parent / "surveys" / "locale" / "en" / "LC_MESSAGES" / "django.po"


def catalogue() -> list[dict]:
    """The entries of the .po file: flags, msgid and the msgstr(s), with continuation lines joined."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": []}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[current][-1] += ast.literal_eval(line)
            else:
                keyword, _, value = line.partition(" ")
                current = "msgstr" if keyword.startswith("msgstr") else keyword
                entry.setdefault(current, []).append(ast.literal_eval(value))
        if entry.get("msgid", [""])[0]:
            entries.append(entry)
    return entries


def test_every_string_has_an_english_translation():
    untranslated = [e["msgid"][0] for e in catalogue() if not all(e["msgstr"])]
    assert not untranslated, "Translate these in surveys/locale/en/LC_MESSAGES/django.po:\n" + "\n".join(untranslated)


def test_no_translation_is_left_fuzzy():
    fuzzy = [e["msgid"][0] for e in catalogue() if "fuzzy" in e["flags"]]
    assert not fuzzy, "Review these fuzzy translations:\n" + "\n".join(fuzzy)


def test_compiled_catalogue_is_used():
    with translation.override("en"):
        assert translation.gettext("Bedankt voor uw mening!") == "Thank you for your feedback!"
