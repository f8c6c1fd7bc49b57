"""The KTO domain. One module per concern; everything is importable from ``surveys.models``."""

from .invitations import Contact, ContactOutcome, Delivery, DeliveryMethod, Invitation, InvitationStatus
from .organisations import Channel, Organisation, OrganisationChannel, Role, StaffMembership
from .responses import Answer, Response, Source
from .rollups import RollupDirtyMonth
from .surveys import Question, QuestionKind, Survey, SurveyVersion

__all__ = [
    "Answer",
    "Channel",
    "Contact",
    "ContactOutcome",
    "Delivery",
    "DeliveryMethod",
    "Invitation",
    "InvitationStatus",
    "Organisation",
    "OrganisationChannel",
    "Question",
    "QuestionKind",
    "Response",
    "Role",
    "RollupDirtyMonth",
    "Source",
    "StaffMembership",
    "Survey",
    "SurveyVersion",
]
