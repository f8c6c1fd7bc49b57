from django.conf import settings
from django.urls import reverse
from django.utils import translation

SUPPORTED = {code for code, _name in settings.LANGUAGES}


class LanguageMiddleware:
    """Dutch unless chosen otherwise with ``?lang=en`` (the visible switch, a plain link that works
    without JavaScript); the browser's Accept-Language is ignored on purpose, because Dutch
    government services are Dutch by default. Residents' pages set no cookie: the language travels
    in their links. Staff pages (the admin, where a session cookie is set anyway) remember the
    choice in Django's language cookie. The API follows Accept-Language (Dutch without one), so
    that each answer is in one language."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.staff_prefix = None

    def __call__(self, request):
        if self.staff_prefix is None:  # (the URLs are not loaded yet when the middleware is made)
            self.staff_prefix = reverse("admin:index")
        staff = request.path.startswith(self.staff_prefix)
        chosen = request.GET.get("lang", "")
        language = chosen if chosen in SUPPORTED else None
        if language is None and staff:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language is None and request.path.startswith("/api/"):
            # Integrators' systems say what they want: Accept-Language (Dutch when absent).
            accepted = request.headers.get("Accept-Language", "")
            language = translation.get_language_from_request(request) if accepted else None
        if language not in SUPPORTED:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if staff and chosen in SUPPORTED:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=365 * 24 * 3600,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
            )
        response.headers.setdefault("Content-Language", language)
        return response
