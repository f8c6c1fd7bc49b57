"""Retention with a travelling clock: comments erased and raw data deleted after each
organisation's terms, in batches, counted in the admin and the log; the figures stay, also
through a full recount."""

import logging
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from surveys.common.time import AMSTERDAM
from surveys.invitations.contacts import register_contact
from surveys.invitations.models import Contact, Delivery, Invitation, RecipientCooldown
from surveys.invitations.services import expire_invitations
from surveys.organisations.models import Channel
from surveys.responses.models import Answer, Response
from surveys.retention.models import RetentionRun
from surveys.retention.services import apply_retention, cutoffs
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import PeriodKind
from surveys.rollups.recount import rollup_full
from tests.rollups.helpers import figures, respond
from tests.staff import logged_in


def amsterdam(*args) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


@pytest.fixture
def short_terms(organisation):
    organisation.comment_retention_months = 12
    organisation.response_retention_months = 24
    organisation.save()
    return organisation


def test_the_defaults_come_from_the_settings(organisation):
    assert organisation.comment_retention_months == settings.KTO_COMMENT_RETENTION_MONTHS == 24
    assert organisation.response_retention_months == settings.KTO_RESPONSE_RETENTION_MONTHS == 60


def test_retention_runs_daily_by_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "surveys.retention.tasks.apply_retention"
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {30}


def test_cutoffs_count_months_back_in_amsterdam(short_terms):
    comments_before, raw_before = cutoffs(short_terms, amsterdam(2020, 3, 31, 0, 30))
    assert comments_before == amsterdam(2019, 3, 31, 0, 30)
    assert raw_before == date(2018, 3, 1)
    # 31 March less a month's worth of months into a shorter month: its last day.
    short_terms.comment_retention_months = 13
    assert cutoffs(short_terms, amsterdam(2020, 3, 31, 12))[0] == amsterdam(2019, 2, 28, 12)


def submitted_at(moment, organisation, score, comment):
    with time_machine.travel(moment, tick=False):
        return respond(organisation, score, moment, comment=comment, answers={"vraag_beantwoord": 1})


@pytest.mark.django_db
def test_comments_and_raw_data_go_and_the_figures_stay(short_terms, caplog):
    old = submitted_at(amsterdam(2018, 1, 10, 12), short_terms, 9, "Heel goed geholpen aan de balie")
    middle = submitted_at(amsterdam(2019, 1, 10, 12), short_terms, 7, "Het duurde wat lang")
    recent = submitted_at(amsterdam(2019, 12, 10, 12), short_terms, 6, "Kan beter")
    rollup_incremental()
    before = {month: (f.n, f.mean) for month, f in figures(short_terms).items()}
    years_before = {year: (f.n, f.mean) for year, f in figures(short_terms, period=PeriodKind.YEAR).items()}

    with time_machine.travel(amsterdam(2020, 2, 10, 3, 30), tick=False), caplog.at_level(logging.INFO):
        (run,) = apply_retention()

    assert (run.comments_erased, run.responses_deleted) == (1, 1)  # middle's comment; old entirely
    assert not Response.objects.filter(pk=old.pk).exists()
    assert not Answer.objects.filter(response_id=old.pk).exists()
    middle.refresh_from_db()
    recent.refresh_from_db()
    assert (middle.score, middle.comment) == (7, "")  # the score stays, the comment goes
    assert recent.comment == "Kan beter"
    assert "1 comments erased" in caplog.text and "1 responses" in caplog.text

    # The figures of January 2018 stay, also after the pass and after a full recount.
    rollup_incremental()
    assert {month: (f.n, f.mean) for month, f in figures(short_terms).items()} == before
    rollup_full()
    assert {month: (f.n, f.mean) for month, f in figures(short_terms).items()} == before
    assert {year: (f.n, f.mean) for year, f in figures(short_terms, period=PeriodKind.YEAR).items()} == years_before
    assert before[date(2018, 1, 1)] == (1, 9.0)
    short_terms.refresh_from_db()
    assert short_terms.raw_data_kept_from == date(2018, 2, 1)


@pytest.mark.django_db
def test_a_recount_still_recounts_the_months_retention_keeps(short_terms):
    submitted_at(amsterdam(2018, 1, 10, 12), short_terms, 9, "")
    kept = submitted_at(amsterdam(2019, 6, 10, 12), short_terms, 4, "")
    rollup_incremental()
    with time_machine.travel(amsterdam(2020, 2, 10, 3, 30), tick=False):
        apply_retention()
    Response.objects.filter(pk=kept.pk).update(score=8)  # a write that recorded no change
    rollup_full()
    month = figures(short_terms)
    assert month[date(2019, 6, 1)].mean == 8.0  # recounted from the response
    assert month[date(2018, 1, 1)].mean == 9.0  # before the horizon: the rollup is the record


@pytest.mark.django_db
def test_contacts_and_invitations_of_old_months_go_too(short_terms):
    with time_machine.travel(amsterdam(2017, 12, 5, 10), tick=False):
        register_contact(
            organisation=short_terms, channel=Channel.EMAIL, contact_moment=timezone.now(), recipient="a@example.nl"
        )
    with time_machine.travel(amsterdam(2019, 12, 5, 10), tick=False):
        register_contact(
            organisation=short_terms, channel=Channel.EMAIL, contact_moment=timezone.now(), recipient="b@example.nl"
        )
    assert (Contact.objects.count(), Invitation.objects.count()) == (2, 2)
    with time_machine.travel(amsterdam(2020, 1, 2, 3, 30), tick=False):
        (run,) = apply_retention()
    assert (run.contacts_deleted, run.invitations_deleted) == (1, 1)
    assert run.cooldowns_deleted == 1  # b's cooldown of 90 days has not passed yet, a's has
    assert RecipientCooldown.objects.count() == 1
    assert Contact.objects.get().contact_moment.year == 2019
    assert Invitation.objects.get().contact_moment.year == 2019


@pytest.mark.django_db
def test_retention_works_in_batches(short_terms, settings):
    settings.KTO_RETENTION_BATCH = 2
    for day in range(1, 6):
        submitted_at(amsterdam(2017, 3, day, 12), short_terms, 8, f"Opmerking nummer {day}")
    with time_machine.travel(amsterdam(2020, 1, 2), tick=False):
        (run,) = apply_retention()
    assert run.responses_deleted == 5 and not Response.objects.exists()
    assert run.comments_erased == 0  # they went with their responses


@pytest.mark.django_db
def test_each_organisation_has_its_own_terms(short_terms, org_b):
    submitted_at(amsterdam(2017, 6, 10, 12), short_terms, 9, "Prima")
    submitted_at(amsterdam(2017, 6, 10, 12), org_b, 9, "Prima")  # org_b: the defaults, 24 and 60
    with time_machine.travel(amsterdam(2020, 2, 10), tick=False):
        runs = {run.organisation: run for run in apply_retention()}
    assert (runs[short_terms].comments_erased, runs[short_terms].responses_deleted) == (0, 1)
    assert (runs[org_b].comments_erased, runs[org_b].responses_deleted) == (1, 0)
    assert Response.objects.get().organisation == org_b


@pytest.mark.django_db
def test_unanswered_invitations_lose_address_and_token_at_expiry(organisation):
    with time_machine.travel(amsterdam(2020, 1, 2, 10), tick=False):
        register_contact(
            organisation=organisation,
            channel=Channel.EMAIL,
            contact_moment=timezone.now(),
            recipient="jan@example.nl",
            method="email",
        )
        Delivery.objects.update(status=Delivery.Status.PENDING)  # not sent (the gateway never came)
    delivery = Delivery.objects.get()
    assert delivery.recipient and delivery.token
    days = organisation.invitation_valid_days
    with time_machine.travel(amsterdam(2020, 1, 2, 10) + timedelta(days=days, minutes=1), tick=False):
        expire_invitations()
    delivery.refresh_from_db()
    assert (delivery.recipient, delivery.token) == ("", "")
    assert delivery.invitation.status == "expired"


@pytest.mark.django_db
def test_the_admin_shows_what_was_deleted(client, org_a, org_b, kcc_a):
    for organisation in (org_a, org_b):
        submitted_at(amsterdam(2017, 3, 1, 12), organisation, 8, "Opmerking")
    with time_machine.travel(amsterdam(2020, 1, 2), tick=False):
        apply_retention()
    assert RetentionRun.objects.count() == 2
    page = logged_in(client, kcc_a).get("/admin/surveys/retentionrun/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "toelichtingen gewist" in text.lower() and "reacties verwijderd" in text.lower()
    assert org_a.name in text and org_b.name not in text
