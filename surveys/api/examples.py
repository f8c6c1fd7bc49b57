"""Request and answer examples for the OpenAPI schema."""

from drf_spectacular.utils import OpenApiExample

BASE = "https://kto.example.nl"
TOKEN = "q3Vn7c0bX1lJ4wzT9sYkA2mPfRhE8uDo"  # noqa: S105 (an example, not a secret)

CONTACT_REQUEST = OpenApiExample(
    "Telefoongesprek, link zelf versturen",
    request_only=True,
    value={
        "channel": "telefoon",
        "contact_moment": "2026-03-02T14:30:00+01:00",
        "reference": "call-2026-000123",
        "language": "nl",
    },
)
CONTACT_REQUEST_EMAIL = OpenApiExample(
    "Baliebezoek, uitnodiging per e-mail",
    request_only=True,
    value={
        "channel": "balie",
        "contact_moment": "2026-03-02T10:05:00+01:00",
        "reference": "afspraak-88412",
        "language": "en",
        "recipient": "inwoner@example.nl",
        "method": "email",
    },
)


def _invitation(url: bool, delivery=None):
    return {
        "status": "created",
        "expires_at": "2026-03-16T14:30:02+01:00",
        "url": f"{BASE}/s/{TOKEN}/" if url else None,
        "one_click_urls": [{"score": n, "url": f"{BASE}/s/{TOKEN}/{n}/"} for n in range(1, 11)] if url else None,
        "delivery": delivery,
    }


_CONTACT = {
    "id": 4711,
    "reference": "call-2026-000123",
    "channel": "telefoon",
    "contact_moment": "2026-03-02T14:30:00+01:00",
}
CONTACT_INVITED = OpenApiExample(
    "Uitgenodigd",
    response_only=True,
    status_codes=["201"],
    value={**_CONTACT, "created": True, "invited": True, "reason": None, "invitation": _invitation(url=True)},
)
CONTACT_REPEATED = OpenApiExample(
    "Kenmerk al geregistreerd (of GET)",
    response_only=True,
    status_codes=["200"],
    value={**_CONTACT, "created": False, "invited": True, "reason": None, "invitation": _invitation(url=False)},
)
CONTACT_NOT_INVITED = OpenApiExample(
    "Niet uitgenodigd: niet in de steekproef",
    response_only=True,
    status_codes=["201"],
    value={**_CONTACT, "created": True, "invited": False, "reason": "sampled_out", "invitation": None},
)

BULK_REQUEST = OpenApiExample(
    "Twee contacten",
    request_only=True,
    value={
        "contacts": [
            {"channel": "telefoon", "contact_moment": "2026-03-02T14:30:00+01:00", "reference": "call-1"},
            {
                "channel": "whatsapp",
                "contact_moment": "2026-03-02T14:31:00+01:00",
                "reference": "wa-2",
                "recipient": "+31612345678",
                "method": "whatsapp",
            },
        ]
    },
)
BULK_RESULT = OpenApiExample(
    "Twee resultaten",
    response_only=True,
    status_codes=["200"],
    value={
        "results": [
            {
                **_CONTACT,
                "reference": "call-1",
                "created": True,
                "invited": False,
                "reason": "cooldown",
                "invitation": None,
            },
            {
                **_CONTACT,
                "id": 4712,
                "reference": "wa-2",
                "channel": "whatsapp",
                "created": True,
                "invited": True,
                "reason": None,
                "invitation": _invitation(url=True, delivery={"method": "whatsapp", "status": "pending"}),
            },
        ]
    },
)

RESPONSE_REQUEST = OpenApiExample(
    "Toetsenkeuze na een telefoongesprek",
    request_only=True,
    value={
        "channel": "telefoon",
        "score": 8,
        "contact_moment": "2026-03-02T14:30:00+01:00",
        "answers": {},
        "language": "nl",
    },
)
RESPONSE_RESULT = OpenApiExample(
    "Opgeslagen",
    response_only=True,
    status_codes=["201"],
    value={
        "id": 90210,
        "channel": "telefoon",
        "score": 8,
        "contact_moment": "2026-03-02T14:30:00+01:00",
        "submitted_at": "2026-03-02T14:36:12+01:00",
        "survey_version": 1,
        "answers": {},
        "comment": "",
        "language": "nl",
    },
)

VALIDATION_ERRORS = OpenApiExample(
    "Ongeldige velden",
    response_only=True,
    status_codes=["400"],
    value={
        "channel": ['"fax" is een ongeldige keuze.'],
        "contact_moment": ["Geef de tijdzone op, bijvoorbeeld 2026-03-02T14:30:00+01:00 of 2026-03-02T13:30:00Z."],
    },
)
BULK_ERRORS = OpenApiExample(
    "Contact 3 is ongeldig; niets is opgeslagen",
    response_only=True,
    status_codes=["400"],
    value={"errors": [{"index": 3, "errors": {"recipient": ["Geef een geldig e-mailadres."]}}]},
)
UNAUTHENTICATED = OpenApiExample(
    "Geen sleutel",
    response_only=True,
    status_codes=["401"],
    value={"detail": "Geef een API-sleutel op: 'Authorization: Api-Key <sleutel>'."},
)
NOT_FOUND = OpenApiExample(
    "Onbekend", response_only=True, status_codes=["404"], value={"detail": "Dit contact bestaat niet."}
)
ALREADY_ANSWERED = OpenApiExample(
    "Al beantwoord", response_only=True, status_codes=["409"], value={"detail": "Deze uitnodiging is al beantwoord."}
)
TOO_LARGE = OpenApiExample(
    "Te groot", response_only=True, status_codes=["413"], value={"detail": "Het verzoek is groter dan 2097152 bytes."}
)
