"""Reads of organisations."""

from __future__ import annotations

from .models import Organisation, OrganisationChannel


def channel_enabled(organisation: Organisation, channel: str) -> bool:
    """Whether the organisation measures this channel (residents and systems may answer on it)."""
    return OrganisationChannel.objects.filter(organisation=organisation, channel=channel, enabled=True).exists()
