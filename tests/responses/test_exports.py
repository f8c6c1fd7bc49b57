"""Exports of the responses list: the filtered rows of the user's own organisation, as CSV and
XLSX, formulas defused, every export logged."""

import csv
import io

import pytest
from openpyxl import load_workbook

from surveys.organisations.models import Channel
from surveys.responses.models import ExportLog
from tests.factories import ResponseFactory
from tests.staff import logged_in

pytestmark = pytest.mark.django_db


def csv_rows(answer) -> list[list[str]]:
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_filtered_list_as_csv(client, org_a, org_b, kcc_a):
    ResponseFactory(organisation=org_a, channel=Channel.BALIE, score=9, comment="Snel geholpen")
    ResponseFactory(organisation=org_a, channel=Channel.EMAIL, score=4, comment="Mail bleef liggen")
    ResponseFactory(organisation=org_b, channel=Channel.BALIE, score=7, comment="Utrecht's comment")
    answer = logged_in(client, kcc_a).get("/admin/surveys/response/export/csv/?channel__exact=balie")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="reacties-' in answer["Content-Disposition"]
    rows = csv_rows(answer)
    assert rows[0][:5] == ["ingevuld", "maand van contact", "kanaal", "rapportcijfer", "toelichting"]
    assert [row[4] for row in rows[1:]] == ["Snel geholpen"]
    log = ExportLog.objects.get()
    assert (log.username, log.file_format, log.filters, log.rows, log.organisation) == (
        "kcc-a",
        "csv",
        "channel__exact=balie",
        1,
        org_a,
    )


def test_a_search_applies_to_the_export_too(client, org_a, kcc_a):
    ResponseFactory(organisation=org_a, comment="Ik wachtte lang")
    ResponseFactory(organisation=org_a, comment="Prima")
    rows = csv_rows(logged_in(client, kcc_a).get("/admin/surveys/response/export/csv/?q=wachten"))
    assert [row[4] for row in rows[1:]] == ["Ik wachtte lang"]


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x.example","klik")', "+31 6", "-1+2", "@SUM(A1)"])
def test_formulas_are_defused_in_csv_and_xlsx(client, org_a, kcc_a, formula):
    ResponseFactory(organisation=org_a, comment=formula)
    client = logged_in(client, kcc_a)
    assert csv_rows(client.get("/admin/surveys/response/export/csv/"))[1][4] == "'" + formula
    answer = client.get("/admin/surveys/response/export/xlsx/")
    workbook = load_workbook(io.BytesIO(b"".join(answer.streaming_content)))
    cell = workbook.active.cell(row=2, column=5)
    assert cell.value == formula and cell.data_type == "s"  # a text cell: shown as typed, never run


def test_the_xlsx_export(client, org_a, kcc_a):
    ResponseFactory.create_batch(3, organisation=org_a, comment="goed")
    answer = logged_in(client, kcc_a).get("/admin/surveys/response/export/xlsx/")
    assert answer.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(answer.streaming_content)))
    assert workbook.active.max_row == 4
    assert ExportLog.objects.get().rows == 3


def test_the_list_offers_the_export_of_what_it_shows(client, org_a, kcc_a):
    text = logged_in(client, kcc_a).get("/admin/surveys/response/?channel__exact=balie").content.decode()
    assert "/admin/surveys/response/export/csv/?channel__exact=balie" in text


def test_a_wrong_filter_or_format_is_no_export(client, org_a, kcc_a):
    client = logged_in(client, kcc_a)
    assert client.get("/admin/surveys/response/export/pdf/").status_code == 403
    answer = client.get("/admin/surveys/response/export/csv/?score_band=heel-laag")
    assert answer.status_code == 302 and answer.url.endswith("?e=1")
    assert not ExportLog.objects.exists()


def test_the_export_log_shows_only_the_own_organisation(client, org_a, org_b, kcc_a):
    ExportLog.objects.create(organisation=org_b, username="kcc-b", file_format="csv", rows=5)
    ExportLog.objects.create(organisation=org_a, username="kcc-a", file_format="xlsx", rows=3)
    text = logged_in(client, kcc_a).get("/admin/surveys/exportlog/").content.decode()
    assert "kcc-a" in text and "kcc-b" not in text
