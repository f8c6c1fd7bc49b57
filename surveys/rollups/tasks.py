"""Celery entry points of the rollups: thin, idempotent, taking primary keys."""

from celery import shared_task


@shared_task(acks_late=True)
def rollup_pass() -> int:
    """Beat (every two minutes): one rollup job per organisation with pending changes, so that
    more workers share the work. Returns the number of jobs sent."""
    from .incremental import pending_organisation_ids

    organisation_ids = pending_organisation_ids()
    for organisation_id in organisation_ids:
        rollup_organisation.delay(organisation_id)
    return len(organisation_ids)


@shared_task(acks_late=True)
def rollup_organisation(organisation_id: int) -> int:
    """Take one organisation's pending changes into its months and years; safe to run twice.
    Returns the rollup rows written."""
    from .incremental import rollup_organisations

    result = rollup_organisations([organisation_id])
    return result.score_rows + result.contact_rows
