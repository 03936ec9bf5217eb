"""Follow-up tokens never reach a log.

Whoever holds `/suivi/<token>` reads and deletes a person's data (a minor's, often): the
link is as secret as a password. Logs are kept, copied and read by more people than the
database, so every log line this app or its server writes goes through `redact`: the
gunicorn access log (RedactingLogger, gunicorn.conf.py), gunicorn's error log, Werkzeug's
development server and Flask's own log of an exception (which names the path).
"""

import logging
import re

from gunicorn.glogging import Logger

# The token's segment, not the fixed page /suivi/lien-perdu; percent-encoded forms of the
# slash are caught too (a client may send /suivi%2F<token>, which Werkzeug decodes).
TOKEN_RE = re.compile(r"(/suivi(?:/|%2f))(?!lien-perdu(?:[/?#\s\"']|$))[^/?#\s\"']+", re.I)
REDACTED = r"\1[jeton]"


def redact(text):
    """`text` with every follow-up token replaced by « [jeton] »."""
    if not isinstance(text, str) or "suivi" not in text.lower():
        return text
    return TOKEN_RE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, its arguments applied, before any handler sees it."""

    def filter(self, record):
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


FILTER = RedactingFilter()


def protect(*loggers):
    """Add the filter to these loggers (names or Logger objects), once each."""
    for logger in loggers:
        logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)


class RedactingLogger(Logger):
    """gunicorn's logger whose access-log atoms (path, request line, query, referrer, any
    header or environ value a format may name) and error-log lines carry no token."""

    def setup(self, cfg):
        super().setup(cfg)
        protect(self.error_log, self.access_log)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) for key, value in atoms.items()}
