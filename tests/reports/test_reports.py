"""The report e-mails on the demo data: the seeds' figures in the yearly reports, the monthly
report's parts, the mail's structure (a plain-text part, HTML with its chart as a CID image, the
PDF and XLSX, List-Unsubscribe), never twice, retries and failures, unknown deliveries, the
recipient's unsubscribe page, the admin and ``manage.py send_reports``."""

import email
import io
import re
import socket
from datetime import date, timedelta
from email import policy
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from surveys.organisations.models import Organisation, Role
from surveys.reports import services
from surveys.reports.mail import unsubscribe_url
from surveys.reports.models import DeliveryState, ReportDelivery, ReportRecipient, ReportSubscription
from surveys.reports.render import factsheet_html, render_report
from tests.staff import staff_user

YEAR_2018 = date(2018, 1, 1)
NOVEMBER = date(2018, 11, 1)


@pytest.fixture
def org(demo, db):
    return Organisation.objects.get(slug="stichtse-vecht")


def send(organisation, kind="year", period=YEAR_2018, capture=None):
    """Claim and send, as the beat's task does once its transaction commits."""
    ids = services.claim(organisation.pk, kind, period)
    return [services.deliver(pk) for pk in ids]


def parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=policy.default)


def parts(message) -> dict[str, object]:
    found = {}
    for part in parsed(message).walk():
        found.setdefault(part.get_content_type(), part)
    return found


def text_of(message) -> str:
    return parts(message)["text/plain"].get_content()


def html_text(message) -> str:
    html = parts(message)["text/html"].get_content()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the seeds' figures -------------------------------------------------------------------------


SEED_SENTENCES = [
    "De dienstverlening scoort gemiddeld een 8,3 (2017: 8,1).",
    "De balie scoort een 8,7 (2017: 8,5).",
    "De telefoon scoort een 8,3 (2017: 8,0).",
    "E-mail scoort een 7,2 (2017: 7,1).",
    "Sociale media scoort een 7,4 (2017: 6,8).",
    "De website scoort een 6,0 (2017: 6,0).",
    "Er is 74.000 keer gebeld, 3.500 keer minder dan in 2017.",
    "Er kwamen 48.000 bezoekers aan de balie, 3.000 meer dan in 2017.",
    "Er kwamen 15.000 e-mails binnen, 1.800 minder dan in 2017.",
]


def test_the_yearly_report_of_stichtse_vecht_2018_has_the_seed_figures(org, mailoutbox):
    assert send(org) == [DeliveryState.SENT]
    (message,) = mailoutbox
    assert message.to == ["manager@stichtse-vecht.example"]
    assert message.subject == "Jaarrapport klanttevredenheid 2018 – Gemeente Stichtse Vecht"
    for sentence in SEED_SENTENCES:
        assert sentence in text_of(message), sentence
        assert sentence in html_text(message), sentence
    # the table: 2018 next to 2017, with the significance mark
    assert "Balie 8,7 ▲ (significant hoger dan een jaar eerder) 8,5 3.000" in html_text(message)
    assert "Website 6,0 6,0 200" in html_text(message)
    assert "Telefoon 74.000 77.500" in html_text(message)  # contacts 2018 and 2017


def test_the_yearly_report_attaches_the_factsheet_and_the_figures_as_xlsx(org, mailoutbox):
    send(org)
    message = parsed(mailoutbox[0])
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {"kto-stichtse-vecht-2018.pdf", "kto-stichtse-vecht-2018.xlsx"}
    pdf = attachments["kto-stichtse-vecht-2018.pdf"].get_content()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    delivery = ReportDelivery.objects.get()
    report = render_report(org, delivery.figures, [], "nl", attachments=False)
    factsheet = " ".join(re.sub(r"<[^>]+>", " ", factsheet_html(report.context)).split())
    assert "Gemeente Stichtse Vecht Factsheet klanttevredenheid 2018" in factsheet
    for sentence in SEED_SENTENCES:
        assert sentence in factsheet, sentence
    assert "Kerncijfers per jaar" in factsheet and 'role="img"' in factsheet_html(report.context)  # the chart
    workbook = load_workbook(io.BytesIO(attachments["kto-stichtse-vecht-2018.xlsx"].get_content()))
    rows = {row[0]: row for row in workbook["Rapportcijfers"].iter_rows(min_row=2, values_only=True)}
    expected = {
        "Alle kanalen": (8.3, 8.1),
        "Balie": (8.7, 8.5),
        "Telefoon": (8.3, 8.0),
        "E-mail": (7.2, 7.1),
        "Sociale media": (7.4, 6.8),
        "Website": (6.0, 6.0),
    }
    for channel, (this_year, last_year) in expected.items():
        assert (round(rows[channel][2], 1), round(rows[channel][4], 1)) == (this_year, last_year), channel
    assert (rows["Telefoon"][9], rows["Telefoon"][10]) == (74000, 77500)
    kerncijfers = {row[0]: row[1:] for row in workbook["Kerncijfers"].iter_rows(min_row=2, values_only=True)}
    assert kerncijfers["online formulieren via de website"][-1] == 26000
    assert kerncijfers["niet verschenen op een afspraak (%)"][-1] == 13


def test_utrecht_yearly_report_shows_its_kerncijfers_2015_2018_as_the_monitor_does(demo, db, mailoutbox):
    send(Organisation.objects.get(slug="utrecht"))
    text = html_text(mailoutbox[0])
    assert "Kerncijfers per jaar Kerncijfer 2015 2016 2017 2018" in text
    for row in (  # the Utrecht Monitor's table, every cell ("–" where it has "-")
        "Balie 257.981 274.268 (+6%) 291.215 (+6%) 294.794 (+1%)",
        "Telefoon 400.354 337.029 (−16%) 334.911 (−1%) 314.803 (−6%)",
        "waarvan via 14 030 – 98.185 164.862 (+68%) 189.857 (+15%)",
        "telefonische bereikbaarheid Klantcontactcentrum (%) 81% 91% 90% 90%",
        "E-mail 32.347 20.578 (−36%) 19.287 (−6%) 18.671 (−3%)",
        "WhatsApp 1.849 11.189 (+505%) 11.342 (+1%) 11.523 (+2%)",
        "Website 211.105 223.449 (+6%) 233.453 (+4%) 260.704 (+12%)",
        "waarvan meldingen openbare ruimte – – 57.844 78.624 (+36%)",
    ):
        assert row in text, row


def test_the_mail_is_text_and_html_with_the_chart_as_a_cid_image_and_list_unsubscribe(org, mailoutbox):
    send(org)
    message = parsed(mailoutbox[0])
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.iter_parts()
    assert (plain.get_content_type(), related.get_content_type()) == ("text/plain", "multipart/related")
    html, image = related.iter_parts()
    assert image.get_content_type() == "image/png" and image["Content-ID"] == "<trend@kto>"
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="cid:trend@kto"' in html.get_content()
    assert 'style="' in html.get_content() and "<style>" not in html.get_content()  # CSS inlined
    recipient = ReportRecipient.objects.get(email="manager@stichtse-vecht.example")
    assert message["List-Unsubscribe"] == f"<{unsubscribe_url(recipient)}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw = mailoutbox[0].message().as_bytes(linesep="\r\n")
    assert f"\r\nList-Unsubscribe: <{unsubscribe_url(recipient)}>\r\n".encode() in raw  # as it is, not encoded
    assert unsubscribe_url(recipient) in plain.get_content()


def test_the_logo_travels_as_a_cid_image_and_is_on_the_factsheet(org, mailoutbox, settings, tmp_path):
    from django.core.files.base import ContentFile
    from matplotlib.figure import Figure

    settings.MEDIA_ROOT = tmp_path
    logo = io.BytesIO()
    Figure(figsize=(2, 1)).savefig(logo, format="png", facecolor="#154273")
    org.logo.save("logo.png", ContentFile(logo.getvalue()))
    send(org)
    found = parts(mailoutbox[0])
    images = [part for part in parsed(mailoutbox[0]).walk() if part.get_content_type() == "image/png"]
    assert sorted(image["Content-ID"] for image in images) == ["<logo@kto>", "<trend@kto>"]
    assert 'src="cid:logo@kto"' in found["text/html"].get_content()
    delivery = ReportDelivery.objects.get()
    report = render_report(org, delivery.figures, [], "nl", attachments=False)
    assert f'src="{(tmp_path / org.logo.name).as_uri()}"' in factsheet_html(report.context)


def test_the_monthly_report_has_the_month_before_a_year_before_and_the_lowest_comments(org, mailoutbox):
    assert send(org, "month", NOVEMBER) == [DeliveryState.SENT]
    (message,) = mailoutbox
    assert message.subject == "Klanttevredenheid november 2018 – Gemeente Stichtse Vecht"
    text = text_of(message)
    assert re.search(r"- Balie: \d,\d.* \(n = [\d.]+; oktober 2018: \d,\d; november 2017: \d,\d", text)
    assert "*: indicatief, minder dan 30 reacties." in text  # the month's small channels
    assert "Laagste cijfers met een toelichting" in text
    assert "- Cijfer 1, " in text
    assert "Er staan geen terugbelverzoeken open." in text
    assert "Jaarrapport" not in text and not list(parsed(message).iter_attachments())


def test_an_english_subscription_gets_the_report_in_english(org, mailoutbox):
    ReportSubscription.objects.filter(organisation=org).update(language="en")
    send(org)
    text = text_of(mailoutbox[0])
    assert mailoutbox[0].subject == "Annual customer satisfaction report 2018 – Gemeente Stichtse Vecht"
    assert "The counter scores 8.7 (2017: 8.5)." in text
    assert "74,000" in text


def test_a_sent_report_keeps_its_figures_when_late_responses_change_the_rollups(org, mailoutbox):
    send(org)
    delivery = ReportDelivery.objects.get()
    stored = delivery.figures
    from surveys.rollups.models import ScoreRollup

    ScoreRollup.objects.filter(organisation=org).update(total=0)
    again = render_report(org, delivery.figures, delivery.comments, "nl", attachments=False)
    assert "De balie scoort een 8,7 (2017: 8,5)." in again.text
    assert ReportDelivery.objects.get().figures == stored


# --- never twice --------------------------------------------------------------------------------


def test_a_second_claim_a_retried_task_or_a_second_beat_sends_nothing(org, mailoutbox):
    send(org)
    assert services.claim(org.pk, "year", YEAR_2018) == []
    delivery = ReportDelivery.objects.get()
    assert services.deliver(delivery.pk) == DeliveryState.SENT  # the task once more: nothing sent
    assert len(mailoutbox) == 1
    assert ReportDelivery.objects.get().sent_count == 1


def test_the_beat_plans_one_task_per_organisation_only_on_the_first_working_day(
    org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        planned = services.plan(timezone.make_aware(timezone.datetime(2019, 1, 2, 7, 0)))
    organisations = {organisation_id for organisation_id, _kind, _period in planned}
    assert len(organisations) == 2
    assert sorted({(kind, period) for _o, kind, period in planned}) == [
        ("month", date(2018, 12, 1)),
        ("year", YEAR_2018),
    ]
    assert len(callbacks) == 4
    assert services.plan(timezone.make_aware(timezone.datetime(2019, 1, 3, 7, 0))) == []


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_smtp_error_is_retried_with_backoff_then_shown_as_failed(org, settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", unused_port(), 2
    (pk,) = services.claim(org.pk, "year", YEAR_2018)
    start = timezone.now()
    assert services.deliver(pk, now=start) == DeliveryState.RETRY
    delivery = ReportDelivery.objects.get(pk=pk)
    assert delivery.attempts == 1 and "ConnectionRefusedError" in delivery.last_error
    assert delivery.next_attempt_at == start + timedelta(minutes=5)
    assert services.deliver(pk, now=start + timedelta(minutes=1)) == DeliveryState.RETRY  # not due yet
    assert ReportDelivery.objects.get(pk=pk).attempts == 1
    moment = start
    for backoff in services.BACKOFF:
        moment += backoff
        state = services.deliver(pk, now=moment)
    assert state == DeliveryState.FAILED
    assert ReportDelivery.objects.get(pk=pk).attempts == services.MAX_ATTEMPTS
    assert mailoutbox == []


def test_a_delivery_left_sending_by_a_dead_worker_becomes_unknown_and_is_sent_again_only_by_hand(
    org, mailoutbox, django_capture_on_commit_callbacks
):
    (pk,) = services.claim(org.pk, "year", YEAR_2018)
    long_ago = timezone.now() - timedelta(minutes=6)
    ReportDelivery.objects.filter(pk=pk).update(state=DeliveryState.SENDING, sending_since=long_ago, attempts=1)
    assert services.settle() == {"unknown": 1, "queued": 0}
    assert services.deliver(pk) == DeliveryState.UNKNOWN  # a redelivered task sends nothing
    assert mailoutbox == []
    admin_user = staff_user("beheerder-sv", org, Role.BEHEERDER)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend([pk], user=admin_user) == 1
    delivery = ReportDelivery.objects.get(pk=pk)
    assert (delivery.state, delivery.sent_count, delivery.resent_by) == (DeliveryState.SENT, 1, admin_user)
    assert len(mailoutbox) == 1


def test_the_sweep_queues_what_was_claimed_while_the_broker_was_away(
    org, mailoutbox, django_capture_on_commit_callbacks
):
    (pk,) = services.claim(org.pk, "year", YEAR_2018)  # its on_commit never ran: the broker was down
    ReportDelivery.objects.filter(pk=pk).update(claimed_at=timezone.now() - timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.settle() == {"unknown": 0, "queued": 1}
    assert ReportDelivery.objects.get(pk=pk).state == DeliveryState.SENT
    assert len(mailoutbox) == 1


# --- the recipient's unsubscribe ----------------------------------------------------------------


def test_unsubscribe_asks_first_then_stops_the_reports_and_sets_no_cookie(org, client, mailoutbox):
    recipient = ReportRecipient.objects.get(email="manager@stichtse-vecht.example")
    url = unsubscribe_url(recipient).removeprefix("http://127.0.0.1:8000")
    page = client.get(url)
    assert page.status_code == 200 and "Ja, meld mij af" in page.content.decode()
    assert not page.cookies
    assert ReportRecipient.objects.get(pk=recipient.pk).unsubscribed_at is None  # a GET changes nothing
    done = client.post(url, {"List-Unsubscribe": "One-Click"})  # as a mail client's one-click POST
    assert done.status_code == 200 and "U bent afgemeld voor de rapporten" in done.content.decode()
    assert not done.cookies
    assert send(org) == []
    assert mailoutbox == []


def test_a_report_claimed_before_the_recipient_unsubscribed_is_not_sent(org, mailoutbox):
    (pk,) = services.claim(org.pk, "year", YEAR_2018)
    ReportRecipient.objects.update(unsubscribed_at=timezone.now())
    assert services.deliver(pk) == DeliveryState.SKIPPED
    assert mailoutbox == []


def test_a_broken_unsubscribe_link_gets_a_clear_page(org, client):
    recipient = ReportRecipient.objects.get(email="manager@stichtse-vecht.example")
    url = unsubscribe_url(recipient).removeprefix("http://127.0.0.1:8000")
    for broken in (url[:-8] + "/", "/rapporten/afmelden/abc/", "/rapporten/afmelden/" + "x" * 500 + "/"):
        page = client.get(broken)
        assert page.status_code == 404 and "Deze link werkt niet" in page.content.decode()


# --- the admin and the command ------------------------------------------------------------------


def test_staff_preview_their_own_organisations_report_in_html_pdf_and_xlsx(org, client):
    client.force_login(staff_user("kcc-sv", org, Role.KCC))
    base = "/admin/surveys/reportsubscription/voorbeeld/?organisation=stichtse-vecht&language=nl"
    page = client.get(base + "&period=2018&format=html")
    assert page.status_code == 200
    assert "De balie scoort een 8,7 (2017: 8,5)." in page.content.decode()
    assert 'src="data:image/png;base64,' in page.content.decode()
    assert client.get(base + "&period=2018-11&format=pdf")["Content-Type"] == "application/pdf"
    assert client.get(base + "&period=2018&format=xlsx").content[:2] == b"PK"
    other = client.get("/admin/surveys/reportsubscription/voorbeeld/?organisation=utrecht&period=2018&format=html")
    assert other.status_code == 400 and "Utrecht" not in other.content.decode()
    wrong = client.get(base + "&period=2018-13&format=html")
    assert wrong.status_code == 400 and "Geef een jaar (2018) of een maand (2018-11)." in wrong.content.decode()


def test_a_beheerder_sends_by_hand_and_resends_from_the_admin(
    org, client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(staff_user("beheerder-sv", org, Role.BEHEERDER))
    subscription = ReportSubscription.objects.get(organisation=org)
    changelist = "/admin/surveys/reportsubscription/"
    form = client.post(changelist, {"action": "send_now", "_selected_action": [subscription.pk]})
    assert form.status_code == 200 and "Periode" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            changelist, {"action": "send_now", "_selected_action": [subscription.pk], "period": "2018"}, follow=True
        )
    assert "1 rapport klaargezet om te versturen." in sent.content.decode()
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            changelist, {"action": "send_now", "_selected_action": [subscription.pk], "period": "2018"}, follow=True
        )
    assert "0 rapporten klaargezet" in again.content.decode() and len(mailoutbox) == 1
    delivery = ReportDelivery.objects.get()
    listing = client.get("/admin/surveys/reportdelivery/")
    assert "manager@stichtse-vecht.example" in listing.content.decode() and "Verstuurd" in listing.content.decode()
    as_sent = client.get(f"/admin/surveys/reportdelivery/{delivery.pk}/rapport.html")
    assert "De balie scoort een 8,7 (2017: 8,5)." in as_sent.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/surveys/reportdelivery/", {"action": "resend", "_selected_action": [delivery.pk]})
    assert len(mailoutbox) == 2 and ReportDelivery.objects.get().sent_count == 2


def test_kcc_staff_see_the_deliveries_but_cannot_send(org, client):
    send(org)
    send(Organisation.objects.get(slug="utrecht"))
    client.force_login(staff_user("kcc-sv", org, Role.KCC))
    listing = client.get("/admin/surveys/reportdelivery/")
    assert listing.status_code == 200 and "manager@stichtse-vecht.example" in listing.content.decode()
    assert "Opnieuw versturen" not in listing.content.decode()
    assert "manager@utrecht.example" not in listing.content.decode()
    utrecht = ReportDelivery.objects.get(organisation__slug="utrecht")
    other = client.get(f"/admin/surveys/reportdelivery/{utrecht.pk}/rapport.html")
    assert other.status_code == 404 and "Utrecht" not in other.content.decode()


def test_send_reports_dry_run_then_send_then_nothing_twice(org, mailoutbox, django_capture_on_commit_callbacks):
    out = StringIO()
    call_command("send_reports", "--period", "2018", "--dry-run", "--no-progress", stdout=out)
    assert "stichtse-vecht: Directie (demo) → manager@stichtse-vecht.example (would be sent)" in out.getvalue()
    assert "Dry run: 2 report(s) would be sent" in out.getvalue()
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "send_reports", "--period", "2018", "--organisation", "utrecht", "--no-progress", stdout=StringIO()
        )
    assert [m.to for m in mailoutbox] == [["manager@utrecht.example"]]
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reports", "--period", "2018", "--no-progress", stdout=out)
    assert "1 report(s) claimed" in out.getvalue() and len(mailoutbox) == 2
    with pytest.raises(CommandError, match="a year"):
        call_command("send_reports", "--period", "18", stdout=StringIO())
    with pytest.raises(CommandError, match="no organisation"):
        call_command("send_reports", "--period", "2018", "--organisation", "nergens", stdout=StringIO())
