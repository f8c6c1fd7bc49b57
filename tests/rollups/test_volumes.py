"""Contact volumes: CSV and XLSX files through the command and the admin; a wrong file is refused
as a whole, with every wrong row listed."""

import io
from datetime import date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from surveys.organisations.models import Channel, Role, StaffMembership
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import ALL_CHANNELS, ContactVolume, PeriodKind, RollupChange
from surveys.rollups.selectors import rollup_figures
from tests.factories import OrganisationFactory

User = get_user_model()


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def utrecht(db):
    return OrganisationFactory(name="Utrecht", slug="utrecht")


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


def volumes():
    return sorted(ContactVolume.objects.values_list("organisation__slug", "channel", "month", "count"))


@pytest.mark.django_db
def test_a_csv_file_is_imported_and_shows_up_in_the_yearly_kerncijfers(tmp_path, organisation, utrecht, capsys):
    path = write(
        tmp_path,
        "volumes.csv",
        "organisation,channel,month,count\n"
        "stichtse-vecht,telefoon,2018-01,6500\n"
        "stichtse-vecht,Telefoon,2018-02,6100\n"
        "utrecht,E-mail,2018-01,1600\n",
    )
    call_command("import_volumes", path)
    assert "Imported 3 volume(s)" in capsys.readouterr().out
    assert volumes() == [
        ("stichtse-vecht", "telefoon", date(2018, 1, 1), 6500),
        ("stichtse-vecht", "telefoon", date(2018, 2, 1), 6100),
        ("utrecht", "email", date(2018, 1, 1), 1600),
    ]
    assert RollupChange.objects.count() == 3
    rollup_incremental()
    [year] = rollup_figures(organisation=organisation, period=PeriodKind.YEAR, channel=Channel.TELEFOON)
    assert (year.contacts_imported, year.contacts, year.n) == (12600, 12600, 0)


@pytest.mark.django_db
def test_an_xlsx_file_with_dutch_headers_and_date_cells_for_one_organisation(tmp_path, organisation):
    path = write(
        tmp_path,
        "telefonie.xlsx",
        xlsx([["Kanaal", "Maand", "Aantal"], ["balie", datetime(2018, 3, 1), 4000], ["balie", "2018-04", 4100.0]]),
    )
    call_command("import_volumes", path, organisation="stichtse-vecht")
    assert volumes() == [
        ("stichtse-vecht", "balie", date(2018, 3, 1), 4000),
        ("stichtse-vecht", "balie", date(2018, 4, 1), 4100),
    ]
    # Importing a month again replaces it.
    path = write(tmp_path, "correctie.csv", "channel;month;count\nbalie;2018-03;3990\n")
    call_command("import_volumes", path, organisation="stichtse-vecht")
    assert ContactVolume.objects.get(month=date(2018, 3, 1)).count == 3990
    assert ContactVolume.objects.get(month=date(2018, 3, 1)).source == "correctie.csv"
    rollup_incremental()  # the rollups take in the difference: 3990, not 4000 + 3990
    march = rollup_figures(organisation=organisation, period=PeriodKind.MONTH, channel=Channel.BALIE)[0]
    assert (march.period_start, march.contacts_imported) == (date(2018, 3, 1), 3990)
    [year] = rollup_figures(organisation=organisation, period=PeriodKind.YEAR, channel=ALL_CHANNELS)
    assert year.contacts_imported == 3990 + 4100


@pytest.mark.django_db
def test_a_file_with_wrong_rows_is_refused_as_a_whole_with_every_wrong_row(tmp_path, organisation, capsys):
    path = write(
        tmp_path,
        "volumes.csv",
        "organisation,channel,month,count\n"
        "stichtse-vecht,telefoon,2018-01,6500\n"
        "stichtse-vecht,fax,2018-01,10\n"
        "stichtse-vecht,balie,2018-13,10\n"
        "onbekend,balie,2018-01,-5\n"
        "stichtse-vecht,telefoon,2018-01,6600\n"
        "stichtse-vecht,email,2018-01,12.5\n",
    )
    with pytest.raises(CommandError, match="5 wrong row"):
        call_command("import_volumes", path)
    errors = capsys.readouterr().err
    assert "Rij 3: onbekend kanaal “fax”" in errors
    assert "Rij 4: maand “2018-13” is geen maand als 2018-03" in errors
    assert "Rij 5: onbekende organisatie “onbekend”; aantal “-5” is geen geheel getal" in errors
    assert "Rij 6: Dezelfde organisatie, kanaal en maand staan ook in rij 2." in errors
    assert "Rij 7: aantal “12.5”" in errors
    assert "Rij 2" not in errors
    assert volumes() == []
    assert not RollupChange.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("volumes.csv", "kanaal,aantal\nbalie,3\n", "Kolom ontbreekt: month"),
        ("volumes.csv", "", "Het bestand is leeg"),
        ("volumes.csv", "channel,month,count\n", "geen gegevens"),
        ("volumes.xlsx", b"not a zip file", "geen geldig Excel-bestand"),
        ("volumes.pdf", b"%PDF", "Kies een CSV- of XLSX-bestand"),
    ],
)
@pytest.mark.django_db
def test_unreadable_files_get_a_clear_message(tmp_path, organisation, capsys, name, content, message):
    with pytest.raises(CommandError):
        call_command("import_volumes", write(tmp_path, name, content), organisation="stichtse-vecht")
    assert message in capsys.readouterr().err
    assert volumes() == []


@pytest.mark.django_db
def test_a_row_for_another_organisation_is_refused_when_the_organisation_is_given(tmp_path, organisation, utrecht):
    path = write(
        tmp_path, "v.xlsx", xlsx([["organisation", "channel", "month", "count"], ["utrecht", "balie", "2018-01", 5]])
    )
    with pytest.raises(CommandError):
        call_command("import_volumes", path, organisation="stichtse-vecht")
    assert volumes() == []


@pytest.mark.django_db
def test_unknown_organisation_option_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="Unknown organisation"):
        call_command("import_volumes", write(tmp_path, "v.csv", "channel,month,count\n"), organisation="nergens")


# --- the admin ----------------------------------------------------------------------------------


def staff(organisation, role):
    user = User.objects.create_user(username=f"{organisation.slug}-{role}", password="x", is_staff=True)
    StaffMembership.objects.create(user=user, organisation=organisation, role=role)
    return user


IMPORT_URL = "/admin/surveys/contactvolume/import/"


@pytest.mark.django_db
def test_a_beheerder_imports_for_their_own_organisation_through_the_admin(client, organisation, utrecht):
    client.force_login(staff(organisation, Role.BEHEERDER))
    assert "Importeren uit CSV of XLSX" in client.get("/admin/surveys/contactvolume/").content.decode()
    upload = SimpleUploadedFile("telefonie.csv", b"channel,month,count\ntelefoon,2018-05,6400\n")
    answer = client.post(IMPORT_URL, {"file": upload}, follow=True)
    assert "1 contactvolumes geïmporteerd" in answer.content.decode()
    assert volumes() == [("stichtse-vecht", "telefoon", date(2018, 5, 1), 6400)]
    # A row of another organisation is refused, and nothing of the file is imported.
    upload = SimpleUploadedFile(
        "v.csv", b"organisation,channel,month,count\nstichtse-vecht,balie,2018-05,1\nutrecht,balie,2018-05,9\n"
    )
    answer = client.post(IMPORT_URL, {"file": upload})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "v.csv is niet geïmporteerd" in page
    assert "Rij 3: organisatie “utrecht” is niet stichtse-vecht" in page
    assert len(volumes()) == 1


@pytest.mark.django_db
def test_a_kcc_employee_cannot_import(client, organisation):
    client.force_login(staff(organisation, Role.KCC))
    assert client.get(IMPORT_URL).status_code == 403
    upload = SimpleUploadedFile("v.csv", b"channel,month,count\nbalie,2018-05,1\n")
    assert client.post(IMPORT_URL, {"file": upload}).status_code == 403
    assert volumes() == []


@pytest.mark.django_db
def test_a_superuser_imports_a_file_with_an_organisation_column(client, organisation, utrecht):
    client.force_login(User.objects.create_superuser(username="root", password="x"))
    upload = SimpleUploadedFile(
        "v.xlsx", xlsx([["organisatie", "kanaal", "maand", "aantal"], ["utrecht", "whatsapp", "2018-01", 950]])
    )
    answer = client.post(IMPORT_URL, {"file": upload, "organisation": ""})
    assert answer.status_code == 302
    assert volumes() == [("utrecht", "whatsapp", date(2018, 1, 1), 950)]
    answer = client.post(IMPORT_URL, {"file": SimpleUploadedFile("v.txt", b"x")})
    assert answer.status_code == 200 and "errorlist" in answer.content.decode()
