"""seed_demo: the demo municipalities reproduce the published rapportcijfers of the seed reports."""

import random
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Avg, Count, F, StdDev, Sum
from django.db.models.functions import ExtractYear
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from surveys.common.formatting import format_count, format_score
from surveys.common.time import AMSTERDAM
from surveys.demo import comments, figures, generate, seed
from surveys.organisations.models import Channel, Organisation, Role
from surveys.responses.models import Answer, Response, Source
from surveys.rollups.models import ALL_CHANNELS, ContactVolume, PeriodKind, RollupChange
from surveys.rollups.recount import rollup_full
from surveys.rollups.selectors import rollup_figures
from tests.rollups.helpers import figures as year_figures


def one_decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def run_seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-progress", "--allow-without-debug", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seed_output(django_db_setup, django_db_blocker):
    """One full-size seed for the whole module, rolled back afterwards so other modules start clean
    (each test runs in a savepoint inside this transaction)."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = run_seed()
        # Check the deferred foreign keys once here; otherwise every test's teardown re-checks them.
        connection.check_constraints()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seed_output, db):
    return seed_output


def yearly_means(**filters) -> dict[tuple[str, str, int], dict]:
    rows = (
        Response.objects.filter(**filters)
        .annotate(year=ExtractYear("contact_month"))
        .values("organisation__slug", "channel", "year")
        .annotate(mean=Avg("score"), n=Count("id"), sd=StdDev("score"))
    )
    return {(r["organisation__slug"], r["channel"], r["year"]): r for r in rows}


@pytest.mark.parametrize(("slug", "channel", "year"), sorted(figures.PUBLISHED_SCORES))
def test_yearly_mean_per_channel_rounds_to_the_published_rapportcijfer(seeded, slug, channel, year):
    figure = yearly_means()[(slug, channel, year)]
    published = figures.PUBLISHED_SCORES[(slug, channel, year)]
    assert one_decimal(figure["mean"]) == published
    assert abs(Decimal(str(figure["mean"])) - published) <= Decimal("0.02")


def test_unpublished_channels_get_the_chosen_plausible_means(seeded):
    means = yearly_means()
    for key, chosen in figures.CHOSEN_SCORES.items():
        assert one_decimal(means[key]["mean"]) == chosen, key


def test_stichtse_vecht_all_channels_2018_is_the_published_8_3(seeded):
    mean = Response.objects.filter(organisation__slug="stichtse-vecht", contact_month__year=2018).aggregate(
        mean=Avg("score")
    )["mean"]
    assert one_decimal(mean) == Decimal("8.3")


def test_scores_are_spread_realistically(seeded):
    for key, figure in yearly_means(contact_month__year__in=figures.YEARS).items():
        assert 1.0 <= figure["sd"] <= 2.3, key
    counts = dict(
        Response.objects.filter(organisation__slug="utrecht", channel=Channel.EMAIL, contact_month__year=2018)
        .values_list("score")
        .annotate(n=Count("id"))
    )
    assert set(counts) == set(range(1, 11))


def test_every_month_has_responses_with_some_variation_and_chat_starts_in_may_2018(seeded):
    monthly = dict(
        Response.objects.filter(organisation__slug="stichtse-vecht", channel=Channel.TELEFOON)
        .values_list("contact_month")
        .annotate(mean=Avg("score"))
    )
    assert len(monthly) == 24
    assert max(monthly.values()) - min(monthly.values()) > 0.1
    chat_months = set(
        Response.objects.filter(organisation__slug="stichtse-vecht", channel=Channel.CHAT).values_list(
            "contact_month__year", "contact_month__month"
        )
    )
    assert chat_months == {(2018, month) for month in range(5, 13)}


def test_counter_and_phone_contacts_fall_on_working_days_during_office_hours(seeded):
    moments = Response.objects.filter(
        channel__in=[Channel.BALIE, Channel.TELEFOON], contact_month__year__in=figures.YEARS
    ).values_list("contact_moment", flat=True)
    for moment in moments[:3000]:
        local = moment.astimezone(AMSTERDAM)
        assert local.weekday() < 5
        assert (8, 30) <= (local.hour, local.minute) < (17, 0)
        assert local.date() not in figures.HOLIDAYS


def test_responses_look_like_what_residents_submit(seeded):
    responses = Response.objects.filter(contact_month__year__in=figures.YEARS)
    assert set(responses.values_list("source", flat=True).distinct()) == {
        Source.INVITATION,
        Source.ONE_CLICK,
        Source.OPEN,
    }
    languages = dict(responses.values_list("language").annotate(n=Count("id")))
    assert languages["nl"] > 10 * languages["en"] > 0
    assert not responses.filter(is_complete=False).exists()
    commented = responses.exclude(comment="").count()
    assert 0.1 < commented / responses.count() < 0.4
    # Each response was written against its channel's survey version.
    assert not responses.exclude(survey_version__survey__channel=F("channel")).exists()


def test_answers_to_the_extra_questions_follow_the_score(seeded):
    def share_answered(**score):
        answers = Answer.objects.filter(question__key="vraag_beantwoord", **score)
        return answers.filter(value=1).count() / answers.count()

    assert share_answered(response__score__gte=8) > 0.85
    assert share_answered(response__score__lte=5) < 0.5
    friendliness = Answer.objects.filter(question__key="vriendelijkheid")
    assert set(friendliness.values_list("value", flat=True).distinct()) <= set(range(1, 6))
    high = friendliness.filter(response__score__gte=9).aggregate(m=Avg("value"))["m"]
    low = friendliness.filter(response__score__lte=4).aggregate(m=Avg("value"))["m"]
    assert high > low + 1.5


PHONE = re.compile(r"06-\d{8}|\+31 6 \d{4} \d{4}|0346 \d{3} \d{3}")
EMAIL = re.compile(r"[\w.]+@[\w-]+\.\w+")


def test_comments_with_phone_numbers_and_email_addresses_arrive_masked(seeded):
    stored = list(Response.objects.exclude(comment="").values_list("comment", flat=True))
    assert not [c for c in stored if PHONE.search(c) or EMAIL.search(c)]
    assert any("terugbellen op [" in c for c in stored)


def test_the_generator_writes_personal_data_that_needs_masking():
    # The other half of the masking test: without masking these comments would hold the numbers.
    rng = random.Random(1)
    written = [comments.make_comment(rng, channel=Channel.TELEFOON, score=4, language="nl") for _ in range(500)]
    assert any(PHONE.search(c) for c in written)
    assert any(EMAIL.search(c) for c in written)


def test_running_seed_demo_twice_adds_no_responses_and_prints_the_same_logins(seeded):
    before = Response.objects.count()
    users = get_user_model().objects.count()
    again = run_seed()
    assert Response.objects.count() == before
    assert get_user_model().objects.count() == users
    for username in ("admin", "kcc-stichtse-vecht", "kcc-utrecht"):
        assert username in again


def test_the_output_shows_the_staff_logins_with_the_demo_password(seeded):
    assert "kcc-stichtse-vecht" in seeded
    assert "kcc-utrecht" in seeded
    assert seed.DEMO_PASSWORD in seeded
    assert "DEMO ONLY" in seeded


def test_the_printed_kcc_login_opens_the_responses_in_the_admin(seeded, client):
    login = client.post("/admin/login/", {"username": "kcc-utrecht", "password": seed.DEMO_PASSWORD})
    assert login.status_code == 302
    page = client.get("/admin/surveys/response/")
    assert page.status_code == 200


def test_kcc_logins_are_staff_of_their_own_municipality_only(seeded):
    users = get_user_model().objects
    for slug in ("stichtse-vecht", "utrecht"):
        user = users.get(username=f"kcc-{slug}")
        assert user.is_staff and not user.is_superuser
        assert user.kto_membership.organisation.slug == slug
        assert user.kto_membership.role == Role.KCC
        assert user.groups.filter(name=seed.KCC_GROUP).exists()
        assert user.has_perm("surveys.view_response")
        assert not user.has_perm("surveys.change_response")
    assert users.get(username="admin").is_superuser


def test_the_printed_invitation_link_opens_the_form(seeded, client):
    links = re.findall(r"invitation form:\s+(\S+)", seeded)
    assert len(links) == 2
    page = client.get(urlsplit(links[0]).path)
    assert page.status_code == 200
    assert "rapportcijfer" in page.content.decode().lower()


def test_the_printed_one_click_link_stores_the_score(seeded, client):
    link = re.search(r"one-click \(score 8\):\s+(\S+)", seeded).group(1)
    before = Response.objects.count()
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert Response.objects.count() == before + 1


def test_every_seeded_month_is_recorded_for_the_rollups(seeded):
    for slug in ("stichtse-vecht", "utrecht"):
        changes = RollupChange.objects.filter(organisation__slug=slug, month__year__in=figures.YEARS)
        assert changes.values("month").distinct().count() == 24


def test_both_municipalities_have_their_channels(seeded):
    for entry in figures.ORGANISATIONS:
        organisation = Organisation.objects.get(slug=entry.slug)
        assert organisation.name == entry.name
        assert set(organisation.enabled_channels()) == set(entry.channels)


def test_seed_demo_refuses_to_run_without_debug(seeded):
    before = Response.objects.count()
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", "--no-progress", stdout=StringIO())
    assert Response.objects.count() == before


# --- the generator's arithmetic, without the database -----------------------------------------------


@given(
    scores=st.lists(st.integers(1, 10), min_size=figures.MIN_BLOCK_RESPONSES, max_size=400),
    target=st.decimals(min_value=Decimal("1.5"), max_value=Decimal("9.5"), places=1),
    seed=st.integers(0, 1000),
)
def test_adjusting_scores_hits_the_target_to_one_decimal(scores, target, seed):
    adjusted = generate.adjust_to_mean(list(scores), target, random.Random(seed))
    mean = Decimal(sum(adjusted)) / len(adjusted)
    assert one_decimal(mean) == target
    assert abs(mean - target) <= Decimal("0.02")
    assert all(1 <= s <= 10 for s in adjusted)
    assert all(abs(a - b) <= 9 for a, b in zip(adjusted, scores, strict=True))


@given(total=st.integers(0, 50_000), channel=st.sampled_from(Channel.values), year=st.sampled_from(figures.YEARS))
def test_monthly_split_adds_up_to_the_yearly_total(total, channel, year):
    parts = generate.monthly_split(total, slug="stichtse-vecht", channel=channel, year=year)
    assert sum(parts.values()) == (total if parts else 0)
    assert all(n >= 0 for n in parts.values())


def test_response_counts_follow_the_published_volumes_from_2017_to_2018():
    # Stichtse Vecht: 45.000 counter visitors in 2017, 48.000 in 2018.
    assert generate.response_count("stichtse-vecht", Channel.BALIE, 2017) == round(3000 * 45 / 48)
    assert generate.response_count("stichtse-vecht", Channel.WHATSAPP, 2018) == 0
    assert generate.response_count("stichtse-vecht", Channel.CHAT, 2017) == 0


def test_published_contact_volumes_are_stored_per_month_and_add_up_to_the_kerncijfers(seeded):
    yearly = {
        (r["organisation__slug"], r["channel"], r["month__year"]): r["total"]
        for r in ContactVolume.objects.values("organisation__slug", "channel", "month__year").annotate(
            total=Sum("count")
        )
    }
    assert yearly == figures.VOLUMES
    assert yearly[("stichtse-vecht", Channel.TELEFOON, 2018)] == 74_000
    chat_months = ContactVolume.objects.filter(organisation__slug="stichtse-vecht", channel=Channel.CHAT)
    assert sorted(chat_months.values_list("month__month", flat=True)) == list(range(5, 13))


# --- the figures on the rollups ------------------------------------------------------------------


def test_the_recounted_figures_are_the_published_rapportcijfers_and_kerncijfers(seeded):
    rollup_full()
    for slug in ("stichtse-vecht", "utrecht"):
        organisation = Organisation.objects.get(slug=slug)
        with translation.override("nl"):
            by_channel = {
                f.channel: f
                for f in rollup_figures(organisation=organisation, period=PeriodKind.YEAR, date_from=date(2018, 1, 1))
                if f.period_start == date(2018, 1, 1)
            }
            for (org_slug, channel, year), published in figures.PUBLISHED_SCORES.items():
                if org_slug != slug:
                    continue
                figure = by_channel[channel] if year == 2018 else by_channel[channel].previous
                assert figure is not None, (slug, channel, year)
                assert figure.period_start == date(year, 1, 1)
                assert format_score(figure.mean) == f"{published}".replace(".", ","), (slug, channel, year)
    stichtse_vecht = Organisation.objects.get(slug="stichtse-vecht")
    overall = year_figures(stichtse_vecht, PeriodKind.YEAR, ALL_CHANNELS)[date(2018, 1, 1)]
    with translation.override("nl"):
        assert format_score(overall.mean) == "8,3"
        # The kerncijfers: 74.000 calls in 2018, 77.500 in 2017.
        phone = year_figures(stichtse_vecht, PeriodKind.YEAR, Channel.TELEFOON)[date(2018, 1, 1)]
        assert format_count(phone.contacts) == "74.000"
        assert format_count(phone.previous.contacts) == "77.500"
