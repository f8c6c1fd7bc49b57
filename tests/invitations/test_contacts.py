"""The invitation rules: sampling, cooldown, opt-out, expiry, and what register_contact stores."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom

from surveys.common.tokens import hash_token
from surveys.invitations import tasks
from surveys.invitations.addresses import InvalidRecipient, address_hash, normalise_recipient
from surveys.invitations.contacts import ContactInput, in_sample, register_contact, register_contacts
from surveys.invitations.models import Contact, ContactOutcome, Delivery, InvitationStatus, OptOut, RecipientCooldown
from surveys.invitations.services import expire_invitations, opt_out
from surveys.invitations.unsubscribe import read_unsubscribe_token, unsubscribe_token
from surveys.organisations.models import Channel, OrganisationChannel
from surveys.responses.services import record_one_click
from tests.factories import InvitationFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def register(organisation, channel=Channel.TELEFOON, **kwargs):
    kwargs.setdefault("contact_moment", timezone.now())
    return register_contact(organisation=organisation, channel=channel, **kwargs)


def set_sampling(organisation, channel, one_in):
    OrganisationChannel.objects.filter(organisation=organisation, channel=channel).update(sample_one_in=one_in)


# --- sampling -------------------------------------------------------------------------------


def test_sampling_draws_one_in_n_within_the_binomial_999_interval():
    draws = 10_000
    invited = sum(in_sample(5) for _ in range(draws))
    low, high = binom.interval(0.999, draws, 0.2)
    assert low <= invited <= high


def test_sampling_one_in_one_invites_everybody():
    assert all(in_sample(1) for _ in range(1000))


def test_register_contact_samples_per_channel(organisation):
    set_sampling(organisation, Channel.TELEFOON, 5)
    results = [register(organisation, Channel.TELEFOON) for _ in range(1000)]
    invited = sum(r.invited for r in results)
    low, high = binom.interval(0.999, 1000, 0.2)
    assert low <= invited <= high
    assert {r.reason for r in results} == {ContactOutcome.INVITED, ContactOutcome.SAMPLED_OUT}
    # Every contact is stored, invited or not: they are the contact volumes of the reports.
    assert Contact.objects.filter(organisation=organisation, channel=Channel.TELEFOON).count() == 1000
    assert Contact.objects.filter(outcome=ContactOutcome.SAMPLED_OUT).count() == 1000 - invited
    # Other channels keep inviting everybody.
    assert all(register(organisation, Channel.BALIE).invited for _ in range(20))


def test_sampled_out_contact_has_no_invitation_and_no_cooldown(organisation):
    set_sampling(organisation, Channel.TELEFOON, 1_000_000_000)
    result = register(organisation, recipient="a@example.nl", method="email")
    assert (result.invited, result.reason, result.invitation, result.token) == (
        False,
        ContactOutcome.SAMPLED_OUT,
        None,
        None,
    )
    assert not RecipientCooldown.objects.exists()
    assert not Delivery.objects.exists()


def test_disabled_channel_invites_nobody(organisation):
    OrganisationChannel.objects.filter(organisation=organisation, channel=Channel.CHAT).update(enabled=False)
    result = register(organisation, Channel.CHAT, recipient="a@example.nl", method="email")
    assert (result.invited, result.reason) == (False, ContactOutcome.CHANNEL_DISABLED)
    assert Contact.objects.get().outcome == ContactOutcome.CHANNEL_DISABLED


# --- cooldown -------------------------------------------------------------------------------


def test_same_email_on_another_channel_within_90_days_is_in_cooldown(organisation):
    first = register(organisation, Channel.BALIE, recipient="Jan.Jansen@Example.NL ", method="none")
    assert first.invited
    later = timezone.now() + timedelta(days=30)
    second = register(organisation, Channel.EMAIL, recipient="jan.jansen@example.nl", method="email", now=later)
    assert (second.invited, second.reason) == (False, ContactOutcome.COOLDOWN)
    assert second.contact.outcome == ContactOutcome.COOLDOWN


def test_cooldown_is_over_after_91_days(organisation):
    assert register(organisation, recipient="jan@example.nl").invited
    assert not register(organisation, recipient="jan@example.nl", now=timezone.now() + timedelta(days=89)).invited
    result = register(organisation, recipient="JAN@example.nl", now=timezone.now() + timedelta(days=91))
    assert (result.invited, result.reason) == (True, ContactOutcome.INVITED)


def test_cooldown_period_is_configurable(organisation):
    organisation.invitation_cooldown_days = 7
    organisation.save()
    assert register(organisation, recipient="jan@example.nl").invited
    assert register(organisation, recipient="jan@example.nl", now=timezone.now() + timedelta(days=8)).invited


@pytest.mark.parametrize("notation", ["+31 6 12345678", "0031612345678", "(06) 1234 5678", "+31612345678"])
def test_phone_numbers_in_other_notations_are_the_same_person(organisation, notation):
    assert register(organisation, Channel.TELEFOON, recipient="06-12345678", method="sms").invited
    result = register(organisation, Channel.WHATSAPP, recipient=notation, method="whatsapp")
    assert (result.invited, result.reason) == (False, ContactOutcome.COOLDOWN)


def test_cooldown_is_per_organisation(organisation):
    other = OrganisationFactory()
    assert register(organisation, recipient="jan@example.nl").invited
    assert register(other, recipient="jan@example.nl").invited


def test_contacts_without_recipient_are_only_sampled(organisation):
    assert all(register(organisation).invited for _ in range(5))
    assert not RecipientCooldown.objects.exists()


def test_cooldown_record_keeps_only_a_keyed_hash_and_a_date(organisation):
    register(organisation, recipient="jan@example.nl", method="email")
    record = RecipientCooldown.objects.get()
    assert record.address_hash == address_hash("jan@example.nl")
    assert "jan" not in record.address_hash
    assert record.last_invited_on == timezone.localdate()


# --- opt-out --------------------------------------------------------------------------------


def test_unsubscribed_address_is_never_invited_again(organisation, client):
    token = unsubscribe_token(organisation.pk, address_hash("jan@example.nl"))
    page = client.get(f"/afmelden/{token}/")
    assert page.status_code == 200
    assert not OptOut.objects.exists()  # a link scanner's GET unsubscribes nobody
    assert client.post(f"/afmelden/{token}/").status_code == 200
    result = register(organisation, Channel.EMAIL, recipient=" JAN@example.nl", method="email")
    assert (result.invited, result.reason) == (False, ContactOutcome.OPTED_OUT)
    # Even after the cooldown period.
    later = register(organisation, recipient="jan@example.nl", now=timezone.now() + timedelta(days=400))
    assert later.reason == ContactOutcome.OPTED_OUT


def test_opt_out_comes_before_cooldown(organisation):
    register(organisation, recipient="jan@example.nl")
    opt_out(organisation_id=organisation.pk, address_hash=address_hash("jan@example.nl"))
    assert register(organisation, recipient="jan@example.nl").reason == ContactOutcome.OPTED_OUT


def test_disabled_channel_comes_before_opt_out(organisation):
    opt_out(organisation_id=organisation.pk, address_hash=address_hash("jan@example.nl"))
    OrganisationChannel.objects.filter(organisation=organisation, channel=Channel.TELEFOON).update(enabled=False)
    assert register(organisation, recipient="jan@example.nl").reason == ContactOutcome.CHANNEL_DISABLED


def test_unsubscribe_token_carries_no_address_and_resists_tampering(organisation):
    hashed = address_hash("jan@example.nl")
    token = unsubscribe_token(organisation.pk, hashed)
    assert "jan" not in token and "example" not in token
    assert read_unsubscribe_token(token) == (organisation.pk, hashed)
    with pytest.raises(Exception):  # noqa: B017
        read_unsubscribe_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])


# --- register_contact's contract ------------------------------------------------------------


def test_invited_contact_with_method_none_gets_a_token_and_no_delivery(organisation):
    result = register(organisation, recipient="jan@example.nl", method="none", reference="call-1")
    assert result.invited and result.token
    assert result.invitation.token_hash == hash_token(result.token)
    assert not Delivery.objects.exists()


def test_repeated_reference_returns_the_first_result(organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = register(organisation, reference="call-1", recipient="jan@example.nl", method="email")
    again = register(organisation, reference="call-1", recipient="jan@example.nl", method="email")
    assert (again.created, again.invited, again.reason) == (False, True, ContactOutcome.INVITED)
    assert again.invitation == first.invitation and again.token is None
    assert Contact.objects.count() == 1 and Delivery.objects.count() == 1


def test_delivery_keeps_the_normalised_address_until_sent(organisation):
    result = register(organisation, recipient="06 12345678", method="sms")
    assert result.delivery.recipient == "+31612345678"
    assert result.delivery.status == Delivery.Status.PENDING  # the task only runs after commit


@pytest.mark.parametrize(
    ("recipient", "method"),
    [("not-an-address", "email"), ("12", "sms"), ("jan@example.nl", "sms"), ("", "email"), ("a@b.nl", "fax")],
)
def test_unusable_recipient_is_refused_with_a_clear_error(organisation, recipient, method):
    with pytest.raises(InvalidRecipient) as error:
        register(organisation, recipient=recipient, method=method)
    assert str(error.value)
    assert not Contact.objects.exists()


@given(
    digits=st.from_regex(r"[1-5][0-9]{7}", fullmatch=True),  # 06-1x to 06-5x: mobile numbers
    prefix=st.sampled_from(["06", "+316", "00316", "+31 6 ", "(06) ", "+31 (0)6 "]),
    separator=st.sampled_from(["", " ", "-", "."]),
)
def test_every_notation_of_a_mobile_number_hashes_alike(digits, prefix, separator):
    written = prefix + separator.join([digits[:2], digits[2:4], digits[4:6], digits[6:]])
    assert address_hash(normalise_recipient(written, "sms")) == address_hash(f"+316{digits}")


def test_normalise_recipient():
    assert normalise_recipient("  Jan@Example.NL ") == "jan@example.nl"
    assert normalise_recipient("06-12345678") == "+31612345678"
    assert normalise_recipient("+32 470 12 34 56") == "+32470123456"


# --- expiry ---------------------------------------------------------------------------------


def test_expiry_task_expires_unanswered_invitations_and_erases_addresses(organisation):
    result = register(organisation, recipient="jan@example.nl", method="email")  # not sent: no commit
    fresh = InvitationFactory(organisation=organisation)
    answered = InvitationFactory(organisation=organisation)
    record_one_click(invitation=answered, score=8)

    later = timezone.now() + timedelta(days=15)
    assert expire_invitations(now=later) == 2
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.recipient, delivery.token, delivery.status) == ("", "", Delivery.Status.FAILED)
    statuses = {i.pk: i.status for i in type(fresh).objects.all()}
    assert statuses[result.invitation.pk] == InvitationStatus.EXPIRED
    assert statuses[fresh.pk] == InvitationStatus.EXPIRED
    assert statuses[answered.pk] == InvitationStatus.ANSWERED
    assert tasks.expire_invitations.delay().get() == 0  # the beat task: nothing left to do


def test_expired_invitation_cannot_be_used(organisation, client):
    invitation = InvitationFactory(organisation=organisation, expired=True)
    assert client.get(f"/s/{invitation.token}/").status_code == 404
    assert client.get(f"/s/{invitation.token}/8/").status_code == 404


# --- many contacts at once ------------------------------------------------------------------


def test_batch_registration_equals_registering_one_by_one(organisation, django_capture_on_commit_callbacks):
    now = timezone.now()
    batch = [
        {"channel": Channel.BALIE, "contact_moment": now, "reference": "a", "recipient": "jan@example.nl"},
        {"channel": Channel.EMAIL, "contact_moment": now, "reference": "b", "recipient": "JAN@example.nl "},
        {"channel": Channel.BALIE, "contact_moment": now, "reference": "a", "recipient": "piet@example.nl"},
        {"channel": Channel.TELEFOON, "contact_moment": now, "recipient": "0612345678", "method": "sms"},
        {"channel": Channel.TELEFOON, "contact_moment": now},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results = register_contacts(organisation=organisation, contacts=batch)
    assert [(r.created, r.reason) for r in results] == [
        (True, ContactOutcome.INVITED),
        (True, ContactOutcome.COOLDOWN),  # the same person as the first, a moment later
        (False, ContactOutcome.INVITED),  # the first one's reference: its result, nothing new
        (True, ContactOutcome.INVITED),
        (True, ContactOutcome.INVITED),
    ]
    assert results[2].contact == results[0].contact and results[2].token is None
    assert Contact.objects.count() == 4
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.recipient) == (Delivery.Status.SENT, "")  # sent after commit
    again = register_contacts(organisation=organisation, contacts=batch[:1])
    assert (again[0].created, again[0].contact) == (False, results[0].contact)


def test_batch_with_a_bad_recipient_stores_nothing_and_names_the_item(organisation):
    now = timezone.now()
    batch = [{"channel": Channel.BALIE, "contact_moment": now}] * 3 + [
        {"channel": Channel.BALIE, "contact_moment": now, "recipient": "nope", "method": "email"}
    ]
    with pytest.raises(InvalidRecipient) as error:
        register_contacts(organisation=organisation, contacts=batch)
    assert error.value.index == 3
    assert not Contact.objects.exists()


def test_batch_registration_takes_a_fixed_number_of_queries(organisation, django_assert_max_num_queries):
    now = timezone.now()
    batch = [
        ContactInput(
            channel=Channel.EMAIL,
            contact_moment=now,
            reference=f"ref-{n}",
            recipient=f"inwoner{n}@example.nl",
            method="email",
        )
        for n in range(500)
    ]
    with django_assert_max_num_queries(12):
        results = register_contacts(organisation=organisation, contacts=batch)
    assert all(r.invited for r in results)
    assert Delivery.objects.count() == RecipientCooldown.objects.count() == 500


@pytest.mark.django_db(transaction=True)
def test_simultaneous_contacts_of_one_person_invite_once():
    organisation = OrganisationFactory()
    barrier = threading.Barrier(4)
    outcomes = []

    def run(channel):
        try:
            barrier.wait()
            outcomes.append(register(organisation, channel, recipient="06 12345678").reason)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(c,)) for c in (Channel.BALIE, Channel.EMAIL, Channel.CHAT, Channel.WEBSITE)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [ContactOutcome.COOLDOWN] * 3 + [ContactOutcome.INVITED]
