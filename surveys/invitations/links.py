"""The links a resident receives: built in one place, because the API answers and the invitation
messages (e-mail, SMS, WhatsApp) must hand out exactly the same URLs."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, reverse

SCORES = range(1, 11)
# Tokens are URL-safe base64 (common.tokens.new_token), so they go into a path unescaped: reverse() is
# asked once for the paths' shape and the token put in its place, as a bulk answer of the API
# holds eleven thousand links.
_PLACEHOLDER = "TOKEN"


@lru_cache(maxsize=4)
def _paths(script_prefix: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    form = reverse("surveys:invitation", kwargs={"token": _PLACEHOLDER})
    one_click = tuple(
        (score, reverse("surveys:one-click", kwargs={"token": _PLACEHOLDER, "score": score})) for score in SCORES
    )
    return form, one_click


def _affixes(language: str) -> tuple[str, str]:
    # Dutch is the default; another language is chosen with ?lang=, which the LanguageMiddleware
    # turns into the page's language.
    suffix = f"?lang={language}" if language and language != settings.LANGUAGE_CODE else ""
    return settings.KTO_BASE_URL, suffix


def invitation_url(token: str, language: str = "nl") -> str:
    """The invitation's form, in the resident's language."""
    base, suffix = _affixes(language)
    return f"{base}{_paths(get_script_prefix())[0].replace(_PLACEHOLDER, token, 1)}{suffix}"


def one_click_urls(token: str, language: str = "nl") -> list[tuple[int, str]]:
    """``[(1, url), ..., (10, url)]``: each link stores its score at once and opens the rest of the form."""
    base, suffix = _affixes(language)
    return [
        (score, f"{base}{path.replace(_PLACEHOLDER, token, 1)}{suffix}")
        for score, path in _paths(get_script_prefix())[1]
    ]
