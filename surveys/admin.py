"""The KCC staff interface (the Django admin): each domain registers its own admin, imported
here so that Django's autodiscovery finds them all."""

from surveys.api import admin as api_admin  # noqa: F401
from surveys.followups import admin as followups_admin  # noqa: F401
from surveys.invitations import admin as invitations_admin  # noqa: F401
from surveys.organisations import admin as organisations_admin  # noqa: F401
from surveys.questionnaires import admin as questionnaires_admin  # noqa: F401
from surveys.reports import admin as reports_admin  # noqa: F401
from surveys.responses import admin as responses_admin  # noqa: F401
from surveys.retention import admin as retention_admin  # noqa: F401
from surveys.rollups import admin as rollups_admin  # noqa: F401
