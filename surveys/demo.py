"""Demo data: the two municipalities of the 2018 seed reports (Stichtse Vecht and Utrecht) with
deterministic synthetic responses for 2017 and 2018 whose yearly mean per channel reproduces the
published rapportcijfers to one decimal. ``manage.py seed_demo`` is a thin wrapper around
:func:`seed_demo`.

How the figures come out exactly: per (organisation, channel, year) the scores are drawn from a
skewed distribution around a month-specific mean (small seasonal wobble), then a few scores are
moved up or down by one point until the sum equals round(target * n), so the yearly mean lies
within 0.5/n of the target and rounds to it unambiguously.

Running it again adds no responses, users or volumes (existing blocks are skipped, existing users
keep their password); only the two example invitations whose links are printed are new each run,
because a token is stored as a hash and an old link cannot be shown again.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import rollups, services
from .links import invitation_url, one_click_urls
from .masking import mask_personal_data
from .models import (
    Answer,
    Channel,
    Invitation,
    InvitationStatus,
    Organisation,
    OrganisationChannel,
    Response,
    Role,
    Source,
    StaffMembership,
)

AMSTERDAM = services.AMSTERDAM
YEARS = (2017, 2018)

# Shown on the console next to the logins. Demo only: anyone who reads the README knows it.
DEMO_PASSWORD = "kto-demo-2018"  # noqa: S105
ADMIN_USERNAME = "admin"
KCC_GROUP = "KCC-medewerker"
# What a KCC employee may look at in the admin (read-only). Delivery is left out on purpose: until
# a message is sent it holds the resident's address.
KCC_VIEW_MODELS = (
    "organisation",
    "organisationchannel",
    "survey",
    "surveyversion",
    "question",
    "response",
    "answer",
    "invitation",
    "contact",
)


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    channels: tuple[str, ...]
    english_share: float  # share of responses in English


ORGANISATIONS = (
    # Stichtse Vecht's report mentions balie, telefoon, e-mail, the website, social media (Twitter,
    # Facebook and WhatsApp) and the live-chat trial that started in May 2018.
    DemoOrganisation(
        slug="stichtse-vecht",
        name="Gemeente Stichtse Vecht",
        channels=(
            Channel.BALIE,
            Channel.TELEFOON,
            Channel.EMAIL,
            Channel.WHATSAPP,
            Channel.CHAT,
            Channel.WEBSITE,
            Channel.SOCIAL,
        ),
        english_share=0.03,
    ),
    # Utrecht measures "alle kanalen (website, telefoon, e-mail, WhatsApp en balie)".
    DemoOrganisation(
        slug="utrecht",
        name="Gemeente Utrecht",
        channels=(Channel.BALIE, Channel.TELEFOON, Channel.EMAIL, Channel.WHATSAPP, Channel.WEBSITE),
        english_share=0.07,
    ),
)

D = Decimal

# Rapportcijfers as published in the seed reports: (organisation, channel, year) -> mean.
PUBLISHED_SCORES: dict[tuple[str, str, int], Decimal] = {
    ("stichtse-vecht", Channel.BALIE, 2018): D("8.7"),
    ("stichtse-vecht", Channel.BALIE, 2017): D("8.5"),
    ("stichtse-vecht", Channel.TELEFOON, 2018): D("8.3"),
    ("stichtse-vecht", Channel.TELEFOON, 2017): D("8.0"),
    ("stichtse-vecht", Channel.SOCIAL, 2018): D("7.4"),
    ("stichtse-vecht", Channel.SOCIAL, 2017): D("6.8"),
    ("stichtse-vecht", Channel.EMAIL, 2018): D("7.2"),
    ("stichtse-vecht", Channel.EMAIL, 2017): D("7.1"),
    ("stichtse-vecht", Channel.WEBSITE, 2018): D("6.0"),
    ("stichtse-vecht", Channel.WEBSITE, 2017): D("6.0"),
    ("utrecht", Channel.BALIE, 2018): D("7.8"),
    ("utrecht", Channel.BALIE, 2017): D("7.8"),
    ("utrecht", Channel.WEBSITE, 2018): D("7.6"),
    ("utrecht", Channel.WEBSITE, 2017): D("7.5"),
    ("utrecht", Channel.TELEFOON, 2018): D("7.7"),
    ("utrecht", Channel.TELEFOON, 2017): D("8.0"),
    ("utrecht", Channel.EMAIL, 2018): D("5.9"),
}
# Stichtse Vecht: "eerstelijns dienstverlening" over all channels in 2018.
PUBLISHED_OVERALL: dict[tuple[str, int], Decimal] = {("stichtse-vecht", 2018): D("8.3")}

# Not published; chosen to be plausible next to the published ones.
CHOSEN_SCORES: dict[tuple[str, str, int], Decimal] = {
    ("stichtse-vecht", Channel.CHAT, 2018): D("7.9"),
    ("utrecht", Channel.EMAIL, 2017): D("6.1"),
    ("utrecht", Channel.WHATSAPP, 2018): D("7.6"),
    ("utrecht", Channel.WHATSAPP, 2017): D("7.4"),
}
TARGET_SCORES = {**PUBLISHED_SCORES, **CHOSEN_SCORES}

# Contact volumes (kerncijfers) as published: (organisation, channel, year) -> contacts in that year.
# Stichtse Vecht: phone calls to the general number, visitors of the town hall, e-mails to
# info@stichtsevecht.nl, website visits, chats (trial from May 2018; 8.100 up to December).
# Utrecht: "Kerncijfers" table; website = digital requests via Utrecht.nl, e-mail includes e-forms,
# balie = visits with an appointment (Stadskantoor and Wijkservicecentrum Vleuten-De Meern).
VOLUMES: dict[tuple[str, str, int], int] = {
    ("stichtse-vecht", Channel.TELEFOON, 2013): 94_000,
    ("stichtse-vecht", Channel.TELEFOON, 2017): 77_500,
    ("stichtse-vecht", Channel.TELEFOON, 2018): 74_000,
    ("stichtse-vecht", Channel.BALIE, 2017): 45_000,
    ("stichtse-vecht", Channel.BALIE, 2018): 48_000,
    ("stichtse-vecht", Channel.EMAIL, 2017): 16_800,
    ("stichtse-vecht", Channel.EMAIL, 2018): 15_000,
    ("stichtse-vecht", Channel.WEBSITE, 2017): 535_000,
    ("stichtse-vecht", Channel.WEBSITE, 2018): 538_000,
    ("stichtse-vecht", Channel.CHAT, 2018): 8_100,
    ("utrecht", Channel.WEBSITE, 2015): 211_105,
    ("utrecht", Channel.WEBSITE, 2016): 223_449,
    ("utrecht", Channel.WEBSITE, 2017): 233_453,
    ("utrecht", Channel.WEBSITE, 2018): 260_704,
    ("utrecht", Channel.EMAIL, 2015): 32_347,
    ("utrecht", Channel.EMAIL, 2016): 20_578,
    ("utrecht", Channel.EMAIL, 2017): 19_287,
    ("utrecht", Channel.EMAIL, 2018): 18_671,
    ("utrecht", Channel.TELEFOON, 2015): 400_354,
    ("utrecht", Channel.TELEFOON, 2016): 337_029,
    ("utrecht", Channel.TELEFOON, 2017): 334_911,
    ("utrecht", Channel.TELEFOON, 2018): 314_803,
    ("utrecht", Channel.BALIE, 2015): 257_981,
    ("utrecht", Channel.BALIE, 2016): 274_268,
    ("utrecht", Channel.BALIE, 2017): 291_215,
    ("utrecht", Channel.BALIE, 2018): 294_794,
    ("utrecht", Channel.WHATSAPP, 2015): 1_849,
    ("utrecht", Channel.WHATSAPP, 2016): 11_189,
    ("utrecht", Channel.WHATSAPP, 2017): 11_342,
    ("utrecht", Channel.WHATSAPP, 2018): 11_523,
}
# The months a channel was in use, where that is not the whole year.
ACTIVE_MONTHS: dict[tuple[str, str, int], range] = {
    ("stichtse-vecht", Channel.CHAT, 2017): range(0),
    ("stichtse-vecht", Channel.CHAT, 2018): range(5, 13),
}

# Number of demo responses in 2018 per channel. Response rates differ a lot between channels (a
# tablet at the counter versus a pop-up on the website), so these are not proportional to the
# volumes across channels; 2017 follows 2018 in proportion to the published volumes.
# Stichtse Vecht: balie and telefoon dominate, so that the all-channels mean of 2018 is the
# published 8,3: (3000*8.7 + 2700*8.3 + 400*7.2 + 200*6.0 + 200*7.4 + 200*7.9) / 6700 = 8.306.
# WhatsApp: the report counts WhatsApp under "social media" (with Twitter and Facebook), so its
# ratings are part of the social channel that carries 7,4 / 6,8; the WhatsApp channel is enabled
# but has no demo responses of its own.
RESPONSES_2018: dict[tuple[str, str], int] = {
    ("stichtse-vecht", Channel.BALIE): 3000,
    ("stichtse-vecht", Channel.TELEFOON): 2700,
    ("stichtse-vecht", Channel.EMAIL): 400,
    ("stichtse-vecht", Channel.WEBSITE): 200,
    ("stichtse-vecht", Channel.SOCIAL): 200,
    ("stichtse-vecht", Channel.CHAT): 200,
    ("utrecht", Channel.BALIE): 2000,
    ("utrecht", Channel.TELEFOON): 2200,
    ("utrecht", Channel.WEBSITE): 1600,
    ("utrecht", Channel.EMAIL): 500,
    ("utrecht", Channel.WHATSAPP): 250,
}
# No published volume for social media in Stichtse Vecht; the report says its use is growing.
RESPONSES_2017_WITHOUT_VOLUME: dict[tuple[str, str], int] = {("stichtse-vecht", Channel.SOCIAL): 170}
# Below this a block cannot be adjusted to within 0.02 of its target (0.5 / n <= 0.02).
MIN_BLOCK_RESPONSES = 25


@dataclass(frozen=True)
class ChannelProfile:
    spread: float  # standard deviation of the bell around the mode, before clipping to 1..10
    low_tail: float  # share of disappointed residents (scores 1..5) that makes the distribution skewed
    office_hours: bool  # contacts only on working days between 8:30 and 17:00
    seasonal: tuple[float, ...]  # relative volume per month (January first)
    sources: tuple[tuple[str, float], ...]


_COUNTER_SEASON = (1.15, 1.05, 1.05, 1.0, 1.0, 1.1, 0.8, 0.75, 1.05, 1.05, 1.0, 0.85)
_PHONE_SEASON = (1.2, 1.05, 1.05, 1.0, 0.95, 1.0, 0.85, 0.8, 1.05, 1.05, 1.0, 0.85)
_ONLINE_SEASON = (1.1, 1.0, 1.05, 1.0, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.05, 0.95)
_INVITED = ((Source.INVITATION, 0.55), (Source.ONE_CLICK, 0.35), (Source.OPEN, 0.10))

PROFILES: dict[str, ChannelProfile] = {
    Channel.BALIE: ChannelProfile(
        1.2, 0.03, True, _COUNTER_SEASON, ((Source.OPEN, 0.45), (Source.INVITATION, 0.35), (Source.ONE_CLICK, 0.2))
    ),
    Channel.TELEFOON: ChannelProfile(1.4, 0.04, True, _PHONE_SEASON, _INVITED),
    Channel.EMAIL: ChannelProfile(1.8, 0.08, False, _ONLINE_SEASON, _INVITED),
    Channel.WHATSAPP: ChannelProfile(1.6, 0.05, False, _ONLINE_SEASON, _INVITED),
    Channel.CHAT: ChannelProfile(1.5, 0.05, True, _ONLINE_SEASON, _INVITED),
    Channel.WEBSITE: ChannelProfile(
        1.8, 0.08, False, _ONLINE_SEASON, ((Source.OPEN, 0.7), (Source.INVITATION, 0.2), (Source.ONE_CLICK, 0.1))
    ),
    Channel.SOCIAL: ChannelProfile(1.8, 0.07, False, _ONLINE_SEASON, _INVITED),
}

# Public holidays on which the town halls and the KCC are closed.
HOLIDAYS = frozenset(
    {
        date(2017, 1, 1),
        date(2017, 4, 17),
        date(2017, 4, 27),
        date(2017, 5, 25),
        date(2017, 6, 5),
        date(2017, 12, 25),
        date(2017, 12, 26),
        date(2018, 1, 1),
        date(2018, 4, 2),
        date(2018, 4, 27),
        date(2018, 5, 10),
        date(2018, 5, 21),
        date(2018, 12, 25),
        date(2018, 12, 26),
    }
)
# Relative traffic per hour of the day for channels that are open around the clock.
_HOURLY = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 6, 8, 9, 9, 8, 8, 8, 8, 7, 6, 6, 7, 7, 6, 4, 2)


# --- scores -------------------------------------------------------------------------------------

SCALE = range(1, 11)
_LOW_TAIL = (3, 2, 2, 2, 2, 0, 0, 0, 0, 0)  # how disappointed residents spread over 1..10


def _bell(mode: float, spread: float) -> list[float]:
    weights = [math.exp(-((k - mode) ** 2) / (2 * spread**2)) for k in SCALE]
    total = sum(weights)
    return [w / total for w in weights]


def score_distribution(mean: float, spread: float, low_tail: float) -> list[float]:
    """Probabilities of the scores 1..10: a bell clipped to the scale (so left-skewed near 10)
    plus a tail of disappointed residents, with its mode chosen so the expected score is ``mean``."""
    tail_total = sum(_LOW_TAIL)
    tail = [w / tail_total for w in _LOW_TAIL]

    def mixture(mode: float) -> list[float]:
        return [(1 - low_tail) * b + low_tail * t for b, t in zip(_bell(mode, spread), tail, strict=True)]

    low, high = -10.0, 25.0
    for _ in range(60):
        mode = (low + high) / 2
        expected = sum(k * p for k, p in zip(SCALE, mixture(mode), strict=True))
        if expected < mean:
            low = mode
        else:
            high = mode
    return mixture((low + high) / 2)


def target_sum(target: Decimal, n: int) -> int:
    """The integer sum of ``n`` scores whose mean is closest to ``target``."""
    return int((target * n).quantize(D(1), rounding=ROUND_HALF_UP))


def adjust_to_mean(scores: list[int], target: Decimal, rng: random.Random) -> list[int]:
    """Move randomly chosen scores up or down by one (staying within 1..10) until the sum is
    ``target_sum(target, len(scores))``; returns the list, changed in place."""
    goal = target_sum(target, len(scores))
    if not 1 * len(scores) <= goal <= 10 * len(scores):
        raise ValueError(f"A mean of {target} is impossible on the scale 1..10.")
    difference = goal - sum(scores)
    step = 1 if difference > 0 else -1
    while difference:
        index = rng.randrange(len(scores))
        moved = scores[index] + step
        if 1 <= moved <= 10:
            scores[index] = moved
            difference -= step
    return scores


# --- volumes per month --------------------------------------------------------------------------


@functools.cache
def _all_days(year: int, month: int) -> tuple[date, ...]:
    first = date(year, month, 1)
    return tuple(first + timedelta(days=i) for i in range(31) if (first + timedelta(days=i)).month == month)


@functools.cache
def _working_days(year: int, month: int) -> tuple[date, ...]:
    return tuple(day for day in _all_days(year, month) if day.weekday() < 5 and day not in HOLIDAYS)


def active_months(slug: str, channel: str, year: int) -> range:
    return ACTIVE_MONTHS.get((slug, channel, year), range(1, 13))


def monthly_split(total: int, *, slug: str, channel: str, year: int) -> dict[int, int]:
    """``total`` spread over the active months of the year by season and number of open days;
    the parts add up to ``total`` exactly (largest remainders). Also usable for contact volumes."""
    profile = PROFILES[channel]
    months = list(active_months(slug, channel, year))
    if not months or total <= 0:
        return {}
    days = _working_days if profile.office_hours else _all_days
    weights = {m: profile.seasonal[m - 1] * len(days(year, m)) for m in months}
    weight_total = sum(weights.values())
    exact = {m: total * w / weight_total for m, w in weights.items()}
    parts = {m: math.floor(x) for m, x in exact.items()}
    rest = total - sum(parts.values())
    for m in sorted(months, key=lambda m: (parts[m] - exact[m], m))[:rest]:
        parts[m] += 1
    return parts


def response_count(slug: str, channel: str, year: int, scale: float = 1.0) -> int:
    """How many demo responses (organisation, channel, year) gets; 0 for no responses at all."""
    if (slug, channel, year) not in TARGET_SCORES:
        return 0
    base = RESPONSES_2018.get((slug, channel), 0)
    if year != 2018:
        volume, volume_2018 = VOLUMES.get((slug, channel, year)), VOLUMES.get((slug, channel, 2018))
        if volume and volume_2018:
            base = round(base * volume / volume_2018)
        else:
            base = RESPONSES_2017_WITHOUT_VOLUME.get((slug, channel), 0)
    if base == 0:
        return 0
    return max(MIN_BLOCK_RESPONSES, round(base * scale))


# --- comments -----------------------------------------------------------------------------------

_POSITIVE_NL = (
    "Heel vriendelijk geholpen.",
    "Snel en duidelijk antwoord gekregen.",
    "Prima geregeld, dank u wel!",
    "De medewerker dacht goed met me mee.",
    "Alles was in één keer goed.",
    "Fijn dat het zo makkelijk kon.",
    "Zeer tevreden, complimenten.",
    "Duidelijke uitleg, ik weet nu precies wat ik moet doen.",
    "Vlot en correct.",
    "Top service!",
)
_NEUTRAL_NL = (
    "Het was goed, maar het duurde wel lang.",
    "Mijn vraag is beantwoord, al moest ik wel wat zoeken.",
    "Redelijk. De informatie kan duidelijker.",
    "Niet slecht, niet heel goed.",
    "Uiteindelijk geholpen, maar pas bij de tweede poging.",
    "Vriendelijk, maar het antwoord was niet helemaal compleet.",
)
_NEGATIVE_NL = (
    "Ik ben drie keer doorverbonden en niemand wist het antwoord.",
    "Nog steeds geen reactie op mijn vraag.",
    "Erg teleurgesteld, ik voel me niet serieus genomen.",
    "Onduidelijk en onvriendelijk.",
    "Ik moest veel te lang wachten.",
    "De informatie klopte niet, nu moet ik opnieuw beginnen.",
    "Beloofd werd dat ik teruggebeld zou worden, dat is niet gebeurd.",
)
_CHANNEL_DETAIL_NL = {
    Channel.BALIE: (
        "Ik was precies op tijd aan de beurt.",
        "Mijn paspoort lag al klaar.",
        "De wachtruimte was erg vol.",
        "Afspraak maken via de website ging makkelijk.",
        "Rijbewijs verlengd zonder gedoe.",
    ),
    Channel.TELEFOON: (
        "Ik hoefde maar kort in de wacht te staan.",
        "Lang in de wacht gestaan.",
        "Het keuzemenu is verwarrend.",
        "Via 14 030 snel de juiste afdeling.",
    ),
    Channel.EMAIL: (
        "Binnen twee dagen antwoord.",
        "Vijf werkdagen op een antwoord wachten is te lang.",
        "Het antwoord was een standaardtekst.",
    ),
    Channel.WHATSAPP: ("Appen is ideaal, ik kon gewoon verder met mijn werk.", "Snel antwoord via de app."),
    Channel.CHAT: ("Handig dat je nu kunt chatten.", "De chat was net gesloten toen ik een vervolgvraag had."),
    Channel.WEBSITE: (
        "Het formulier voor grof vuil was makkelijk te vinden.",
        "De website is onoverzichtelijk.",
        "Ik kon het formulier niet vinden.",
        "Verhuizing doorgeven ging online in een paar minuten.",
        "Zoekfunctie geeft rare resultaten.",
    ),
    Channel.SOCIAL: ("Snel antwoord via Facebook.", "Via Twitter werd ik doorverwezen naar de website."),
}
_ENGLISH = {
    "positive": ("Very helpful, thank you.", "Quick and friendly.", "Clear answer in English, much appreciated."),
    "neutral": ("Okay, but it took a while.", "The information was only available in Dutch."),
    "negative": ("Nobody could answer my question.", "I waited far too long.", "Hard to find anything in English."),
}
# Comments in which residents leave personal data; stored only after masking.
_PERSONAL_NL = (
    "Graag terugbellen op {phone}.",
    "U kunt mij mailen op {email}, ik hoor graag iets.",
    "Bel mij even op {phone}, dan leg ik het uit.",
    "Ik wacht nog op de terugbetaling op {iban}.",
    "Mijn mailadres is {email} maar ik kreeg geen bevestiging.",
)
_FIRST_NAMES = ("jan", "anouk", "mohamed", "sanne", "pieter", "fatima", "kees", "lotte", "daan", "emma")
_MAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "xs4all.nl")


def _phone(rng: random.Random) -> str:
    # Numbers that exist in the Dutch numbering plan (mobile 06-1 to 06-5; 0346 is Maarssen).
    kind = rng.random()
    if kind < 0.5:
        return f"06-{rng.randrange(10_000_000, 60_000_000)}"
    if kind < 0.8:
        return f"0346 {rng.randrange(200, 1000)} {rng.randrange(100, 1000)}"
    return f"+31 6 {rng.randrange(1000, 6000)} {rng.randrange(1000, 10000)}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)}.{rng.randrange(10, 99)}@{rng.choice(_MAIL_DOMAINS)}"


def _iban(rng: random.Random) -> str:
    bank = rng.choice(("INGB", "RABO", "ABNA"))
    account = f"{rng.randrange(10**9, 10**10)}"
    # ISO 13616 check digits: letters as numbers (A=10), country code and "00" moved to the end.
    digits = "".join(str(int(c, 36)) for c in f"{bank}{account}NL00")
    check = 98 - int(digits) % 97
    return f"NL{check:02d}{bank}{account}"


def make_comment(rng: random.Random, *, channel: str, score: int, language: str) -> str:
    mood = "negative" if score <= 5 else "neutral" if score <= 7 else "positive"
    if language == "en":
        return rng.choice(_ENGLISH[mood])
    if mood != "positive" and rng.random() < 0.12:
        template = rng.choice(_PERSONAL_NL)
        return template.format(phone=_phone(rng), email=_email(rng), iban=_iban(rng))
    pool = {"positive": _POSITIVE_NL, "neutral": _NEUTRAL_NL, "negative": _NEGATIVE_NL}[mood]
    parts = [rng.choice(pool)]
    if rng.random() < 0.5:
        parts.append(rng.choice(_CHANNEL_DETAIL_NL[channel]))
        if rng.random() < 0.5:
            parts.reverse()
    return " ".join(parts)


def _comment_chance(score: int) -> float:
    return 0.45 if score <= 5 else 0.25 if score <= 7 else 0.12


# --- one block: (organisation, channel, year) ---------------------------------------------------


def _moment(rng: random.Random, *, year: int, month: int, office_hours: bool) -> datetime:
    if office_hours:
        day = rng.choice(_working_days(year, month) or _all_days(year, month))
        minute = rng.randrange(8 * 60 + 30, 17 * 60)
        hour, minute = divmod(minute, 60)
    else:
        day = rng.choice(_all_days(year, month))
        hour = rng.choices(range(24), weights=_HOURLY)[0]
        minute = rng.randrange(60)
    local = datetime(day.year, day.month, day.day, hour, minute, rng.randrange(60), tzinfo=AMSTERDAM)
    return local


def _submitted_after(rng: random.Random, contact_moment: datetime, source: str) -> datetime:
    if source == Source.OPEN:
        return contact_moment + timedelta(minutes=rng.randrange(1, 30))
    return contact_moment + timedelta(minutes=rng.randrange(30, 4 * 24 * 60))


def _yes_chance(score: int) -> float:
    return (0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 0.92, 0.96, 0.98)[score - 1]


@dataclass
class Block:
    organisation: Organisation
    channel: str
    year: int
    target: Decimal
    count: int

    @property
    def seed(self) -> str:
        # A string seed is hashed with SHA-512 by random.Random: stable across runs and processes.
        return f"kto-demo:{self.organisation.slug}:{self.channel}:{self.year}"


def block_scores(block: Block, rng: random.Random) -> dict[int, list[int]]:
    """Scores per month: a seasonal wobble around the target, then adjusted so the yearly mean
    is exact."""
    profile = PROFILES[block.channel]
    per_month = monthly_split(block.count, slug=block.organisation.slug, channel=block.channel, year=block.year)
    scores: list[int] = []
    months: list[int] = []
    for month, n in per_month.items():
        # Summer holidays bring stand-ins and longer waits; otherwise a little noise.
        wobble = rng.gauss(0, 0.12) - (0.15 if month in (7, 8) else 0)
        mean = min(9.6, max(1.5, float(block.target) + wobble))
        weights = score_distribution(mean, profile.spread, profile.low_tail)
        scores.extend(rng.choices(SCALE, weights=weights, k=n))
        months.extend([month] * n)
    adjust_to_mean(scores, block.target, rng)
    result: dict[int, list[int]] = {}
    for month, score in zip(months, scores, strict=True):
        result.setdefault(month, []).append(score)
    return result


def build_block(block: Block, *, masked: Callable[[str], str]) -> list[tuple[Response, dict[str, int]]]:
    """Unsaved responses of one block with their extra answers (question key -> value)."""
    rng = random.Random(block.seed)  # noqa: S311 - reproducible demo data, not secrets
    profile = PROFILES[block.channel]
    version = services.current_version(organisation=block.organisation, channel=block.channel)
    english_share = next(o.english_share for o in ORGANISATIONS if o.slug == block.organisation.slug)
    sources, source_weights = zip(*profile.sources, strict=True)
    rows = []
    for month, scores in block_scores(block, rng).items():
        for score in scores:
            contact_moment = _moment(rng, year=block.year, month=month, office_hours=profile.office_hours)
            source = rng.choices(sources, weights=source_weights)[0]
            language = "en" if rng.random() < english_share else "nl"
            comment = ""
            if rng.random() < _comment_chance(score):
                comment = masked(make_comment(rng, channel=block.channel, score=score, language=language))
            answers = {}
            if rng.random() < 0.9:
                answers["vraag_beantwoord"] = int(rng.random() < _yes_chance(score))
            if rng.random() < 0.85:
                friendliness = 1 + (score - 1) * 4 / 9 + rng.gauss(0.3, 0.6)
                answers["vriendelijkheid"] = min(5, max(1, round(friendliness)))
            response = Response(
                organisation=block.organisation,
                channel=block.channel,
                survey_version=version,
                contact_moment=contact_moment,
                contact_month=services.local_month(contact_moment),
                submitted_at=_submitted_after(rng, contact_moment, source),
                score=score,
                comment=comment,
                language=language,
                source=source,
                is_complete=True,
            )
            rows.append((response, answers))
    return rows


BATCH_SIZE = 2000


def insert_block(block: Block, *, masked: Callable[[str], str], progress: Callable[[int], object]) -> set[date]:
    """Insert one block with its answers; returns the months it filled. Does nothing when the
    block already has responses (so seeding twice adds nothing)."""
    exists = Response.objects.filter(
        organisation=block.organisation,
        channel=block.channel,
        contact_month__gte=date(block.year, 1, 1),
        contact_month__lte=date(block.year, 12, 1),
    ).exists()
    if exists:
        progress(block.count)
        return set()
    rows = build_block(block, masked=masked)
    version = rows[0][0].survey_version if rows else None
    questions = {q.key: q for q in version.questions.all()} if version else {}
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        responses = Response.objects.bulk_create([response for response, _ in batch])
        answers = [
            Answer(response=response, question=questions[key], value=value)
            for response, (_, values) in zip(responses, batch, strict=True)
            for key, value in values.items()
            if key in questions
        ]
        Answer.objects.bulk_create(answers, batch_size=BATCH_SIZE)
        rollups.record_response_changes(responses)
        progress(len(batch))
    return {response.contact_month for response, _ in rows}


@transaction.atomic
def insert_blocks(
    organisation: Organisation, blocks: list[Block], *, masked: Callable[[str], str], progress: Callable[[int], object]
) -> int:
    """All demo responses of one organisation in one transaction, recorded as changes for the
    rollups (one rollup per organisation when Celery runs eagerly). Returns how many were new."""
    created = 0
    for block in blocks:
        filled = insert_block(block, masked=masked, progress=progress)
        created += block.count if filled else 0
    return created


# --- organisations, logins, invitations ---------------------------------------------------------


def ensure_organisation(demo: DemoOrganisation) -> tuple[Organisation, bool]:
    organisation = Organisation.objects.filter(slug=demo.slug).first()
    if organisation is None:
        return services.create_organisation(name=demo.name, slug=demo.slug, channels=list(demo.channels)), True
    # An organisation from an older seed may lack a channel: add it (with its default survey).
    for channel in demo.channels:
        if not OrganisationChannel.objects.filter(organisation=organisation, channel=channel).exists():
            OrganisationChannel.objects.create(organisation=organisation, channel=channel)
        services.current_version(organisation=organisation, channel=channel)
    return organisation, False


def ensure_kcc_group() -> Group:
    group, _ = Group.objects.get_or_create(name=KCC_GROUP)
    codenames = [f"view_{model}" for model in KCC_VIEW_MODELS]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="surveys", codename__in=codenames))
    return group


@dataclass(frozen=True)
class Login:
    username: str
    description: str
    created: bool


def ensure_user(username: str, *, superuser: bool = False) -> tuple[object, bool]:
    """The demo user; an existing one keeps its password (resetting it would log out its sessions)."""
    User = get_user_model()  # noqa: N806
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    if superuser:
        user = User.objects.create_superuser(username=username, email="", password=DEMO_PASSWORD)
    else:
        user = User.objects.create_user(username=username, password=DEMO_PASSWORD, is_staff=True)
    return user, True


def ensure_kcc_login(organisation: Organisation, group: Group) -> Login:
    user, created = ensure_user(f"kcc-{organisation.slug}")
    user.groups.add(group)
    StaffMembership.objects.get_or_create(user=user, defaults={"organisation": organisation, "role": Role.KCC})
    return Login(user.username, f"KCC-medewerker {organisation.name}", created)


def create_demo_invitations(organisation: Organisation, *, now: datetime) -> None:
    """A handful of invitations in different states, so the admin shows what the lifecycle looks like.
    Created once, together with the organisation."""
    channels = organisation.enabled_channels()
    states = [
        (InvitationStatus.CREATED, {}),
        (InvitationStatus.SENT, {"sent_at": now - timedelta(hours=3)}),
        (InvitationStatus.OPENED, {"sent_at": now - timedelta(days=1), "opened_at": now - timedelta(hours=20)}),
        (InvitationStatus.FAILED, {}),
    ]
    for index, (status, fields) in enumerate(states):
        invitation, _ = services.create_invitation(
            organisation=organisation,
            channel=channels[index % len(channels)],
            contact_moment=now - timedelta(days=1, hours=index),
            now=now - timedelta(days=1),
        )
        Invitation.objects.filter(pk=invitation.pk).update(status=status, **fields)
    # Expired: created three weeks ago and never answered.
    invitation, _ = services.create_invitation(
        organisation=organisation,
        channel=channels[0],
        contact_moment=now - timedelta(days=22),
        now=now - timedelta(days=21),
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        status=InvitationStatus.EXPIRED, sent_at=now - timedelta(days=21)
    )
    # Answered: through the same service a resident's submit goes through.
    invitation, _ = services.create_invitation(
        organisation=organisation, channel=channels[0], contact_moment=now - timedelta(hours=5), now=now
    )
    services.submit_response(
        organisation=organisation,
        channel=invitation.channel,
        score=8,
        source=Source.INVITATION,
        invitation=invitation,
        answers={"vraag_beantwoord": 1, "vriendelijkheid": 5},
        comment="Prima geholpen.",
    )


@dataclass(frozen=True)
class TryLinks:
    organisation: Organisation
    form: str
    one_click: str
    open: str


def example_links(organisation: Organisation, *, now: datetime) -> TryLinks:
    """A fresh invitation for the form and one for a one-click link, created on every run: only
    a token's hash is stored, so an older link cannot be printed again."""
    channel = Channel.BALIE
    _, form_token = services.create_invitation(organisation=organisation, channel=channel, contact_moment=now)
    _, click_token = services.create_invitation(organisation=organisation, channel=channel, contact_moment=now)
    open_path = reverse("surveys:open", kwargs={"slug": organisation.slug, "channel": channel})
    return TryLinks(
        organisation=organisation,
        form=invitation_url(form_token),
        one_click=dict(one_click_urls(click_token))[8],
        open=f"{settings.KTO_BASE_URL}{open_path}",
    )


# --- volumes ------------------------------------------------------------------------------------


VOLUME_SOURCES = {
    "stichtse-vecht": "Demo: persbericht Stichtse Vecht, 14 maart 2019",
    "utrecht": "Demo: kerncijfers gemeente Utrecht 2015-2018",
}


def seed_volumes(organisations: Iterable[Organisation]) -> int:
    """The published contact volumes (kerncijfers, VOLUMES) as monthly ContactVolume rows, each
    year spread over its months with :func:`monthly_split`, stored through the volume import's
    own writer (which records the changes for the rollups). An organisation that already has volumes
    is left alone. Returns the number of rows written."""
    from .models import ContactVolume
    from .volumes import VolumeRow, save_volumes

    written = 0
    for organisation in organisations:
        if ContactVolume.objects.filter(organisation=organisation).exists():
            continue
        rows = [
            VolumeRow(row=0, organisation=organisation, channel=channel, month=date(year, month, 1), count=count)
            for (slug, channel, year), total in sorted(VOLUMES.items())
            if slug == organisation.slug
            for month, count in monthly_split(total, slug=slug, channel=channel, year=year).items()
        ]
        if rows:
            written += save_volumes(rows, source=VOLUME_SOURCES.get(organisation.slug, "Demo")).rows
    return written


# --- the whole seed -----------------------------------------------------------------------------


@dataclass
class SeedResult:
    organisations: list[Organisation] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)
    links: list[TryLinks] = field(default_factory=list)
    responses_created: int = 0
    responses_total: int = 0


def blocks_for(organisation: Organisation, demo: DemoOrganisation, scale: float) -> list[Block]:
    blocks = []
    for year in YEARS:
        for channel in demo.channels:
            count = response_count(demo.slug, channel, year, scale)
            if count:
                blocks.append(Block(organisation, channel, year, TARGET_SCORES[(demo.slug, channel, year)], count))
    return blocks


def seed_demo(*, scale: float = 1.0, progress_bar: bool | None = None) -> SeedResult:
    """Create (or complete) the demo; safe to run again. ``scale`` multiplies the number of
    responses (tests use a small one); the yearly means are exact at any scale.
    ``progress_bar``: None shows it only on a terminal."""
    from tqdm import tqdm

    result = SeedResult()
    now = timezone.now()
    mask_cache: dict[str, str] = {}

    def masked(text: str) -> str:
        if text not in mask_cache:
            mask_cache[text] = mask_personal_data(text)
        return mask_cache[text]

    with transaction.atomic():
        group = ensure_kcc_group()
        admin, created = ensure_user(ADMIN_USERNAME, superuser=True)
        result.logins.append(Login(admin.username, "beheerder (superuser)", created))
        for demo in ORGANISATIONS:
            organisation, created = ensure_organisation(demo)
            result.organisations.append(organisation)
            result.logins.append(ensure_kcc_login(organisation, group))
            if created:
                create_demo_invitations(organisation, now=now)

    blocks = {
        organisation: blocks_for(organisation, demo, scale)
        for organisation, demo in zip(result.organisations, ORGANISATIONS, strict=True)
    }
    total = sum(block.count for org_blocks in blocks.values() for block in org_blocks)
    # tqdm's disable=None: shown on a terminal only.
    disable = None if progress_bar is None else not progress_bar
    with tqdm(total=total, desc="Demo responses", unit="resp", disable=disable) as bar:
        for organisation, org_blocks in blocks.items():
            bar.set_postfix_str(organisation.slug)
            result.responses_created += insert_blocks(organisation, org_blocks, masked=masked, progress=bar.update)

    seed_volumes(result.organisations)
    result.links = [example_links(organisation, now=now) for organisation in result.organisations]
    result.responses_total = Response.objects.filter(organisation__in=result.organisations).count()
    return result
