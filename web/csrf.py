"""CSRF: Flask-WTF's protection (CSRF, app-wide) and the shortcuts that spare a signature:
a session's signed token reused for a while (csrf_token), and a token this worker signed
checked without its signature (is_issued_csrf). Moved from app.py and views/rendering.py."""

import hmac
import time

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf, same_origin

# A session's signed CSRF token is reused this long: signing (itsdangerous, JSON, zlib,
# HMAC) and checking the signature cost a fifth of a step. The token still expires within
# WTF_CSRF_TIME_LIMIT of being signed, so a page served from a reused token stays valid
# up to this much less than the limit (24 h): still more than a day's pause allows.
CSRF_REUSE_SECONDS = 300
MAX_ISSUED_TOKENS = 10_000


class CSRF(CSRFProtect):
    def protect(self, *args, **kwargs):
        # Over HTTPS Flask-WTF compares the Referer with the host through urlparse,
        # which raises ValueError (a 500) on junk such as "http://[": a Referer that is
        # no URL is no page of ours.
        try:
            if not self.protect_issued(*args, **kwargs):
                super().protect(*args, **kwargs)
        except ValueError as error:
            raise CSRFError("The referrer header is malformed.") from error

    def protect_issued(self, apply_exemptions=False):
        """Flask-WTF's protect for a token this worker signed for this session
        (is_issued_csrf): the same checks but the signature's, which costs
        a fifth of a step's POST. False: let Flask-WTF decide."""
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return True  # nothing to protect (GET), as Flask-WTF decides
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return False
        if not is_issued_csrf(self._get_csrf_token()):
            return False
        if request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]:
            # Flask-WTF's referrer check, as it writes it.
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True
        return True


csrf = CSRF()


class IssuedTokens:
    """The CSRF tokens this worker signed: by session token (for reuse) and by signed
    token (so that checking one needs no signature: it is ours, for that session)."""

    def __init__(self):
        self.by_raw = {}  # raw session token -> (signed, signed_at)
        self.by_signed = {}  # signed -> (raw, signed_at)

    def add(self, raw, signed, signed_at):
        if len(self.by_signed) >= MAX_ISSUED_TOKENS:  # bounded memory; they are re-signed
            self.by_raw.clear()
            self.by_signed.clear()
        self.by_raw[raw] = (signed, signed_at)
        self.by_signed[signed] = (raw, signed_at)


def issued_tokens():
    return current_app.extensions.setdefault("issued_csrf_tokens", IssuedTokens())


def csrf_token():
    """Flask-WTF's generate_csrf (same token, same signature), signed at most once per
    CSRF_REUSE_SECONDS for a session."""
    if "csrf_token" not in g:
        tokens = issued_tokens()
        raw = session.get("csrf_token")
        signed, signed_at = tokens.by_raw.get(raw, (None, 0)) if isinstance(raw, str) else (None, 0)
        if signed and time.time() - signed_at < CSRF_REUSE_SECONDS:
            g.csrf_token = signed
        else:
            signed_at = time.time()  # before signing: the token is at least this old
            signed = generate_csrf()
            tokens.add(session["csrf_token"], signed, signed_at)
    return g.csrf_token


def is_issued_csrf(signed):
    """True when `signed` is a token this worker signed for this session, younger than
    WTF_CSRF_TIME_LIMIT: what Flask-WTF's validate_csrf checks, without the signature
    (False sends it to validate_csrf, which says why it fails)."""
    issued = issued_tokens().by_signed.get(signed) if signed else None
    raw = session.get("csrf_token")
    if issued is None or not isinstance(raw, str):
        return False
    issued_raw, signed_at = issued
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)  # None: no limit
    if limit is not None and time.time() - signed_at > limit:
        return False
    return hmac.compare_digest(raw, issued_raw)
