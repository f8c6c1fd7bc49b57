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
from .rollups import ALL_CHANNELS, SCORE_KEY, ContactRollup, ContactVolume, PeriodKind, RollupChange, ScoreRollup
from .surveys import Question, QuestionKind, Survey, SurveyVersion

__all__ = [
    "ALL_CHANNELS",
    "Answer",
    "ApiKey",
    "Channel",
    "Contact",
    "ContactOutcome",
    "ContactRollup",
    "ContactVolume",
    "Delivery",
    "DeliveryMethod",
    "Invitation",
    "InvitationStatus",
    "OptOut",
    "Organisation",
    "OrganisationChannel",
    "PeriodKind",
    "Question",
    "QuestionKind",
    "RecipientCooldown",
    "Response",
    "Role",
    "RollupChange",
    "SCORE_KEY",
    "ScoreRollup",
    "Source",
    "StaffMembership",
    "Survey",
    "SurveyVersion",
]
