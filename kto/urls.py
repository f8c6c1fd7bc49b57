from django.contrib import admin
from django.urls import include, path

from surveys.common.unavailable import healthz, readyz

handler400 = "surveys.common.errors.bad_request"
handler404 = "surveys.common.errors.page_not_found"
handler500 = "surveys.common.unavailable.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("surveys.api.urls")),
    path("", include("surveys.urls")),
]
