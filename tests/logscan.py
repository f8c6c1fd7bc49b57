"""A pytest plugin: everything logged during the test run is scanned, at its end, for what must
never be in a log: a resident's token, an e-mail address, a phone number or a comment. Any
finding fails the run (and is written to test-artifacts/log-findings.txt)."""

import logging
import re
from pathlib import Path

import phonenumbers
import pytest
from django.db.models.signals import post_save

from surveys.responses.models import Response

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

# A token after a residents' page (more than the four characters the redaction keeps), or a bare
# token: 32 URL-safe characters (192 bits), with a digit and a letter in it.
TOKEN_IN_PATH = re.compile(r"/(?:s|afmelden)/(?!\w{4}…)[\w-]{5,}")
BARE_TOKEN = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{32}(?![\w-])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MIN_COMMENT = 15


class Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call is not this plugin's finding
            return
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        self.messages.append(f"{record.name}: {message}")


def findings(messages: list[str], comments: set[str]) -> list[str]:
    """What must not be in these log messages, one line per finding."""
    found = []
    for message in messages:
        for pattern, what in ((TOKEN_IN_PATH, "token"), (BARE_TOKEN, "token"), (EMAIL, "e-mail address")):
            found += [f"{what} {match.group()!r} in {message[:200]!r}" for match in pattern.finditer(message)]
        for match in phonenumbers.PhoneNumberMatcher(message, "NL", leniency=phonenumbers.Leniency.VALID):
            found.append(f"phone number {match.raw_string!r} in {message[:200]!r}")
        found += [f"comment {comment[:40]!r} in {message[:200]!r}" for comment in comments if comment in message]
    return found


class LogScan:
    def __init__(self):
        self.collector = Collector()
        self.comments: set[str] = set()

    def remember_comment(self, sender, instance, **kwargs):
        if len(instance.comment) >= MIN_COMMENT:
            self.comments.add(instance.comment)

    @pytest.hookimpl
    def pytest_sessionstart(self, session):
        logging.getLogger().addHandler(self.collector)
        post_save.connect(self.remember_comment, sender=Response, weak=False)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        logging.getLogger().removeHandler(self.collector)
        found = findings(self.collector.messages, self.comments)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"log scan: {len(self.collector.messages)} log records, {len(found)} findings")
        if found:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "log-findings.txt").write_text("\n".join(found), encoding="utf-8")
            if reporter:
                for line in found[:20]:
                    reporter.write_line(f"  {line}", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config):
    config.pluginmanager.register(LogScan(), "kto-logscan")
