import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.production")

application = get_wsgi_application()

# The masking lookups (about 30 MB, under a second) are built before the first request, not in it.
from surveys.responses import masking  # noqa: E402

masking.load()
