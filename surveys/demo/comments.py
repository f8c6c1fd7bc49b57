"""What demo residents write: comments by mood and channel, in Dutch and English, some with the
personal data residents really leave (masked before storage, as every comment is)."""

from __future__ import annotations

import random

from surveys.organisations.models import Channel

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


def comment_chance(score: int) -> float:
    return 0.45 if score <= 5 else 0.25 if score <= 7 else 0.12
