from django.urls import path, register_converter

from surveys.invitations import views as invitation_views
from surveys.reports import views as report_views
from surveys.responses import views


class SignedIntConverter:
    """Accepts any integer, so that /s/<token>/0/ or /11/ reaches the view and gets a clear
    message instead of a bare 404."""

    regex = "-?[0-9]{1,6}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(SignedIntConverter, "score")

app_name = "surveys"
urlpatterns = [
    path("", views.home, name="home"),
    path("s/<str:token>/", views.invitation_form, name="invitation"),
    path("s/<str:token>/<score:score>/", views.one_click, name="one-click"),
    path("o/<slug:slug>/bedankt/", views.thanks, name="thanks"),
    path("afmelden/<str:token>/", invitation_views.unsubscribe, name="unsubscribe"),
    path("rapporten/afmelden/<str:token>/", report_views.unsubscribe, name="report-unsubscribe"),
    path("o/<slug:slug>/<str:channel>/", views.open_form, name="open"),
]
