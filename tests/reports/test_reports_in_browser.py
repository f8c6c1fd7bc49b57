"""The report e-mails' HTML in a real browser (Debian's chromium), as a mail client that shows
HTML would: at phone and desktop width nothing runs off the side, the seed's sentences are visible,
and axe finds no WCAG 2.1 AA violation. Screenshots in test-artifacts/screenshots/."""

import pytest
from playwright.sync_api import expect

from surveys.organisations.models import Organisation
from surveys.reports.figures import lowest_comments, report_figures
from surveys.reports.render import render_report
from surveys.reports.schedule import parse_period


@pytest.mark.parametrize(("name", "width"), [("phone", 375), ("desktop", 1280)])
@pytest.mark.parametrize("period", ["2018", "2018-11"])
def test_the_report_mail_fits_the_screen_and_is_accessible(
    demo, db, browser, assert_accessible, screenshot, name, width, period
):
    organisation = Organisation.objects.get(slug="stichtse-vecht")
    kind, start = parse_period(period)
    figures = report_figures(organisation, kind, start, [], "nl")
    comments = lowest_comments(organisation, start, []) if kind == "month" else []
    report = render_report(
        organisation,
        figures,
        comments,
        "nl",
        preview=True,
        attachments=False,
        unsubscribe_url="https://kto.example/rapporten/afmelden/test/",
    )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_content(report.html)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    chart = page.locator("img.chart")
    expect(chart).to_be_visible()
    assert page.evaluate("document.querySelector('img.chart').naturalWidth") > 0  # the chart loaded
    if kind == "year":
        expect(page.get_by_text("De balie scoort een 8,7 (2017: 8,5).")).to_be_visible()
    else:
        expect(page.get_by_role("heading", name="Laagste cijfers met een toelichting")).to_be_visible()
    assert_accessible(page, f"the report of {period} at {width} px")
    screenshot(page, f"report-{period}-{name}")
    context.close()
