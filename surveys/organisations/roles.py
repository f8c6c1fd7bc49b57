"""What a staff member may do follows from their role in their organisation (StaffMembership.role),
so that nobody has to keep Django groups in step with the roles:

- KCC-medewerker: view everything of their own organisation (responses, surveys, channels, ...).
- KTO-beheerder: as KCC-medewerker, and also edit the organisation's branding and channels, its
  surveys (which creates new versions once a version has responses), its API keys and its
  imported contact volumes.

This is an authentication backend that only grants permissions (it never logs anyone in); it
sits next to Django's ModelBackend in AUTHENTICATION_BACKENDS, so permissions given to a user or
group the usual way still count as well. *Which rows* a staff member sees is decided elsewhere:
surveys/admin_scoping.py. To give a role a permission on a new model, add it below.
"""

from django.apps import apps
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import ObjectDoesNotExist

from .models import Role

APP_LABEL = "surveys"

# Beyond viewing every model of the app (both roles), what a KTO-beheerder may change.
BEHEERDER_PERMISSIONS = frozenset(
    {
        "surveys.change_organisation",
        "surveys.add_organisationchannel",
        "surveys.change_organisationchannel",
        "surveys.add_surveyversion",
        "surveys.change_surveyversion",
        "surveys.delete_surveyversion",
        "surveys.add_question",
        "surveys.change_question",
        "surveys.delete_question",
        # Importing contact volumes (kerncijfers), surveys/rollups_admin.py.
        "surveys.add_contactvolume",
        "surveys.change_contactvolume",
        # The organisation's own kerncijfers and their values (surveys/rollups/admin.py).
        "surveys.add_keyfigure",
        "surveys.change_keyfigure",
        "surveys.delete_keyfigure",
        "surveys.add_keyfigurevalue",
        "surveys.change_keyfigurevalue",
        "surveys.delete_keyfigurevalue",
        # The organisation's own API keys (revoking one is a change), surveys/api/admin.py.
        "surveys.add_apikey",
        "surveys.change_apikey",
        # Who receives the report e-mails, and sending them by hand (surveys/reports/admin.py).
        "surveys.add_reportsubscription",
        "surveys.change_reportsubscription",
        "surveys.delete_reportsubscription",
        "surveys.add_reportrecipient",
        "surveys.change_reportrecipient",
        "surveys.delete_reportrecipient",
        "surveys.change_reportdelivery",
    }
)


def view_permissions() -> frozenset[str]:
    return frozenset(
        f"{APP_LABEL}.view_{model._meta.model_name}" for model in apps.get_app_config(APP_LABEL).get_models()
    )


# What both roles may change besides viewing: the follow-up queue is the KCC's work.
STAFF_PERMISSIONS = frozenset({"surveys.change_followup"})


def role_permissions(role: str) -> frozenset[str]:
    if role == Role.BEHEERDER:
        return view_permissions() | STAFF_PERMISSIONS | BEHEERDER_PERMISSIONS
    if role == Role.KCC:
        return view_permissions() | STAFF_PERMISSIONS
    return frozenset()


def membership_of(user):
    """The user's StaffMembership (with its organisation), or None. Cached on the user object
    by Django's reverse one-to-one descriptor, so one query per request at most."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.kto_membership
    except ObjectDoesNotExist:
        return None


class StaffRoleBackend(BaseBackend):
    """Grants the permissions of the user's KTO role (see the module docstring)."""

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        membership = membership_of(user_obj)
        return set(role_permissions(membership.role)) if membership is not None else set()

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return any(perm.startswith(f"{app_label}.") for perm in self.get_all_permissions(user_obj))
