"""The figures of the two 2018 seed reports (Stichtse Vecht and Utrecht) that the demo reproduces,
and what the demo chooses where the reports are silent: channels, volumes (kerncijfers), how
many responses per channel and year, and how each channel's residents score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from surveys.organisations.models import Channel
from surveys.responses.models import Source

YEARS = (2017, 2018)


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
# The seeds' other kerncijfers, which are no contact volume of a channel: (organisation, name,
# English name, kind, channel or "", order) -> {year: value}. Utrecht's table has "-" where a
# figure was not yet measured (no value for that year).
KEY_FIGURES: dict[tuple[str, str, str, str, str, int], dict[int, int]] = {
    ("utrecht", "waarvan meldingen openbare ruimte", "of which reports on public space", "count", Channel.WEBSITE, 1): {
        2017: 57_844,
        2018: 78_624,
    },
    ("utrecht", "waarvan via 14 030", "of which via 14 030", "count", Channel.TELEFOON, 2): {
        2016: 98_185,
        2017: 164_862,
        2018: 189_857,
    },
    (
        "utrecht",
        "telefonische bereikbaarheid Klantcontactcentrum (%)",
        "telephone availability of the contact centre (%)",
        "percentage",
        Channel.TELEFOON,
        3,
    ): {2015: 81, 2016: 91, 2017: 90, 2018: 90},
    (
        "stichtse-vecht",
        "online formulieren via de website",
        "online forms on the website",
        "count",
        Channel.WEBSITE,
        1,
    ): {2018: 26_000},
    ("stichtse-vecht", "niet verschenen op een afspraak", "no-shows at an appointment", "count", Channel.BALIE, 2): {
        2018: 2_500
    },
    (
        "stichtse-vecht",
        "niet verschenen op een afspraak (%)",
        "no-shows at an appointment (%)",
        "percentage",
        Channel.BALIE,
        3,
    ): {2018: 13},
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
HOURLY = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 6, 8, 9, 9, 8, 8, 8, 8, 7, 6, 6, 7, 7, 6, 4, 2)
