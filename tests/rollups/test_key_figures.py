"""The municipality's own kerncijfers in the admin: a KTO-beheerder adds and edits them with their
values, a KCC-medewerker only reads them, nobody sees another organisation's, and wrong values are
refused with a message."""

from datetime import date
from decimal import Decimal

import pytest

from surveys.organisations.models import Channel
from surveys.rollups.models import FigureKind, KeyFigure, KeyFigureValue
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
