"""The log scan (tests/logscan.py) finds what it looks for, and not what a redacted log holds."""

from surveys.common.logs import redact
from surveys.common.tokens import new_token
from tests.logscan import findings


def test_the_scan_finds_tokens_addresses_phone_numbers_and_comments():
    token = new_token()
    messages = [
        f"django.request: Not Found: /s/{token}/",
        f"celery: sent {token}",
        "surveys: mail to jan@example.nl",
        "surveys: sms to 06-12345678",
        "surveys: comment Het duurde veel te lang aan de balie",
    ]
    found = findings(messages, {"Het duurde veel te lang aan de balie"})
    kinds = [line.split(" ")[0] for line in found]
    assert {"token", "e-mail", "phone", "comment"} == set(kinds)
    assert any("Not Found" in line for line in found) and any("celery" in line for line in found)


def test_the_scan_passes_a_redacted_log():
    token = new_token()
    messages = [redact(f"django.request: Not Found: /s/{token}/"), "django.server: GET /o/utrecht/balie/ 200 1234"]
    assert findings(messages, {"Het duurde veel te lang aan de balie"}) == []
