from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import contacts, responses, rollups

app_name = "api"

v1 = [
    path("v1/contacts/", contacts.ContactListView.as_view(), name="contacts"),
    path("v1/contacts/bulk/", contacts.ContactBulkView.as_view(), name="contacts-bulk"),
    path("v1/contacts/<int:pk>/", contacts.ContactDetailView.as_view(), name="contact"),
    path("v1/responses/", responses.ResponseCreateView.as_view(), name="responses"),
    path("v1/rollups/", rollups.RollupListView.as_view(), name="rollups"),
]

urlpatterns = [
    *v1,
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", authentication_classes=[], permission_classes=[]),
        name="docs",
    ),
]
