"""KTO's admin site: the dashboard is the landing page (``/admin/``); Django's list of models
moves to ``/admin/beheer/``, and stays in the sidebar of every page. Where KTO_REQUIRE_TOTP is set
(production), staff log in with a code from their authenticator app as well (django-otp), and a
session without it has no access."""

from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm


class KtoAdminSite(admin.AdminSite):
    site_header = _("KTO – klanttevredenheid")
    site_title = _("KTO – klanttevredenheid")
    index_title = _("Beheer")

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.KTO_REQUIRE_TOTP else None

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.KTO_REQUIRE_TOTP else None

    def has_permission(self, request) -> bool:
        verified = not settings.KTO_REQUIRE_TOTP or request.user.is_verified()
        return super().has_permission(request) and verified

    def get_urls(self):
        from . import counter, views  # imported when the URLs are built

        return [
            path("", self.admin_view(views.dashboard), name="index"),
            path("beheer/", self.admin_view(self.models_index), name="models"),
            path("balie/", self.admin_view(counter.counter), name="counter"),
            path("balie/<str:channel>/qr.<str:kind>", self.admin_view(counter.qr_download), name="counter-qr"),
            path("balie/<str:channel>/poster.pdf", self.admin_view(counter.poster), name="counter-poster"),
            *[url for url in super().get_urls() if getattr(url, "name", None) != "index"],
        ]

    def models_index(self, request, extra_context=None):
        return super().index(request, extra_context)
