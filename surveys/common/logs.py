"""No residents' secrets in any log: a token in a resident's link is cut to its first characters.

Django's request logger writes the path of every 4xx and 5xx ("Not Found: /s/<token>/"), the
development server and gunicorn write every request line, and the console SMS gateway writes the
message with its link. A token read from a log would open its form, so every log record made in a
KTO process is redacted when it is made, whatever logger made it and whichever handler writes it:
``configure`` (Django's LOGGING_CONFIG) installs a log-record factory before the usual dictConfig.
"""

import logging
import logging.config
import re

# The residents' pages that carry a token (surveys/urls.py): /s/<token>/, /s/<token>/<score>/ and
# /afmelden/<token>/, also as a full link and with %-escapes.
_TOKEN_IN_PATH = re.compile(r"(?P<page>/(?:s|afmelden)/)(?P<start>[\w%-]{4})[\w%-]+")


def redact(text: str) -> str:
    """``text`` with every token in a resident's link cut to its first four characters and "…"."""
    return _TOKEN_IN_PATH.sub(r"\g<page>\g<start>…", text)


def _redacting(make_record):
    def factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken log call: logging itself reports it when the record is written
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return record

    factory.redacts_tokens = True
    return factory


def install_redaction() -> None:
    """Redact every log record made from now on in this process (once, however often called)."""
    make_record = logging.getLogRecordFactory()
    if not getattr(make_record, "redacts_tokens", False):
        logging.setLogRecordFactory(_redacting(make_record))


def configure(config: dict) -> None:
    """Django's LOGGING_CONFIG: redaction first, then the settings' LOGGING as usual."""
    install_redaction()
    logging.config.dictConfig(config)
