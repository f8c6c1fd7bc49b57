"""Django finds the app's models here; each is defined in its domain's package and imported from
there by the code that uses it."""

from surveys.api.models import ApiKey  # noqa: F401
from surveys.followups.models import FollowUp, FollowUpContact  # noqa: F401
from surveys.invitations.models import (  # noqa: F401
    Contact,
    Delivery,
    Invitation,
    OptOut,
    RecipientCooldown,
)
from surveys.organisations.models import Organisation, OrganisationChannel, StaffMembership  # noqa: F401
from surveys.questionnaires.models import Question, Survey, SurveyVersion  # noqa: F401
from surveys.reports.models import ReportDelivery, ReportRecipient, ReportSubscription  # noqa: F401
from surveys.responses.models import Answer, ExportLog, Response  # noqa: F401
from surveys.retention.models import RetentionRun  # noqa: F401
from surveys.rollups.models import (  # noqa: F401
    ContactRollup,
    ContactVolume,
    KeyFigure,
    KeyFigureValue,
    RollupChange,
    ScoreRollup,
)
