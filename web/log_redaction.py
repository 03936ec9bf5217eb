"""Secret links (and the inbox search) never reach a log.

Whoever holds `/suivi/<token>` reads and deletes a person's data (a minor's, often), a
password-reset or invitation link opens a staff account: such links are as secret as a
password. Logs are kept, copied and read by more people than the database, so every log
line this app or its server writes goes through `redact`: the gunicorn access log
(RedactingLogger, gunicorn.conf.py), gunicorn's error log, Werkzeug's development server
and Flask's own log of an exception (which names the path).

One rule for every secret link: its route takes the secret through the `secret` URL
converter (`<secret:token>`). `learn` reads the URL map and redacts, in any line, the
segment a secret converter stands for, whatever its value (a link cut or mangled in an
e-mail included); and a value of a secret's shape (secrets.token_urlsafe(32): 43
characters of URL-safe base64) is redacted wherever it appears (a query string, a
header). tests/test_log_redaction.py walks the URL map so that a new route cannot take a
secret any other way.
"""

import logging
import re

from gunicorn.glogging import Logger
from werkzeug.routing import BaseConverter

# Any run of URL-safe base64 this long is taken for a secret (no route word, no
# hashed asset name is).
SHAPE_RE = re.compile(r"[A-Za-z0-9_-]{32,}")
REDACTED = "[jeton]"
SEGMENT = r"[^/?#\s\"']+"


class SecretConverter(BaseConverter):
    """A path segment that is a secret: what `learn` redacts from every log."""


class SecretRoutes:
    """The URL map's secret segments as one pattern, and the endpoints that take a secret
    (set by `learn`)."""

    pattern = None
    endpoints = frozenset()


def learn(url_map):
    """Redact from now on the secret segments of every rule of `url_map`."""
    fixed_words, prefixes, endpoints = set(), set(), set()
    for rule in url_map.iter_rules():
        path = rule_path(rule)
        fixed_words.update(text for dynamic, text in path if not dynamic and text != "/")
        prefix = ""
        for dynamic, text in path:
            if dynamic and isinstance(rule._converters[text], SecretConverter):
                prefixes.add(prefix)
                endpoints.add(rule.endpoint)
            # A slash may come percent-encoded (/suivi%2F…), which Werkzeug decodes.
            prefix += SEGMENT if dynamic else "(?:/|%2f)" if text == "/" else re.escape(text)
    SecretRoutes.pattern = compile_pattern(prefixes, fixed_words)
    SecretRoutes.endpoints = frozenset(endpoints)


def rule_path(rule):
    """[(is_argument, text)] of a rule's path (Werkzeug's trace, after the host part)."""
    trace = rule._trace
    return trace[[text for _, text in trace].index("|") + 1 :]


def compile_pattern(prefixes, fixed_words):
    """One regex: group 1 what precedes a secret segment, then the segment itself, unless
    it is a fixed word of the map (/suivi/lien-perdu is a page, not a secret)."""
    if not prefixes:
        return None
    fixed = "|".join(sorted(map(re.escape, fixed_words), key=len, reverse=True))
    alternatives = "|".join(sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"({alternatives})(?!(?:{fixed})(?:[/?#\s\"']|$)){SEGMENT}", re.I)


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


# Control characters (a percent-decoded %0A in a path, a NUL, a terminal's escape) would
# let a request write a line of its own into the log: shown escaped, as \n or \x1b.
CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
CONTROL_NAMES = {"\n": "\\n", "\r": "\\r", "\x00": "\\0"}


def escape_controls(text):
    return CONTROL_RE.sub(lambda m: CONTROL_NAMES.get(m[0]) or f"\\x{ord(m[0]):02x}", text)


def redact(text):
    """`text` on one line, with every secret of a link replaced by « [jeton] », every
    inbox search by « [recherche] » and every e-mail address by « [adresse] »."""
    if not isinstance(text, str):
        return text
    return escape_controls(redact_secrets(text))


def redact_secrets(text):
    """redact, its line breaks kept (a traceback's)."""
    if "@" in text:
        text = EMAIL_RE.sub(EMAIL_REDACTED, text)
    if "q=" in text.lower() or "q%3d" in text.lower():
        text = SEARCH_RE.sub(SEARCH_REDACTED, text)
    if SecretRoutes.pattern is not None:
        text = SecretRoutes.pattern.sub(rf"\1{REDACTED}", text)
    return SHAPE_RE.sub(REDACTED, text)


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
            record.exc_text = redact_secrets(record.exc_text)
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
