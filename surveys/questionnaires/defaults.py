"""The survey every channel gets out of the box, so a new organisation can start measuring
at once. Texts in Dutch and English."""

from surveys.organisations.models import Channel

from .models import QuestionKind

SCORE_LABEL = {
    Channel.BALIE: (
        "Welk rapportcijfer geeft u voor uw bezoek aan de balie?",
        "What score would you give your visit to the counter?",
    ),
    Channel.TELEFOON: (
        "Welk rapportcijfer geeft u voor het telefoongesprek?",
        "What score would you give the phone call?",
    ),
    Channel.EMAIL: (
        "Welk rapportcijfer geeft u voor de afhandeling van uw e-mail?",
        "What score would you give the handling of your e-mail?",
    ),
    Channel.WHATSAPP: (
        "Welk rapportcijfer geeft u voor het WhatsApp-gesprek?",
        "What score would you give the WhatsApp conversation?",
    ),
    Channel.CHAT: (
        "Welk rapportcijfer geeft u voor het chatgesprek?",
        "What score would you give the chat conversation?",
    ),
    Channel.WEBSITE: ("Welk rapportcijfer geeft u voor de website?", "What score would you give the website?"),
    Channel.SOCIAL: (
        "Welk rapportcijfer geeft u voor de beantwoording via sociale media?",
        "What score would you give the answer you got through social media?",
    ),
}

COMMENT_LABEL = (
    "Wilt u uw cijfer toelichten? (niet verplicht)",
    "Would you like to explain your score? (optional)",
)
INTRO = (
    "Het kost u minder dan een minuut. Alleen het rapportcijfer is verplicht.",
    "It takes less than a minute. Only the score is required.",
)

# Extra questions: key, kind, (nl, en), choices
EXTRA_QUESTIONS = [
    ("vraag_beantwoord", QuestionKind.YES_NO, ("Is uw vraag beantwoord?", "Was your question answered?"), []),
    (
        "vriendelijkheid",
        QuestionKind.SCALE_5,
        (
            "Hoe vriendelijk werd u geholpen? (1 = helemaal niet, 5 = heel vriendelijk)",
            "How friendly was the service? (1 = not friendly at all, 5 = very friendly)",
        ),
        [],
    ),
]
