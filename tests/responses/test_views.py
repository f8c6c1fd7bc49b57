"""The residents' pages, through Django's test client."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core import serializers
from django.test import Client
from django.utils import timezone

from surveys.invitations.models import Invitation
from surveys.responses.models import Answer, Response, Source
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import ScoreRollup
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def test_invitation_form_stores_response_and_thanks(client, invitation):
    page = client.get(f"/s/{invitation.token}/")
    assert page.status_code == 200
    assert "Welk rapportcijfer geeft u voor uw bezoek aan de balie?" in page.content.decode()

    answer = client.post(
        f"/s/{invitation.token}/",
        {"score": "8", "q_vraag_beantwoord": "1", "q_vriendelijkheid": "4", "comment": "Snel geholpen"},
        follow=True,
    )
    assert "Bedankt voor uw mening!" in answer.content.decode()
    response = Response.objects.get()
    assert (response.score, response.source, response.comment) == (8, Source.INVITATION, "Snel geholpen")
    assert dict(Answer.objects.values_list("question__key", "value")) == {
        "vraag_beantwoord": 1,
        "vriendelijkheid": 4,
    }
    invitation.refresh_from_db()
    assert invitation.status == "answered"


def test_second_submit_says_already_answered_and_stores_nothing(client, invitation):
    client.post(f"/s/{invitation.token}/", {"score": "8"})
    again = client.post(f"/s/{invitation.token}/", {"score": "3"})
    assert again.status_code == 409
    assert "U heeft deze vragenlijst al ingevuld" in again.content.decode()
    assert list(Response.objects.values_list("score", flat=True)) == [8]


@pytest.mark.parametrize("score", ["", "0", "11", "acht", "8.5"])
def test_bad_score_gets_message_and_stores_nothing(client, invitation, score):
    page = client.post(f"/s/{invitation.token}/", {"score": score})
    assert page.status_code == 400
    assert "Kies een rapportcijfer van 1 tot en met 10." in page.content.decode()
    assert 'href="#id_score_0"' in page.content.decode()
    assert not Response.objects.exists()


def test_ten_megabyte_comment_is_refused_without_500(client, invitation):
    page = client.post(f"/s/{invitation.token}/", {"score": "7", "comment": "x" * 10_000_000})
    assert page.status_code == 400
    assert not Response.objects.exists()


def test_long_comment_gets_message_on_the_form(client, invitation):
    page = client.post(f"/s/{invitation.token}/", {"score": "7", "comment": "x" * 2001})
    assert page.status_code == 400
    assert "Uw toelichting is te lang" in page.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("token", ["onbekend", "x" * 300, "%00", "' OR 1=1 --"])
def test_unknown_and_tampered_tokens_get_the_same_friendly_page(client, token):
    page = client.get(f"/s/{token}/")
    assert page.status_code == 404
    assert "Deze link werkt niet meer" in page.content.decode()


def test_expired_used_and_unknown_tokens_look_the_same(client, organisation):
    expired = InvitationFactory(organisation=organisation, expired=True)
    used = InvitationFactory(organisation=organisation)
    client.post(f"/s/{used.token}/", {"score": "9"})
    pages = [client.get(f"/s/{t}/") for t in (expired.token, used.token, "A" * 32)]
    assert {p.status_code for p in pages} == {404}
    bodies = {p.content.decode().replace(p.wsgi_request.path, "") for p in pages}
    assert len(bodies) == 1


def test_one_click_stores_score_at_once_then_completes(client, invitation):
    page = client.get(f"/s/{invitation.token}/9/")
    assert page.status_code == 200
    assert "Uw cijfer 9 is opgeslagen" in page.content.decode()
    stored = Response.objects.get()
    assert (stored.score, stored.source, stored.is_complete) == (9, Source.ONE_CLICK, False)

    client.post(f"/s/{invitation.token}/", {"score": "9", "q_vraag_beantwoord": "0"})
    stored.refresh_from_db()
    assert stored.is_complete
    assert Response.objects.count() == 1
    assert client.get(f"/s/{invitation.token}/9/").status_code == 404


@pytest.mark.parametrize("score", [0, 11, -1])
def test_one_click_out_of_range_gets_message(client, invitation, score):
    page = client.get(f"/s/{invitation.token}/{score}/")
    assert page.status_code == 400
    assert "Kies een rapportcijfer van 1 tot en met 10." in page.content.decode()
    assert not Response.objects.exists()


def test_open_link_needs_no_token(client, organisation):
    page = client.post("/o/stichtse-vecht/telefoon/", {"score": "6"}, follow=True)
    assert "Bedankt voor uw mening!" in page.content.decode()
    assert Response.objects.get().source == Source.OPEN


def test_open_link_unknown_channel_is_404(client, organisation):
    assert client.get("/o/stichtse-vecht/fax/").status_code == 404
    assert client.get("/o/bestaat-niet/balie/").status_code == 404


def test_english_switch(client, invitation):
    page = client.get(f"/s/{invitation.token}/?lang=en")
    body = page.content.decode()
    assert '<html lang="en">' in body
    assert "What score would you give your visit to the counter?" in body
    # The choice travels in the page's links, not in a cookie: nothing is kept on the device.
    assert not page.cookies
    assert f'action="/s/{invitation.token}/?lang=en"' in body
    assert '<html lang="nl">' in client.get(f"/s/{invitation.token}/").content.decode()


def test_the_home_page_in_english_links_to_the_english_forms(client, organisation):
    page = client.get("/?lang=en")
    assert not page.cookies
    assert 'href="/o/stichtse-vecht/balie/?lang=en"' in page.content.decode()


def test_dutch_by_default_whatever_the_browser_says(client, invitation):
    page = client.get(f"/s/{invitation.token}/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert '<html lang="nl">' in page.content.decode()


def test_no_ip_address_or_user_agent_is_stored(client, invitation):
    """Neither the resident's IP address nor their browser ends up in any table, and no session is
    created for them."""
    ip, agent = "203.0.113.77", "KTO-Privacy-Probe/1.0"
    headers = {"REMOTE_ADDR": ip, "HTTP_USER_AGENT": agent, "HTTP_X_FORWARDED_FOR": ip}
    client.get(f"/s/{invitation.token}/7/", **headers)
    client.post(f"/s/{invitation.token}/", {"score": "7", "comment": "Prima"}, **headers)
    client.post("/o/stichtse-vecht/balie/", {"score": "9"}, **headers)
    assert Response.objects.count() == 2
    stored = "".join(
        serializers.serialize("json", model.objects.all()) for model in apps.get_app_config("surveys").get_models()
    )
    assert ip not in stored
    assert agent not in stored
    assert not Session.objects.exists()


def test_residents_who_block_cookies_can_answer_in_their_language(organisation):
    """A browser that refuses every cookie: no CSRF token, no language cookie. The forms still
    take the answer (with CSRF checks enforced), no page sets a cookie the resident did not ask
    for, and English stays English through an error and the thank-you page."""
    invitation = InvitationFactory(organisation=organisation)
    strict = Client(enforce_csrf_checks=True)

    page = strict.get(f"/s/{invitation.token}/")
    assert not page.cookies  # no CSRF cookie, no session
    answered = strict.post(f"/s/{invitation.token}/", {"score": "9"}, follow=True)
    assert "Bedankt voor uw mening!" in answered.content.decode()
    assert Response.objects.get().score == 9

    english = strict.get("/o/stichtse-vecht/telefoon/?lang=en")
    strict.cookies.clear()  # the language cookie is refused too
    assert 'action="/o/stichtse-vecht/telefoon/?lang=en"' in english.content.decode()
    mistake = strict.post("/o/stichtse-vecht/telefoon/?lang=en", {"score": "11"})
    assert mistake.status_code == 400
    assert '<html lang="en">' in mistake.content.decode()
    assert "Choose a score from 1 to 10." in mistake.content.decode()
    thanks = strict.post("/o/stichtse-vecht/telefoon/?lang=en", {"score": "6"}, follow=True)
    assert '<html lang="en">' in thanks.content.decode()
    assert "Thank you for your feedback!" in thanks.content.decode()
    assert Response.objects.filter(source=Source.OPEN, score=6).exists()


def test_a_link_scanner_opening_every_one_click_link_stores_nothing(client, invitation, settings):
    """Mail security filters open all ten score links of a message within seconds. The first
    stores its score; the second, with another score, shows it was a scanner: the score is taken
    out of the figures again, the rest of the burst stores nothing, and the resident's own click
    afterwards counts."""
    for score in range(1, 11):
        page = client.get(f"/s/{invitation.token}/{score}/")
        assert page.status_code == 200
        if score > 1:  # the form, with the score chosen, to send: nothing was stored
            assert "is opgeslagen" not in page.content.decode()
            assert f'name="score" value="{score}" id="id_score_{score - 1}" required checked' in page.content.decode()
    assert not Response.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == "opened"
    assert invitation.link_scanner_at is not None
    rollup_incremental()
    assert not ScoreRollup.objects.filter(n__gt=0).exists()  # in and out of the figures again

    # Later (the burst is over) the resident clicks 8: stored as usual.
    Invitation.objects.filter(pk=invitation.pk).update(
        link_scanner_at=timezone.now() - timedelta(seconds=settings.KTO_ONE_CLICK_SCANNER_SECONDS + 1)
    )
    assert "Uw cijfer 8 is opgeslagen" in client.get(f"/s/{invitation.token}/8/").content.decode()
    assert Response.objects.get().score == 8


def test_a_resident_who_sends_the_form_during_a_scanner_burst_is_stored(client, invitation):
    client.get(f"/s/{invitation.token}/3/")
    page = client.get(f"/s/{invitation.token}/4/")  # a scanner, or a resident tapping a second score
    assert "Uw cijfer 4 is nog niet opgeslagen." in page.content.decode()  # says so, and how to confirm
    assert "Tik onderaan op Versturen om het te bevestigen" in page.content.decode()
    answered = client.post(f"/s/{invitation.token}/", {"score": "7"}, follow=True)
    assert "Bedankt voor uw mening!" in answered.content.decode()
    assert Response.objects.get().score == 7


def test_the_same_one_click_twice_is_no_scanner(client, invitation):
    """Opening the same link again (a reload, a second tap) keeps the score."""
    client.get(f"/s/{invitation.token}/6/")
    assert "Uw cijfer 6 is opgeslagen" in client.get(f"/s/{invitation.token}/6/").content.decode()
    assert Response.objects.get().score == 6
