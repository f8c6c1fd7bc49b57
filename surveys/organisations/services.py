"""Writes of organisations."""

from __future__ import annotations

from django.db import transaction

from surveys.questionnaires.services import create_default_survey

from .models import Channel, Organisation, OrganisationChannel


@transaction.atomic
def create_organisation(*, name: str, slug: str, channels: list[str] | None = None, **fields) -> Organisation:
    """An organisation with its channels enabled and a default survey for each."""
    organisation = Organisation.objects.create(name=name, slug=slug, **fields)
    for channel in channels if channels is not None else Channel.values:
        OrganisationChannel.objects.create(organisation=organisation, channel=channel)
        create_default_survey(organisation=organisation, channel=channel)
    return organisation
