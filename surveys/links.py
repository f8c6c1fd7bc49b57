"""The links a resident receives: built in one place, because the API answers and the invitation
messages (e-mail, SMS, WhatsApp) must hand out exactly the same URLs."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

SCORES = range(1, 11)


def _absolute(path: str, language: str) -> str:
    # Dutch is the default; any other language is chosen with ?lang=, which the
    # LanguageMiddleware turns into the page's language.
    suffix = f"?lang={language}" if language and language != settings.LANGUAGE_CODE else ""
    return f"{settings.KTO_BASE_URL}{path}{suffix}"


def invitation_url(token: str, language: str = "nl") -> str:
    """The invitation's form, in the resident's language."""
    return _absolute(reverse("surveys:invitation", kwargs={"token": token}), language)


def one_click_urls(token: str, language: str = "nl") -> list[tuple[int, str]]:
    """``[(1, url), ..., (10, url)]``: each link stores its score at once and opens the rest of the form."""
    return [
        (score, _absolute(reverse("surveys:one-click", kwargs={"token": token, "score": score}), language))
        for score in SCORES
    ]
