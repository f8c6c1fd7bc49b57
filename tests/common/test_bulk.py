from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.common.bulk import insert_rows
from surveys.common.time import month_of
from surveys.common.tokens import hash_token, new_token
from surveys.invitations.models import Contact, Invitation


@pytest.mark.django_db
def test_insert_rows_stores_what_bulk_create_would_and_sets_primary_keys(organisation):
    now = timezone.now()
    invitations = [
        Invitation(
            organisation=organisation,
            channel="telefoon",
            contact_moment=now - timedelta(hours=n),
            token_hash=hash_token(new_token()),
            language="en" if n % 2 else "nl",
            created_at=now,
            expires_at=now + timedelta(days=14),
        )
        for n in range(5)
    ]
    insert_rows(invitations)
    contacts = [
        Contact(
            organisation=organisation,
            channel="telefoon",
            contact_moment=invitation.contact_moment,
            contact_month=month_of(invitation.contact_moment),
            reference=f"ref-{n}" if n else "",
            language=invitation.language,
            outcome="invited",
            invitation=invitation,
            created_at=now,
        )
        for n, invitation in enumerate(invitations)
    ]
    insert_rows(contacts)

    assert all(c.pk for c in contacts)
    stored = {c.pk: c for c in Contact.objects.select_related("invitation")}
    for contact in contacts:
        row = stored[contact.pk]
        assert row.reference == contact.reference
        assert row.contact_moment == contact.contact_moment
        assert row.invitation.token_hash == contact.invitation.token_hash
        assert row.invitation.status == "created"
        assert row.invitation.sent_at is None
        assert row.language == contact.language


@pytest.mark.django_db
def test_insert_rows_of_nothing_does_nothing():
    insert_rows([])
    assert not Contact.objects.exists()
