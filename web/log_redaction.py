"""Follow-up tokens (and the inbox search) never reach a log.

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
# The inbox search (`?q=`) holds what staff typed: a name, an e-mail address, a phone
# number. Its value is personal data, printed by any format naming the request line, the
# query or the referrer; the parameter's name stays so the line still reads. The login
# redirect carries it percent-encoded in `next=` (%3Fq%3D…%26…); the query atom (%(q)s)
# starts with it.
SEARCH_RE = re.compile(r"((?:^|[?&]|%3f|%26)(?:amp;)?q(?:=|%3d))(?:(?!%26)[^&#\s\"'])*", re.I)
SEARCH_REDACTED = r"\1[recherche]"
# An exception's message may quote a row (PostgreSQL: « Key (email)=(x@y.fr) already
# exists »), and Flask logs it with the traceback: no e-mail address reaches a log.
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
EMAIL_REDACTED = "[adresse]"


def redact(text):
    """`text` with every follow-up token replaced by « [jeton] », every inbox search by
    « [recherche] » and every e-mail address by « [adresse] »."""
    if not isinstance(text, str):
        return text
    if "@" in text:
        text = EMAIL_RE.sub(EMAIL_REDACTED, text)
    if "q=" in text.lower() or "q%3d" in text.lower():
        text = SEARCH_RE.sub(SEARCH_REDACTED, text)
    if "suivi" not in text.lower():
        return text
    return TOKEN_RE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, its arguments applied, before any handler sees it."""

    def filter(self, record):
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted here, as a handler would (and caches), so that it is redacted too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
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
