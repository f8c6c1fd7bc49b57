from django.contrib.admin.apps import AdminConfig


class KtoAdminConfig(AdminConfig):
    """Django's admin with KTO's site (INSTALLED_APPS names this instead of django.contrib.admin)."""

    default_site = "surveys.dashboard.site.KtoAdminSite"
