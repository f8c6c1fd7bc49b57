"""What the rollups' tests share: responses at a moment, the figures by period, every rollup row."""

from surveys.invitations.contacts import register_contact
from surveys.organisations.models import Channel
from surveys.responses.models import Source
from surveys.responses.services import submit_response
from surveys.rollups.models import DISTRIBUTION_FIELDS, ContactRollup, PeriodKind, ScoreRollup
from surveys.rollups.selectors import rollup_figures


def respond(organisation, score, moment, channel=Channel.BALIE, **kwargs):
    return submit_response(
        organisation=organisation, channel=channel, score=score, source=Source.OPEN, contact_moment=moment, **kwargs
    )


def mailed_contact(organisation, moment):
    """A contact whose invitation KTO sends by e-mail (it counts as sent once it is)."""
    return register_contact(
        organisation=organisation,
        channel=Channel.EMAIL,
        contact_moment=moment,
        recipient="a@example.nl",
        method="email",
    )


def figures(organisation, period=PeriodKind.MONTH, channel=Channel.BALIE, **kwargs):
    return {
        f.period_start: f for f in rollup_figures(organisation=organisation, period=period, channel=channel, **kwargs)
    }


def rollup_rows():
    """Every rollup row's figures (not when they were computed), in a stable order."""
    scores = ScoreRollup.objects.values_list(
        "organisation_id",
        "channel",
        "question_key",
        "period",
        "period_start",
        "n",
        "total",
        "total_sq",
        *DISTRIBUTION_FIELDS,
    )
    contacts = ContactRollup.objects.values_list(
        "organisation_id",
        "channel",
        "period",
        "period_start",
        "contacts_registered",
        "contacts_imported",
        "invitations_sent",
    )
    return sorted(scores, key=str), sorted(contacts, key=str)
