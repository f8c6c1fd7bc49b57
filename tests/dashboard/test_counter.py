"""The counter: QR codes (SVG, PNG) and an A4 poster (PDF) per channel of the staff member's own
organisation, and the kiosk mode of the open form, whose thank-you page leads to a fresh form."""

import io

import pytest
import segno
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from surveys.organisations.models import Channel
from surveys.responses.models import Response
from tests.staff import logged_in

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_counter_page_lists_every_channel_with_its_qr_code(client, kcc_a, org_a):
    text = logged_in(client, kcc_a).get("/admin/balie/").content.decode()
    assert f"{settings.KTO_BASE_URL}/o/stichtse-vecht/balie/" in text
    assert f"{settings.KTO_BASE_URL}/o/stichtse-vecht/email/?kiosk=1" in text
    assert text.count("<svg") >= 2 and "QR-code naar de vragenlijst van Balie" in text


@pytest.mark.parametrize(("kind", "start"), [("svg", b"<svg"), ("png", PNG)])
def test_qr_codes_download(client, kcc_a, org_a, kind, start):
    answer = logged_in(client, kcc_a).get(f"/admin/balie/balie/qr.{kind}")
    assert answer.status_code == 200
    assert answer.content.lstrip().startswith(start) or start in answer.content[:200]
    assert f'filename="qr-stichtse-vecht-balie.{kind}"' in answer["Content-Disposition"]


def test_the_qr_code_holds_the_open_link(org_a):
    from surveys.dashboard.counter import open_link, qr_code

    link = open_link(org_a, Channel.BALIE)
    assert qr_code(org_a, Channel.BALIE).matrix == segno.make(link, error="m").matrix
    assert link == f"{settings.KTO_BASE_URL}/o/stichtse-vecht/balie/"


def test_the_poster_is_an_a4_pdf_with_name_logo_and_link(client, beheerder_a, org_a, settings, tmp_path):
    from weasyprint import HTML

    from surveys.dashboard.counter import poster_html
    from surveys.reports.pdf import _local_only

    settings.MEDIA_ROOT = str(tmp_path)
    png = io.BytesIO()
    segno.make("logo").save(png, kind="png", scale=5)
    org_a.logo = SimpleUploadedFile("logo.png", png.getvalue())
    org_a.save()
    answer = logged_in(client, beheerder_a).get("/admin/balie/balie/poster.pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert 'filename="poster-stichtse-vecht-balie.pdf"' in answer["Content-Disposition"]
    html = poster_html(org_a, Channel.BALIE)
    assert "Stichtse Vecht" in html and "Hoe was uw bezoek?" in html
    assert f"{settings.KTO_BASE_URL}/o/stichtse-vecht/balie/" in html
    assert f'src="file://{tmp_path}/logos/' in html and "<svg" in html
    document = HTML(string=html, url_fetcher=_local_only).render()
    assert len(document.pages) == 1
    assert round(document.pages[0].width * 25.4 / 96) == 210  # A4, in millimetres


def test_the_poster_fetches_nothing_from_the_network():
    from surveys.reports.pdf import _local_only

    with pytest.raises(ValueError, match="Not fetched"):
        _local_only("http://169.254.169.254/latest/meta-data/")


def test_staff_cannot_reach_another_organisations_codes(client, kcc_a, org_a, org_b):
    client = logged_in(client, kcc_a)
    text = client.get("/admin/balie/?organisation=utrecht").content.decode()
    assert "/o/utrecht/" not in text and "/o/stichtse-vecht/" in text
    assert client.get("/admin/balie/chat/qr.svg").status_code == 404  # not a channel of theirs
    assert client.get("/admin/balie/balie/qr.gif").status_code == 404


def test_the_kiosk_thank_you_page_leads_to_a_fresh_form(client, org_a):
    answer = client.post("/o/stichtse-vecht/balie/?kiosk=1", {"score": "8"})
    assert answer.status_code == 302
    assert answer.url == "/o/stichtse-vecht/bedankt/?kiosk=balie"
    page = client.get(answer.url).content.decode()
    assert 'href="/o/stichtse-vecht/balie/?kiosk=1"' in page
    assert "Over 10 seconden begint een nieuwe vragenlijst." in page and "kiosk.js" in page
    assert Response.objects.count() == 1
    assert not client.cookies


def test_the_kiosk_mode_keeps_the_language(client, org_a):
    answer = client.post("/o/stichtse-vecht/balie/?kiosk=1&lang=en", {"score": "8"})
    assert answer.url == "/o/stichtse-vecht/bedankt/?lang=en&kiosk=balie"
    assert 'href="/o/stichtse-vecht/balie/?lang=en&amp;kiosk=1"' in client.get(answer.url).content.decode()


def test_without_kiosk_the_thank_you_page_says_close(client, org_a):
    answer = client.post("/o/stichtse-vecht/balie/", {"score": "8"})
    page = client.get(answer.url).content.decode()
    assert "U kunt deze pagina nu sluiten." in page and "kiosk.js" not in page
    assert "kiosk.js" not in client.get("/o/stichtse-vecht/bedankt/?kiosk=nergens").content.decode()
