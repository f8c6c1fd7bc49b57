"""Reads of responses."""

from __future__ import annotations

from surveys.invitations.models import Invitation

from .models import Response


def response_to(invitation: Invitation) -> Response | None:
    """The response given through this invitation so far (a one-click score may be incomplete)."""
    return Response.objects.filter(invitation=invitation).first()


def is_answered(invitation: Invitation) -> bool:
    """Whether the invitation has its complete response: it cannot be answered again."""
    return Response.objects.filter(invitation=invitation, is_complete=True).exists()
