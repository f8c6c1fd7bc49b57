"""Sending invitations: the e-mail a resident receives, SMS and WhatsApp through MessageBird
(against a local HTTP server), retries without double sends, address erasure, unsubscribing."""

import logging
import re
import socket
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from surveys.invitations import delivery as delivery_service
from surveys.invitations.addresses import address_hash
from surveys.invitations.contacts import register_contact
from surveys.invitations.delivery import DELIVERY_LEASE
from surveys.invitations.gateways import ConsoleGateway, MessageBirdGateway, TransientGatewayError
from surveys.invitations.links import invitation_url
from surveys.invitations.messages import invitation_message, sms_text
from surveys.invitations.models import Delivery, DeliveryMethod, Invitation, InvitationStatus, OptOut
from surveys.invitations.services import create_invitation, opt_out, requeue_deliveries
from surveys.invitations.tasks import send_invitation
from surveys.invitations.unsubscribe import unsubscribe_token
from surveys.organisations.models import Channel, Role, StaffMembership
from surveys.responses.models import Response, Source
from tests.factories import OrganisationFactory
from tests.invitations import fake_messagebird

pytestmark = pytest.mark.django_db

SCORE_LINK = re.compile(r'<a href="(?P<url>[^"]+/s/[^/"]+/(?P<score>\d+)/[^"]*)"[^>]*aria-label="(?P<label>[^"]+)"')


@pytest.fixture
def messagebird(settings):
    fake = fake_messagebird.start()
    settings.KTO_MESSAGE_GATEWAY = "messagebird"
    settings.KTO_MESSAGEBIRD_API_KEY = "test-key"
    settings.KTO_MESSAGEBIRD_BASE_URL = fake.url
    settings.KTO_MESSAGEBIRD_CONVERSATIONS_URL = f"{fake.url}/conversations/v1"
    settings.KTO_MESSAGEBIRD_ORIGINATOR = "StVecht"
    settings.KTO_MESSAGEBIRD_WHATSAPP_CHANNEL_ID = "channel-1"
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def eager_retries(monkeypatch):
    """Eager tasks run their retries at once (without the countdown) only when eager errors are
    not propagated: a propagated Retry would end the chain after the first attempt."""
    monkeypatch.setitem(send_invitation.app.conf, "task_eager_propagates", False)


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Register a contact and run what the commit would start (the eager Celery task)."""

    def register(organisation, **kwargs):
        kwargs.setdefault("channel", Channel.BALIE)
        kwargs.setdefault("contact_moment", timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            return register_contact(organisation=organisation, **kwargs)

    return register


def pending_delivery(organisation, *, method=DeliveryMethod.SMS, recipient="+31612345678") -> Delivery:
    invitation, token = create_invitation(
        organisation=organisation, channel=Channel.TELEFOON, contact_moment=timezone.now()
    )
    return Delivery.objects.create(invitation=invitation, method=method, recipient=recipient, token=token)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- e-mail ---------------------------------------------------------------------------------


def test_english_email_has_ten_working_one_click_buttons(organisation, send_now, client):
    result = send_now(organisation, recipient="Jan@Example.nl", method="email", language="en")
    [email] = mail.outbox
    assert email.to == ["jan@example.nl"]
    assert email.subject == "How was your contact with Stichtse Vecht?"
    assert "Stichtse Vecht" in email.from_email
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert '<html lang="en">' in html
    buttons = [m.groupdict() for m in SCORE_LINK.finditer(html)]
    assert [int(b["score"]) for b in buttons] == list(range(1, 11))
    assert [b["label"] for b in buttons] == [f"Score {n}" for n in range(1, 11)]
    assert all(b["url"].endswith("?lang=en") for b in buttons)
    assert invitation_url(result.token, "en") in html  # the link to the full form
    assert "<img" not in html and "<script" not in html and "<link" not in html
    # The plain-text alternative carries the same links.
    assert invitation_url(result.token, "en") in email.body
    assert all(b["url"] in email.body for b in buttons)
    assert "How satisfied are you?" in email.body
    expires = timezone.localtime(result.invitation.expires_at)
    assert f"This invitation is valid until {expires.day} {expires:%B} {expires.year}." in email.body
    # Unsubscribing: a link in the message and the List-Unsubscribe header.
    unsubscribe = re.search(r"Unsubscribe: (\S+)", email.body).group(1)
    assert "/afmelden/" in unsubscribe and "jan" not in unsubscribe.lower()
    assert email.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    seven = next(b["url"] for b in buttons if b["score"] == "7")
    page = client.get(seven.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    response = Response.objects.get(invitation=result.invitation)
    assert (response.score, response.source, response.is_complete) == (7, Source.ONE_CLICK, False)


def test_dutch_email_is_branded_and_dated(organisation, send_now):
    organisation.brand_colour = "#7a1f5c"
    organisation.save()
    result = send_now(organisation, recipient="jan@example.nl", method="email", channel=Channel.TELEFOON)
    [email] = mail.outbox
    html = email.alternatives[0][0]
    assert email.subject == "Hoe was uw contact met Stichtse Vecht?"
    assert '<html lang="nl">' in html
    assert "background:#7a1f5c" in html
    assert [b["label"] for b in map(re.Match.groupdict, SCORE_LINK.finditer(html))][0] == "Rapportcijfer 1"
    assert "(Telefoon)" in email.body
    expires = timezone.localtime(result.invitation.expires_at)
    assert f"geldig tot en met {expires.day} " in email.body
    assert "Afmelden" in email.body


def test_address_and_token_are_erased_once_sent(organisation, send_now):
    result = send_now(organisation, recipient="jan@example.nl", method="email")
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.status, delivery.recipient, delivery.token, delivery.attempts) == (Delivery.Status.SENT, "", "", 1)
    assert delivery.sent_at is not None
    invitation = Invitation.objects.get(pk=result.invitation.pk)
    assert invitation.status == InvitationStatus.SENT and invitation.sent_at == delivery.sent_at


def test_rerunning_the_task_of_a_sent_delivery_sends_nothing(organisation, send_now):
    result = send_now(organisation, recipient="jan@example.nl", method="email")
    assert send_invitation.delay(result.delivery.pk).get() == "skipped"
    assert len(mail.outbox) == 1


def test_mail_server_down_is_retried_then_fails_and_erases_the_address(organisation, send_now, settings, eager_retries):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    result = send_now(organisation, recipient="jan@example.nl", method="email")
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == send_invitation.max_retries + 1
    assert (delivery.recipient, delivery.token) == ("", "")
    assert "jan" not in delivery.error
    assert Invitation.objects.get(pk=result.invitation.pk).status == InvitationStatus.FAILED


def test_a_resident_who_unsubscribed_before_sending_gets_nothing(organisation):
    delivery = pending_delivery(organisation, method=DeliveryMethod.EMAIL, recipient="jan@example.nl")
    opt_out(organisation_id=organisation.pk, address_hash=address_hash("jan@example.nl"))
    assert send_invitation.delay(delivery.pk).get() == "failed"
    assert mail.outbox == []
    assert Delivery.objects.get(pk=delivery.pk).recipient == ""


# --- SMS and WhatsApp through MessageBird ---------------------------------------------------


def test_sms_goes_to_messagebird_with_the_access_key_and_the_link(organisation, send_now, messagebird):
    result = send_now(organisation, recipient="06 12345678", method="sms", channel=Channel.TELEFOON)
    [request] = messagebird.requests
    assert request.path == "/messages"
    assert request.headers["Authorization"] == "AccessKey test-key"
    assert request.body["originator"] == "StVecht"
    assert request.body["recipients"] == ["31612345678"]
    text = request.body["body"]
    assert invitation_url(result.token) in text
    assert re.search(r"Afmelden: http://\S+/afmelden/\S+/", text)
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.status, delivery.provider_reference, delivery.recipient) == (Delivery.Status.SENT, "mb-1", "")


def test_whatsapp_goes_to_the_conversations_api(organisation, send_now, messagebird):
    result = send_now(organisation, recipient="+31 6 12345678", method="whatsapp", language="en")
    [request] = messagebird.requests
    assert request.path == "/conversations/v1/send"
    assert request.headers["Authorization"] == "AccessKey test-key"
    assert request.body["to"] == "+31612345678"
    assert request.body["from"] == "channel-1"
    assert request.body["type"] == "text"
    assert invitation_url(result.token, "en") in request.body["content"]["text"]
    assert "Unsubscribe: " in request.body["content"]["text"]


def test_server_errors_are_retried_and_the_message_sent_once(organisation, send_now, messagebird, eager_retries):
    messagebird.statuses = [500, 503]
    result = send_now(organisation, recipient="0612345678", method="sms")
    assert len(messagebird.requests) == 3
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.status, delivery.attempts, delivery.recipient) == (Delivery.Status.SENT, 3, "")


def test_a_refused_message_fails_without_retrying(organisation, send_now, messagebird):
    messagebird.statuses = [400]
    messagebird.error_description = "recipient 31612345678 is not reachable"
    result = send_now(organisation, recipient="0612345678", method="sms")
    assert len(messagebird.requests) == 1
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.status, delivery.recipient, delivery.token) == (Delivery.Status.FAILED, "", "")
    assert "400" in delivery.error and "is not reachable" in delivery.error
    assert "612345678" not in delivery.error  # the provider's message, without the number
    assert Invitation.objects.get(pk=result.invitation.pk).status == InvitationStatus.FAILED


def test_gives_up_after_the_last_retry(organisation, send_now, messagebird, eager_retries):
    messagebird.statuses = [500] * 20
    result = send_now(organisation, recipient="0612345678", method="sms")
    assert len(messagebird.requests) == send_invitation.max_retries + 1
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.status, delivery.recipient) == (Delivery.Status.FAILED, "")


def test_unreachable_provider_is_a_transient_error():
    gateway = MessageBirdGateway(api_key="k", base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(TransientGatewayError):
        gateway.send_sms("+31612345678", "hallo")


def test_console_gateway_logs_the_message_with_a_masked_number(caplog):
    with caplog.at_level(logging.INFO, logger="surveys.invitations.gateways"):
        assert ConsoleGateway().send_sms("+31612345678", "Hallo") == "console"
    assert "+316******78" in caplog.text and "+31612345678" not in caplog.text


def test_sms_text_is_short_and_plain(organisation):
    invitation, token = create_invitation(
        organisation=organisation, channel=Channel.TELEFOON, contact_moment=timezone.now()
    )
    text = sms_text(invitation_message(invitation, token=token, recipient="+31612345678"))
    assert text.isascii()  # GSM-7 compatible: no 160 -> 70 character segments
    assert len(text) <= 2 * 153


# --- never twice ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_task_runs_send_once(messagebird):
    organisation = OrganisationFactory()
    delivery = pending_delivery(organisation)
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(send_invitation.apply(args=[delivery.pk]).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(messagebird.requests) == 1


def test_a_crash_after_the_provider_accepted_never_leads_to_a_second_message(organisation, messagebird, monkeypatch):
    delivery = pending_delivery(organisation)

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    with monkeypatch.context() as patch:
        patch.setattr(delivery_service, "mark_delivery_sent", crash)
        with pytest.raises(RuntimeError):
            send_invitation.delay(delivery.pk)
    assert len(messagebird.requests) == 1
    assert send_invitation.delay(delivery.pk).get() == "skipped"  # the redelivered task
    assert len(messagebird.requests) == 1
    # Within the lease nobody knows; after it the sweep settles the delivery as unknown, erases the
    # address, counts the invitation as sent and sends nothing.
    assert requeue_deliveries(now=timezone.now() + timedelta(minutes=1)) == 0
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENDING
    requeue_deliveries(now=timezone.now() + DELIVERY_LEASE + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.recipient, delivery.token) == (Delivery.Status.UNKNOWN, "", "")
    assert delivery.invitation.status == InvitationStatus.SENT
    assert len(messagebird.requests) == 1


def test_a_message_that_cannot_be_built_fails_at_once_and_logs_no_token(organisation, send_now, monkeypatch, caplog):
    """A worker that cannot build the message (here: a URLconf without the residents' pages) sends
    nothing: the delivery fails at once instead of waiting, claimed, for the sweep's "unknown"."""
    from django.urls import NoReverseMatch

    from surveys.invitations import messages

    def no_url(token, language="nl"):
        raise NoReverseMatch(f"Reverse for 'invitation' with token {token!r} for jan@example.nl not found")

    monkeypatch.setattr(messages, "invitation_url", no_url)
    with caplog.at_level(logging.ERROR, logger="surveys.invitations.messages"):
        result = send_now(organisation, recipient="jan@example.nl", method="email")
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.status, delivery.attempts, delivery.recipient, delivery.token) == (
        Delivery.Status.FAILED,
        1,
        "",
        "",
    )
    assert delivery.error == "The message could not be built (NoReverseMatch); nothing was sent"
    assert Invitation.objects.get(pk=result.invitation.pk).status == InvitationStatus.FAILED
    assert mail.outbox == []
    assert "NoReverseMatch" in caplog.text and "[token]" in caplog.text and result.token not in caplog.text
    assert "[address]" in caplog.text and "jan@example.nl" not in caplog.text


# --- the unsubscribe page -------------------------------------------------------------------


def test_unsubscribe_page_asks_first_then_confirms(organisation, client):
    url = f"/afmelden/{unsubscribe_token(organisation.pk, address_hash('jan@example.nl'))}/"
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Afmelden voor uitnodigingen" in html and "Stichtse Vecht" in html
    assert '<form method="post"' in html and "Ja, meld mij af" in html
    assert not OptOut.objects.exists()
    done = client.post(url)
    assert done.status_code == 200 and "U bent afgemeld" in done.content.decode()
    assert OptOut.objects.get().address_hash == address_hash("jan@example.nl")
    # Visiting the link again says so, and a second POST changes nothing.
    assert "U bent afgemeld" in client.get(url).content.decode()
    assert client.post(url).status_code == 200 and OptOut.objects.count() == 1


def test_unsubscribe_page_in_english(organisation, client):
    url = f"/afmelden/{unsubscribe_token(organisation.pk, address_hash('jan@example.nl'))}/?lang=en"
    page = client.get(url)
    assert '<html lang="en">' in page.content.decode()
    assert "Unsubscribe from invitations" in page.content.decode()
    assert "You have been unsubscribed" in client.post(url).content.decode()


def test_mail_client_one_click_unsubscribe_needs_no_csrf_token(organisation):
    url = f"/afmelden/{unsubscribe_token(organisation.pk, address_hash('jan@example.nl'))}/"
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert OptOut.objects.filter(organisation=organisation).exists()


@pytest.mark.parametrize("token", ["nonsense", "1.abc.def", "x" * 300])
def test_broken_unsubscribe_link_gets_a_clear_page(organisation, client, token):
    for response in (client.get(f"/afmelden/{token}/"), client.post(f"/afmelden/{token}/")):
        assert response.status_code == 404
        assert "Deze link werkt niet" in response.content.decode()
    assert not OptOut.objects.exists()


def test_unsubscribe_link_of_a_deleted_organisation(client):
    url = f"/afmelden/{unsubscribe_token(987654, address_hash('jan@example.nl'))}/"
    assert client.post(url).status_code == 404


# --- the admin ------------------------------------------------------------------------------


def test_admin_shows_status_but_never_tokens_or_addresses(organisation, admin_client):
    result = register_contact(
        organisation=organisation,
        channel=Channel.EMAIL,
        contact_moment=timezone.now(),
        recipient="jan@example.nl",
        method="email",
    )  # not committed: the delivery is pending and still holds the address
    listing = admin_client.get("/admin/surveys/invitation/?status__exact=created")
    assert listing.status_code == 200
    page = admin_client.get(f"/admin/surveys/invitation/{result.invitation.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Aangemaakt" in html and "Adres nog bewaard" in html
    for secret in ("jan@example.nl", result.token, result.invitation.token_hash):
        assert secret not in html and secret not in listing.content.decode()
    assert admin_client.get("/admin/surveys/contact/").status_code == 200


def test_staff_see_only_their_own_organisations_invitations(organisation):
    other = OrganisationFactory(name="Utrecht")
    mine = create_invitation(organisation=organisation, channel=Channel.BALIE, contact_moment=timezone.now())
    theirs = create_invitation(organisation=other, channel=Channel.BALIE, contact_moment=timezone.now())
    user = get_user_model().objects.create_user("kcc", password="x", is_staff=True)  # noqa: S106
    StaffMembership.objects.create(user=user, organisation=organisation, role=Role.KCC)
    staff = Client()
    staff.force_login(user)
    assert staff.get(f"/admin/surveys/invitation/{mine[0].pk}/change/").status_code == 200
    assert staff.get(f"/admin/surveys/invitation/{theirs[0].pk}/change/").status_code == 302
