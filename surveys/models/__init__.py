"""The KTO domain. One module per concern; everything is importable from ``surveys.models``."""

from .api import ApiKey
from .invitations import (
    Contact,
    ContactOutcome,
    Delivery,
    DeliveryMethod,
    Invitation,
    InvitationStatus,
    OptOut,
    RecipientCooldown,
)
from .organisations import Channel, Organisation, OrganisationChannel, Role, StaffMembership
from .responses import Answer, Response, Source
from .rollups import RollupDirtyMonth
from .surveys import Question, QuestionKind, Survey, SurveyVersion

__all__ = [
    "Answer",
    "ApiKey",
    "Channel",
    "Contact",
    "ContactOutcome",
    "Delivery",
    "DeliveryMethod",
    "Invitation",
    "InvitationStatus",
    "OptOut",
    "Organisation",
    "OrganisationChannel",
    "Question",
    "QuestionKind",
    "RecipientCooldown",
    "Response",
    "Role",
    "RollupDirtyMonth",
    "Source",
    "StaffMembership",
    "Survey",
    "SurveyVersion",
]
