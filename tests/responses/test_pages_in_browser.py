"""The residents' pages in a real browser (Debian's chromium through Playwright), on a phone-sized
screen: keyboard-only rating, the one-click link, the error flow, axe-core's WCAG 2.1 A/AA rules,
the page without JavaScript, and screenshots in test-artifacts/screenshots/ for a human to look at."""

import re

import pytest
from playwright.sync_api import expect

from surveys.invitations.unsubscribe import unsubscribe_token
from surveys.questionnaires.services import current_version
from surveys.responses.models import Response, Source
from surveys.responses.services import submit_response
from tests.factories import InvitationFactory, OrganisationFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def organisation(transactional_db):
    return OrganisationFactory(name="Stichtse Vecht", slug="stichtse-vecht")


@pytest.fixture
def invitation(organisation):
    return InvitationFactory(organisation=organisation)


def tab_to(page, selector: str, *, limit: int = 15) -> None:
    """Presses Tab until the focused element matches ``selector``, like a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def focused(page) -> str:
    return page.evaluate("() => document.activeElement.id || document.activeElement.tagName")


def rate_with_keyboard(page) -> None:
    """Score 8, 'ja', friendliness 4 and a comment, by keyboard only, then submit."""
    tab_to(page, "input[name=score]")
    assert focused(page) == "id_score_0"
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#id_score_7")).to_be_checked()
    tab_to(page, "input[name=q_vraag_beantwoord]")
    page.keyboard.press("Space")
    expect(page.locator("#id_q_vraag_beantwoord_0")).to_be_checked()
    tab_to(page, "input[name=q_vriendelijkheid]")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#id_q_vriendelijkheid_3")).to_be_checked()
    tab_to(page, "textarea[name=comment]")
    page.keyboard.type("Snel geholpen")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")


def test_rate_with_the_keyboard_only_in_dutch(page, invitation, screenshot):
    page.goto(f"/s/{invitation.token}/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("link", name="English")).to_be_visible()
    screenshot(page, "form-nl")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Direct naar de inhoud")
    expect(skip_link).to_be_focused()
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().left") >= 0
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#id_score_0")).to_be_focused()
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    # The focus ring on the chosen score must be visible: a human checks this screenshot.
    screenshot(page, "form-nl-keyboard-focus")
    outline = page.evaluate("() => getComputedStyle(document.activeElement.nextElementSibling).outlineStyle")
    assert outline == "solid"
    page.goto(f"/s/{invitation.token}/")

    rate_with_keyboard(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw mening!")
    screenshot(page, "thanks-nl")
    response = Response.objects.get()
    assert (response.score, response.source, response.comment, response.language) == (
        8,
        Source.INVITATION,
        "Snel geholpen",
        "nl",
    )


def test_rate_with_the_keyboard_only_in_english(page, invitation, screenshot):
    page.goto(f"/s/{invitation.token}/")
    tab_to(page, "a[hreflang=en]")
    screenshot(page, "language-switch-focus")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("group", name=re.compile("What score would you give your visit"))).to_be_visible()
    expect(page.get_by_role("link", name="Nederlands")).to_be_visible()
    screenshot(page, "form-en")

    rate_with_keyboard(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your feedback!")
    screenshot(page, "thanks-en")
    response = Response.objects.get()
    assert (response.score, response.language) == (8, "en")


def test_one_click_link_confirms_the_score_and_offers_the_other_questions(page, invitation, screenshot):
    page.goto(f"/s/{invitation.token}/9/")

    expect(page.get_by_role("status")).to_contain_text("Bedankt! Uw cijfer 9 is opgeslagen.")
    expect(page.locator("#id_score_8")).to_be_checked()
    expect(page.get_by_role("group", name=re.compile("Is uw vraag beantwoord?"))).to_be_visible()
    expect(page.get_by_label("Wilt u uw cijfer toelichten?")).to_be_visible()
    screenshot(page, "one-click-nl")
    assert Response.objects.get().score == 9

    page.locator("label[for=id_q_vraag_beantwoord_0]").click()
    page.get_by_role("button", name="Versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw mening!")
    response = Response.objects.get()
    assert (response.score, response.source, response.is_complete) == (9, Source.ONE_CLICK, True)


def test_submit_without_score_shows_error_summary_linked_to_the_field(page, invitation, screenshot):
    page.goto(f"/s/{invitation.token}/")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Fout: "))
    expect(page.locator("#id_score-error")).to_have_text(re.compile("Kies een rapportcijfer van 1 tot en met 10."))
    expect(page.get_by_role("group", name=re.compile("Welk rapportcijfer"))).to_have_accessible_description(
        re.compile("Kies een rapportcijfer van 1 tot en met 10.")
    )
    screenshot(page, "error-nl")

    page.keyboard.press("Tab")
    expect(summary.get_by_role("link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#id_score_0")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw mening!")
    assert Response.objects.get().score == 1


def test_form_works_without_javascript(page_without_js, invitation):
    page = page_without_js
    page.goto(f"/s/{invitation.token}/")
    page.locator("label[for=id_score_6]").click()
    page.locator("label[for=id_q_vraag_beantwoord_1]").click()
    page.locator("#id_comment").fill("Duidelijk antwoord")
    page.get_by_role("button", name="Versturen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw mening!")
    response = Response.objects.get()
    assert (response.score, response.comment) == (7, "Duidelijk antwoord")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_pages_have_no_wcag_21_aa_violations(page, organisation, language, assert_accessible, screenshot):
    form_invitation, click_invitation = InvitationFactory.create_batch(2, organisation=organisation)
    lang = f"?lang={language}"  # every link a resident gets carries the language (no cookie keeps it)
    page.goto(f"/s/{form_invitation.token}/{lang}")
    assert_accessible(page, f"the form ({language})")

    page.locator("button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, f"the error page ({language})")
    if language == "en":
        screenshot(page, "error-en")

    page.goto(f"/s/{click_invitation.token}/7/{lang}")
    expect(page.get_by_role("status")).to_be_visible()
    assert_accessible(page, f"the one-click page ({language})")

    page.goto(f"/s/{form_invitation.token}/{lang}")
    page.locator("label[for=id_score_4]").click()
    page.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Bedankt voor uw mening!" if language == "nl" else re.compile("Thank"))
    assert_accessible(page, f"the thank-you page ({language})")

    page.goto(f"/s/{form_invitation.token}/{lang}")
    expect(page.locator("h1")).to_have_text("Deze link werkt niet meer" if language == "nl" else re.compile("link"))
    assert_accessible(page, f"the unavailable-link page ({language})")
    screenshot(page, f"unavailable-{language}")

    late_invitation = InvitationFactory(organisation=organisation)
    page.goto(f"/s/{late_invitation.token}/{lang}")
    submit_response(
        organisation=organisation,
        channel=late_invitation.channel,
        score=6,
        source=Source.INVITATION,
        invitation=late_invitation,
    )
    page.locator("label[for=id_score_4]").click()
    page.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(
        "U heeft deze vragenlijst al ingevuld" if language == "nl" else re.compile("already")
    )
    assert_accessible(page, f"the already-answered page ({language})")
    screenshot(page, f"already-answered-{language}")

    page.goto(f"/o/{organisation.slug}/balie/{lang}")
    assert_accessible(page, f"the open form ({language})")
    page.goto(f"/{lang}")
    assert_accessible(page, f"the home page ({language})")
    screenshot(page, f"home-{language}")


def test_a_light_brand_colour_still_gives_readable_white_text(page, assert_accessible, screenshot):
    organisation = OrganisationFactory(brand_colour="#ffd700")
    invitation = InvitationFactory(organisation=organisation)
    page.goto(f"/s/{invitation.token}/8/")
    expect(page.locator("#id_score_7")).to_be_checked()
    assert_accessible(page, "the one-click page with a light brand colour")
    screenshot(page, "one-click-light-brand")


def test_pages_reflow_on_a_320_pixel_screen_without_sideways_scrolling(browser, live_server, invitation):
    """WCAG 1.4.10: 320 CSS pixels wide (a small phone, or 1280 pixels at 400% zoom)."""
    context = browser.new_context(viewport={"width": 320, "height": 640}, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto(f"/s/{invitation.token}/?lang=en")
        page.locator("button[type=submit]").click()
        expect(page.locator("#error-summary")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
        page.goto("/")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_unknown_pages_and_blocked_cookies_get_friendly_translated_pages(page, invitation, assert_accessible):
    answer = page.goto("/o/bestaat-niet/balie/")
    assert answer.status == 404
    expect(page.locator("h1")).to_have_text("Deze pagina bestaat niet")
    assert_accessible(page, "the 404 page")

    # A resident whose browser refuses cookies can still answer.
    page.goto(f"/s/{invitation.token}/")
    assert not page.context.cookies()
    page.locator("label[for=id_score_7]").click()
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("h1")).to_have_text("Bedankt voor uw mening!")
    assert Response.objects.get().score == 8  # (id_score_7 is the eighth option: 8)

    # Staff forms keep their CSRF check; without the cookie they get a translated page.
    page.goto("/admin/login/")
    page.context.clear_cookies()  # as if the browser refused cookies: no CSRF cookie
    page.get_by_label("Gebruikersnaam").fill("iemand")
    page.get_by_label("Wachtwoord").fill("geheim")
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.locator("h1")).to_have_text("Het formulier is niet verstuurd")
    expect(page).to_have_title(re.compile("^Fout: "))
    assert_accessible(page, "the CSRF failure page")


def test_touch_targets_are_at_least_44_by_44_pixels(page, invitation):
    page.goto(f"/s/{invitation.token}/")
    targets = page.locator(".option label, button[type=submit], .language-switch a")
    sizes = targets.evaluate_all(
        "els => els.map(e => [e.textContent.trim(), e.getBoundingClientRect().width, e.getBoundingClientRect().height])"
    )
    assert len(sizes) == 10 + 2 + 5 + 2 + 1 + 1  # scores, two questions, may we contact you, button, switch
    too_small = [(text, round(w), round(h)) for text, w, h in sizes if w < 44 or h < 44]
    assert not too_small


def test_a_choice_question_is_a_readable_list_on_a_phone(page, organisation, assert_accessible, screenshot):
    version = current_version(organisation=organisation, channel="balie")
    options = [
        ("afspraak", "Een afspraak maken of wijzigen", "Making or changing an appointment"),
        ("paspoort", "Paspoort, identiteitskaart of rijbewijs", "Passport, identity card or driving licence"),
        ("verhuizing", "Een verhuizing doorgeven", "Reporting a change of address"),
        ("anders", "Iets anders", "Something else"),
    ]
    version.questions.create(
        key="onderwerp",
        order=9,
        kind="choice",
        text_nl="Waar ging uw contact over?",
        text_en="What was your contact about?",
        choices=[{"value": value, "nl": nl, "en": en} for value, nl, en in options],
    )
    invitation = InvitationFactory(organisation=organisation)
    page.goto(f"/s/{invitation.token}/")
    group = page.get_by_role("group", name="Waar ging uw contact over?")
    expect(group.get_by_role("radio")).to_have_count(4)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert_accessible(page, "a form with a choice question")

    page.locator("label[for=id_score_5]").click()
    group.get_by_text("Een verhuizing doorgeven").click()
    screenshot(page, "form-choice-question")
    page.get_by_role("button", name="Versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw mening!")
    assert Response.objects.get().score == 6


@pytest.mark.parametrize("language", ["nl", "en"])
def test_unsubscribe_pages_are_accessible(page, organisation, language, assert_accessible):
    token = unsubscribe_token(organisation.pk, "ab" * 32)
    page.goto(f"/afmelden/{token}/?lang={language}")
    assert_accessible(page, f"the unsubscribe page ({language})")
    page.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("U bent afgemeld" if language == "nl" else re.compile("unsubscribed"))
    assert_accessible(page, f"the unsubscribed page ({language})")
    page.goto(f"/afmelden/{token}x/")
    assert_accessible(page, f"the invalid unsubscribe link page ({language})")
