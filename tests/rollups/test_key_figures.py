"""The municipality's own kerncijfers in the admin: a KTO-beheerder adds and edits them with their
values, a KCC-medewerker only reads them, nobody sees another organisation's, and wrong values are
refused with a message."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from surveys.organisations.models import Channel
from surveys.rollups.models import ContactVolume, FigureKind, KeyFigure, KeyFigureValue
from tests.rollups.test_volumes import write
from tests.staff import logged_in

ADD = "/admin/surveys/keyfigure/add/"


def post_data(*, name="waarvan via 14 030", kind=FigureKind.COUNT, period="year", values=()):
    data = {
        "name": name,
        "name_en": "",
        "kind": kind,
        "period": period,
        "channel": Channel.TELEFOON,
        "order": "1",
        "values-TOTAL_FORMS": str(len(values)),
        "values-INITIAL_FORMS": "0",
        "values-MIN_NUM_FORMS": "0",
        "values-MAX_NUM_FORMS": "1000",
    }
    for index, (start, value) in enumerate(values):
        data |= {f"values-{index}-period_start": start, f"values-{index}-value": value, f"values-{index}-source": ""}
    return data


@pytest.mark.django_db
def test_a_beheerder_adds_a_kerncijfer_with_its_values(client, beheerder_a, org_a):
    answer = logged_in(client, beheerder_a).post(
        ADD, post_data(values=[("2017-01-01", "164862"), ("2018-01-01", "189857")])
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    figure = KeyFigure.objects.get()
    assert figure.organisation == org_a
    assert [(v.period_start, v.value) for v in figure.values.all()] == [
        (date(2017, 1, 1), Decimal("164862")),
        (date(2018, 1, 1), Decimal("189857")),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "start", "value", "message"),
    [
        (FigureKind.PERCENTAGE, "2018-01-01", "120", "Een percentage ligt tussen 0 en 100."),
        (FigureKind.COUNT, "2018-03-01", "12", "Dit kerncijfer is per jaar: kies 1 januari."),
        (FigureKind.COUNT, "2018-01-01", "12.5", "Een aantal is een geheel getal."),
    ],
)
def test_wrong_values_are_refused_with_a_message(client, beheerder_a, kind, start, value, message):
    answer = logged_in(client, beheerder_a).post(ADD, post_data(kind=kind, values=[(start, value)]))
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert not KeyFigure.objects.exists()


@pytest.mark.django_db
def test_kcc_staff_read_but_do_not_change(client, kcc_a, org_a):
    figure = KeyFigure.objects.create(organisation=org_a, name="online formulieren", channel=Channel.WEBSITE)
    KeyFigureValue.objects.create(key_figure=figure, period_start=date(2018, 1, 1), value=26000)
    client = logged_in(client, kcc_a)
    assert client.get("/admin/surveys/keyfigure/").status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(f"/admin/surveys/keyfigure/{figure.pk}/change/", post_data()).status_code == 403


@pytest.mark.django_db
def test_nobody_sees_another_organisations_kerncijfers(client, kcc_a, org_b):
    KeyFigure.objects.create(organisation=org_b, name="waarvan via 14 030")
    page = logged_in(client, kcc_a).get("/admin/surveys/keyfigure/")
    assert "waarvan via 14 030" not in page.content.decode()


# --- imported with the contact volumes, all or nothing ---------------------------------------------


@pytest.fixture
def utrecht_figures(org_a):
    return {
        "calls": KeyFigure.objects.create(organisation=org_a, name="waarvan via 14 030", channel=Channel.TELEFOON),
        "reach": KeyFigure.objects.create(
            organisation=org_a, name="telefonische bereikbaarheid (%)", kind=FigureKind.PERCENTAGE
        ),
        "forms": KeyFigure.objects.create(organisation=org_a, name="e-formulieren", period="month"),
    }


def values():
    return sorted(KeyFigureValue.objects.values_list("key_figure__name", "period_start", "value"))


@pytest.mark.django_db
def test_a_file_with_volumes_and_kerncijfers_imports_both(tmp_path, org_a, utrecht_figures, capsys):
    path = write(
        tmp_path,
        "kerncijfers.csv",
        "channel;month;count;kerncijfer\n"
        "telefoon;2018-01;26000;\n"
        ";2018;189857;Waarvan via 14 030\n"
        ";2018;90,5;telefonische bereikbaarheid (%)\n"
        ";2018-03;2100;e-formulieren\n",
    )
    call_command("import_volumes", path, organisation=org_a.slug)
    assert "Imported 1 volume(s)" in capsys.readouterr().out
    assert ContactVolume.objects.get().count == 26000
    assert values() == [
        ("e-formulieren", date(2018, 3, 1), Decimal("2100.00")),
        ("telefonische bereikbaarheid (%)", date(2018, 1, 1), Decimal("90.50")),
        ("waarvan via 14 030", date(2018, 1, 1), Decimal("189857.00")),
    ]
    # The same file again replaces, it does not add.
    call_command("import_volumes", path, organisation=org_a.slug)
    assert KeyFigureValue.objects.count() == 3


@pytest.mark.django_db
def test_a_file_of_only_kerncijfers_needs_no_channel(tmp_path, org_a, utrecht_figures):
    path = write(tmp_path, "k.csv", "kerncijfer,periode,waarde\nwaarvan via 14 030,2017,164862\n")
    call_command("import_volumes", path, organisation=org_a.slug)
    assert values() == [("waarvan via 14 030", date(2017, 1, 1), Decimal("164862.00"))]


@pytest.mark.django_db
def test_a_wrong_kerncijfer_row_refuses_the_whole_file(tmp_path, org_a, utrecht_figures, capsys):
    path = write(
        tmp_path,
        "k.csv",
        "channel,month,count,kerncijfer\n"
        "telefoon,2018-01,26000,\n"
        ",2018,1,bestaat niet\n"
        ",2018,120,telefonische bereikbaarheid (%)\n"
        ",2018-03,5,waarvan via 14 030\n"
        ",2018,12.5,waarvan via 14 030\n"
        ",2018,5,waarvan via 14 030\n"
        ",2018,6,waarvan via 14 030\n",
    )
    with pytest.raises(CommandError, match="5 wrong row"):
        call_command("import_volumes", path, organisation=org_a.slug)
    errors = capsys.readouterr().err
    assert "Rij 3: onbekend kerncijfer “bestaat niet” (maak het eerst aan onder Kerncijfers)" in errors
    assert "Rij 4: waarde “120” is geen percentage van 0 tot en met 100" in errors
    assert "Rij 5: periode “2018-03” is geen jaar als 2018" in errors
    assert "Rij 6: waarde “12.5” is geen geheel aantal" in errors
    assert "Rij 8: Hetzelfde kerncijfer en dezelfde periode staan ook in rij 7." in errors
    assert not ContactVolume.objects.exists() and not KeyFigureValue.objects.exists()


@pytest.mark.django_db
def test_the_admin_import_takes_kerncijfers_too(client, beheerder_a, org_a, utrecht_figures, tmp_path):
    upload = SimpleUploadedFile("k.csv", b"kerncijfer,month,count\nwaarvan via 14 030,2018,189857\n")
    page = logged_in(client, beheerder_a).post("/admin/surveys/contactvolume/import/", {"file": upload}, follow=True)
    assert "0 contactvolumes geïmporteerd (0 nieuw, 0 vervangen) en 1 waarden van kerncijfers" in page.content.decode()
    assert values() == [("waarvan via 14 030", date(2018, 1, 1), Decimal("189857.00"))]
