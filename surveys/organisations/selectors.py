"""Reads of organisations."""

from __future__ import annotations

from .models import Organisation, OrganisationChannel


def channel_enabled(organisation: Organisation, channel: str) -> bool:
    """Whether the organisation measures this channel (residents and systems may answer on it)."""
    return OrganisationChannel.objects.filter(organisation=organisation, channel=channel, enabled=True).exists()


def organisation_measuring(slug: str, channel: str) -> Organisation | None:
    """The organisation with this slug if it measures this channel (one query: the open form's)."""
    return Organisation.objects.filter(slug=slug, channels__channel=channel, channels__enabled=True).first()
