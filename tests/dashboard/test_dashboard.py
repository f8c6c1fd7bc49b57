"""The staff dashboard on the demo data: the seeds' figures on screen, as the seeds print them;
only the user's own organisation; read from the rollups only; bad periods answered clearly."""

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from surveys.organisations.models import Organisation
from surveys.rollups.models import PeriodKind, ScoreRollup
from surveys.rollups.recount import rollup_full
from tests.demo.test_seed import run_seed
from tests.staff import staff_user


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts, by the id of its section's heading."""

    def __init__(self):
        super().__init__()
        self.tables, self.heading, self.in_heading, self.cell = {}, None, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2":
            self.heading, self.in_heading = attrs.get("id"), True
        elif tag == "table":
            self.tables.setdefault(self.heading, []).append([])
        elif tag == "tr" and self.heading in self.tables:
            self.tables[self.heading][-1].append([])
        elif tag in ("td", "th") and self.heading in self.tables:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "h2":
            self.in_heading = False
        elif tag in ("td", "th") and self.cell is not None:
            self.tables[self.heading][-1][-1].append(" ".join(self.cell.split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def tables(page) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(page.content.decode())
    return {heading: found[0] for heading, found in parser.tables.items()}


def rows_by_label(table) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table if row}


def score(cell: str) -> str:
    """The rapportcijfer in a cell such as "8,7 ▲ significant hoger (n=3.000)"."""
    return re.match(r"[\d,.–]+", cell).group()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        run_seed()
        rollup_full()  # in the embedded default the seed's commits roll up; here nothing commits
        yield
        transaction.set_rollback(True)


@pytest.fixture
def kcc(demo, db):
    def login(client, slug):
        user = staff_user(f"kcc-test-{slug}", Organisation.objects.get(slug=slug))
        client.force_login(user)
        return client

    return login


def test_stichtse_vecht_2018_as_the_press_release_has_it(client, kcc):
    page = kcc(client, "stichtse-vecht").get("/admin/?year=2018")
    assert page.status_code == 200
    scores = rows_by_label(tables(page)["scores-heading"])
    # column 4 is 2018, column 5 is 2017 (columns 1-3: the latest month, a year before it, its response rate)
    assert score(scores["Alle kanalen"][3]) == "8,3"
    expected = {
        "Balie": ("8,7", "8,5"),
        "Telefoon": ("8,3", "8,0"),
        "E-mail": ("7,2", "7,1"),
        "Sociale media": ("7,4", "6,8"),
        "Website": ("6,0", "6,0"),
    }
    for channel, (this_year, last_year) in expected.items():
        assert (score(scores[channel][3]), scores[channel][4]) == (this_year, last_year), channel
    assert "n=3.000" in scores["Balie"][3]
    volumes = rows_by_label(tables(page)["volumes-heading"])
    assert volumes["Telefoon"][-2:] == ["77.500", "74.000 (−5%)"]
    assert volumes["Balie"][-1] == "48.000 (+7%)"
    assert volumes["Website"][-1] == "538.000 (+1%)"
    assert volumes["E-mail"][-1] == "15.000 (−11%)"
    assert volumes["online formulieren via de website"][-1] == "26.000"
    assert volumes["niet verschenen op een afspraak"][-1] == "2.500"
    assert volumes["niet verschenen op een afspraak (%)"][-1] == "13%"


def test_utrecht_2018_waardering_and_kerncijfers(client, kcc):
    page = kcc(client, "utrecht").get("/admin/?year=2018")
    scores = rows_by_label(tables(page)["scores-heading"])
    for channel, (this_year, last_year) in {
        "Balie": ("7,8", "7,8"),
        "Website": ("7,6", "7,5"),
        "Telefoon": ("7,7", "8,0"),
        "E-mail": ("5,9", "6,1"),
    }.items():
        assert (score(scores[channel][3]), scores[channel][4]) == (this_year, last_year), channel
    volumes = rows_by_label(tables(page)["volumes-heading"])
    assert volumes["Website"] == ["211.105", "223.449 (+6%)", "233.453 (+4%)", "260.704 (+12%)"]
    assert volumes["E-mail"] == ["32.347", "20.578 (−36%)", "19.287 (−6%)", "18.671 (−3%)"]
    assert volumes["Telefoon"] == ["400.354", "337.029 (−16%)", "334.911 (−1%)", "314.803 (−6%)"]
    assert volumes["Balie"] == ["257.981", "274.268 (+6%)", "291.215 (+6%)", "294.794 (+1%)"]
    assert volumes["WhatsApp"] == ["1.849", "11.189 (+505%)", "11.342 (+1%)", "11.523 (+2%)"]
    # The Utrecht Monitor's other kerncijfers, every cell ("–" where it has "-").
    assert volumes["waarvan meldingen openbare ruimte"] == ["–", "–", "57.844", "78.624 (+36%)"]
    assert volumes["waarvan via 14 030"] == ["–", "98.185", "164.862 (+68%)", "189.857 (+15%)"]
    assert volumes["telefonische bereikbaarheid Klantcontactcentrum (%)"] == ["81%", "91%", "90%", "90%"]
    assert list(volumes)[1:] == [
        "Balie",
        "Telefoon",
        "waarvan via 14 030",
        "telefonische bereikbaarheid Klantcontactcentrum (%)",
        "E-mail",
        "WhatsApp",
        "Website",
        "waarvan meldingen openbare ruimte",
    ]


LATEST = re.compile(r"Rapportcijfers (\w+) (\d{4}) en (\d{4})")


def latest_year() -> int:
    return ScoreRollup.objects.filter(period=PeriodKind.YEAR).latest("period_start").period_start.year


def test_the_latest_year_with_figures_is_the_default(client, kcc):
    text = kcc(client, "utrecht").get("/admin/").content.decode()
    assert int(LATEST.search(text).group(3)) == latest_year()  # the seed's example response is of today
    assert '<option value="2018">2018</option>' in text


def test_a_month_can_be_chosen(client, kcc):
    page = kcc(client, "stichtse-vecht").get("/admin/?year=2017&month=3")
    text = page.content.decode()
    assert "Rapportcijfers maart 2017 en 2017" in text
    assert "Verloop per maand" in text


def test_staff_see_only_their_own_organisation(client, kcc):
    page = kcc(client, "utrecht").get("/admin/?organisation=stichtse-vecht&year=2018")
    text = page.content.decode()
    assert "Dashboard Gemeente Utrecht" in text and "Stichtse Vecht" not in text
    assert 'name="organisation"' not in text  # no organisation to choose


def test_a_superuser_picks_an_organisation(client, demo, db, superuser):
    client.force_login(superuser)
    page = client.get("/admin/?organisation=stichtse-vecht&year=2018")
    text = page.content.decode()
    assert "Dashboard Gemeente Stichtse Vecht" in text
    assert '<option value="utrecht">Gemeente Utrecht</option>' in text


@pytest.mark.parametrize("query", ["year=abc", "year=1990", "month=13", "month=x"])
def test_a_bad_period_is_answered_with_a_message(client, kcc, query):
    page = kcc(client, "utrecht").get(f"/admin/?{query}")
    assert page.status_code == 200
    assert "Deze periode bestaat niet" in page.content.decode()
    assert int(LATEST.search(page.content.decode()).group(3)) == latest_year()


def test_staff_without_an_organisation_get_an_explanation(client, db):
    client.force_login(staff_user("nobody"))
    assert "U hoort nog bij geen organisatie" in client.get("/admin/").content.decode()


@pytest.mark.parametrize("slug", ["stichtse-vecht", "utrecht"])
def test_the_dashboard_reads_rollups_only_in_a_fixed_number_of_queries(client, kcc, slug):
    client = kcc(client, slug)
    client.get("/admin/?year=2018")  # the session and permissions, once
    for query in ("year=2018", "year=2017&month=5"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/admin/?{query}").status_code == 200
        tables_read = " ".join(query["sql"] for query in queries.captured_queries)
        assert "surveys_response" not in tables_read and "surveys_answer" not in tables_read
        assert len(queries) <= 24, [q["sql"][:80] for q in queries.captured_queries]


def test_the_charts_are_svg_with_a_title_a_description_and_a_table(client, kcc):
    text = kcc(client, "stichtse-vecht").get("/admin/?year=2018").content.decode()
    assert text.count('role="img"') == 2
    assert '<title id="trend-title">Rapportcijfer per maand, jan 17 tot en met dec 18</title>' in text
    assert re.search(r'<desc id="trend-desc">[^<]*Balie van [\d,]+ tot [\d,]+, laatst [\d,]+', text)
    assert "De cijfers van de grafiek als tabel" in text
    assert "http" not in re.sub(r'xmlns(:xlink)?="http[^"]+"', "", text.split('role="img"')[1].split("</svg>")[0])


def test_the_dashboard_in_english(client, kcc):
    client = kcc(client, "stichtse-vecht")
    client.cookies["django_language"] = "en"
    text = client.get("/admin/?year=2018").content.decode()
    assert "All channels" in text
    assert "8.3" in text and "Counter" in text


def test_the_list_of_models_moved_to_beheer(client, kcc):
    page = kcc(client, "utrecht").get("/admin/beheer/")
    assert page.status_code == 200
    assert "Reacties" in page.content.decode()


def test_the_dashboards_figures_as_xlsx(client, kcc):
    import io

    from openpyxl import load_workbook

    answer = kcc(client, "stichtse-vecht").get("/admin/?year=2018&format=xlsx")
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="kto-stichtse-vecht-2018-12.xlsx"'
    workbook = load_workbook(io.BytesIO(answer.content))
    assert workbook.sheetnames == ["Rapportcijfers", "Verloop per maand", "Verdeling 2018", "Kerncijfers"]
    header, *rows = workbook["Rapportcijfers"].iter_rows(values_only=True)
    period = ("cijfer", "n", "een jaar eerder", "significant", "indicatief", "respons")
    assert header == ("Kanaal", "Maand", *period, "Jaar", *period)
    scores = {row[0]: row for row in rows}
    assert scores["Balie"][1] == "2018-12" and scores["Balie"][3] > 0  # the month's n
    assert round(scores["Balie"][9], 1) == 8.7 and round(scores["Balie"][11], 1) == 8.5
    assert scores["Balie"][10] == 3000
    volumes = {row[0]: row for row in workbook["Kerncijfers"].iter_rows(min_row=2, values_only=True)}
    assert volumes["Telefoon"][-2:] == (77_500, 74_000)
    assert len(list(workbook["Verloop per maand"].iter_rows(min_row=2))) == 24


def test_the_response_rate_of_the_month_and_the_year(client, db):
    """Of 4 invitations sent in March 2018 one was answered (25%); in April one of 2 (50%): the
    dashboard of April shows 50% for the month and 33% for the year, on screen and in its XLSX."""
    import io

    from openpyxl import load_workbook

    from surveys.common.time import AMSTERDAM
    from surveys.invitations.services import create_invitation
    from surveys.organisations.models import Channel
    from surveys.responses.models import Source
    from surveys.responses.services import submit_response
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory(name="Gemeente Respons", slug="respons")
    for month, sent in ((3, 4), (4, 2)):
        moment = datetime(2018, month, 10, 12, tzinfo=AMSTERDAM)
        invitations = [
            create_invitation(organisation=organisation, channel=Channel.TELEFOON, contact_moment=moment)[0]
            for _ in range(sent)
        ]
        submit_response(
            organisation=organisation,
            channel=Channel.TELEFOON,
            score=7,
            source=Source.INVITATION,
            invitation=invitations[0],
            contact_moment=moment,
        )
    rollup_full()
    client.force_login(staff_user("kcc-rate", organisation))
    page = client.get("/admin/?year=2018&month=4")
    scores = tables(page)["scores-heading"]
    assert scores[0] == [
        "Kanaal",
        "april 2018",
        "een jaar eerder",
        "respons april 2018",
        "2018",
        "2017",
        "reacties 2018",
        "respons 2018",
    ]
    assert rows_by_label(scores)["Telefoon"][2] == "50%" and rows_by_label(scores)["Telefoon"][6] == "33%"
    workbook = load_workbook(io.BytesIO(client.get("/admin/?year=2018&month=4&format=xlsx").content))
    telefoon = {row[0]: row for row in workbook["Rapportcijfers"].iter_rows(min_row=2, values_only=True)}["Telefoon"]
    assert (telefoon[7], round(telefoon[14], 4)) == (0.5, 0.3333)  # the month's and the year's "respons"
