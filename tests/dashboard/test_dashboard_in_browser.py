"""The dashboard in a real browser (Debian's chromium): Utrecht's staff log in, see Utrecht's 2018
figures and kerncijfers at 1280 pixels and at phone width, cannot reach Stichtse Vecht's, and axe
finds no WCAG 2.1 AA violation. Screenshots in test-artifacts/screenshots/."""

import pytest
from playwright.sync_api import expect

from surveys.organisations.models import Organisation, Role
from surveys.rollups.recount import rollup_full
from tests.demo.test_seed import run_seed
from tests.responses.conftest import PHONE
from tests.staff import staff_user

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def utrecht_staff(transactional_db):
    run_seed()
    rollup_full()
    user = staff_user("kcc-browser", Organisation.objects.get(slug="utrecht"), Role.KCC)
    user.set_password("kto-browser-test")
    user.save()
    return user


def logged_in_page(browser, live_server, user, **context):
    page = browser.new_context(**context, base_url=live_server.url).new_page()
    page.set_default_timeout(10000)
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "kto-browser-test")
    page.click("input[type=submit]")
    return page


@pytest.mark.parametrize(("name", "context"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_utrecht_staff_see_utrecht_2018_on_the_dashboard(
    browser, live_server, utrecht_staff, assert_accessible, screenshot, name, context
):
    page = logged_in_page(browser, live_server, utrecht_staff, **context)
    expect(page.locator("h1")).to_have_text("Dashboard Gemeente Utrecht")
    page.select_option("#id_year", "2018")
    page.get_by_role("button", name="Toon").click()
    scores = page.get_by_role("region", name="Rapportcijfers december 2018 en 2018")
    balie = scores.get_by_role("row", name="Balie")
    expect(balie.get_by_role("cell").nth(3)).to_contain_text("7,8")  # 2018 (0-2: December, a year before, respons)
    expect(balie.get_by_role("cell").nth(4)).to_have_text("7,8")
    expect(scores.get_by_role("row", name="Telefoon").get_by_role("cell").nth(4)).to_have_text("8,0")
    volumes = page.get_by_role("region", name="Kerncijfers per jaar")
    expect(volumes.get_by_role("row", name="Telefoon")).to_contain_text("314.803 (−6%)")
    expect(volumes.get_by_role("row", name="Website")).to_contain_text("260.704 (+12%)")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    if name == "desktop":  # the figures' table fits beside the menu, without scrolling sideways
        assert page.evaluate(FITS, ".kto-figures"), "the dashboard's figures scroll sideways at 1280 pixels"
    screenshot(page, f"dashboard-utrecht-{name}")
    assert_accessible(page, f"the dashboard ({name})")
    page.get_by_text("De cijfers van de grafiek als tabel").click()
    assert_accessible(page, f"the dashboard with the chart's table open ({name})")


def test_utrecht_staff_cannot_reach_stichtse_vecht(browser, live_server, utrecht_staff):
    page = logged_in_page(browser, live_server, utrecht_staff, **DESKTOP)
    page.goto("/admin/?organisation=stichtse-vecht&year=2018")
    expect(page.locator("h1")).to_have_text("Dashboard Gemeente Utrecht")
    stichtse_vecht = Organisation.objects.get(slug="stichtse-vecht")
    page.goto(f"/admin/surveys/organisation/{stichtse_vecht.pk}/change/")
    expect(page.locator("body")).not_to_contain_text("Stichtse Vecht")


def test_the_staff_pages_have_no_wcag_21_aa_violations(
    browser, live_server, utrecht_staff, assert_accessible, screenshot
):
    """The follow-up queue, the responses list (filtered and searched), the export's page (the list
    with its export links) and the counter page, at desktop and phone width."""
    from surveys.followups.models import FollowUp
    from surveys.responses.models import Response

    utrecht = Organisation.objects.get(slug="utrecht")
    low = Response.objects.filter(organisation=utrecht, score__lte=4).exclude(comment="").first()
    FollowUp.objects.create(organisation=utrecht, response=low, due_at=low.submitted_at)
    for name, context in (("desktop", DESKTOP), ("phone", PHONE)):
        page = logged_in_page(browser, live_server, utrecht_staff, **context)
        for path, what in [
            ("/admin/surveys/followup/", "the follow-up queue"),
            (f"/admin/surveys/followup/{FollowUp.objects.get().pk}/change/", "a follow-up item"),
            ("/admin/surveys/response/?period=2018&score_band=low&q=wachten", "the responses list, filtered"),
            ("/admin/balie/", "the counter page"),
        ]:
            page.goto(path)
            expect(page.locator("#content")).to_be_visible()
            assert_accessible(page, f"{what} ({name})")
        page.goto("/admin/surveys/response/?period=2018")
        expect(page.get_by_role("link", name="Exporteer als CSV")).to_be_visible()
        screenshot(page, f"responses-list-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        if name == "desktop":  # at 1280 pixels every column fits beside the filters: nothing scrolls sideways
            assert page.evaluate(FITS, "#result_list"), "the responses list scrolls sideways at 1280 pixels"


FITS = """(selector) => {
  const table = document.querySelector(selector);
  return table.scrollWidth <= table.parentElement.clientWidth;
}"""


COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_no_page_breaks_the_content_security_policy(browser, live_server, utrecht_staff):
    """The strict CSP (scripts only from KTO itself) leaves every page working: the browser
    reports no violation on the residents' pages, the staff pages and the API's documentation."""
    context = browser.new_context(**DESKTOP, base_url=live_server.url)
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10000)
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    seen = []

    def visit(path: str) -> None:
        response = page.goto(path)
        assert response.status < 400, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "camera=()" in response.headers["permissions-policy"]
        seen.append((path, page.evaluate("window.__csp")))

    visit("/o/utrecht/balie/?kiosk=1")
    page.get_by_label("8", exact=True).check()
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("h1")).to_contain_text("Bedankt")
    seen.append(("thanks", page.evaluate("window.__csp")))
    page.goto("/admin/login/")
    page.fill("#id_username", utrecht_staff.username)
    page.fill("#id_password", "kto-browser-test")
    page.click("input[type=submit]")
    for path in (
        "/admin/?year=2018",
        "/admin/surveys/response/?period=2018",
        "/admin/balie/",
        "/admin/surveys/reportsubscription/voorbeeld/",
        "/admin/surveys/reportsubscription/voorbeeld/?organisation=utrecht&period=2018&language=nl&format=html",
        "/admin/surveys/followup/",
        "/api/docs/",
    ):
        visit(path)
    expect(page.locator(".swagger-ui .info")).to_be_visible()  # the API docs' script ran
    seen.append(("docs", page.evaluate("window.__csp")))
    assert all(not violations for _path, violations in seen), seen
    assert not [m for m in messages if "Content Security Policy" in m], messages
    # The watch works: an inline script (what an injected one would be) is blocked and reported.
    page.evaluate("document.body.appendChild(Object.assign(document.createElement('script'), {textContent: '1'}))")
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__csp")[0].startswith("script-src")
    context.close()
