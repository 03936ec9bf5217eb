"""Full page or htmx fragment from the same template and the same URL."""

import hmac
import time
from urllib.parse import urlencode

from flask import current_app, g, make_response, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf

# A session's signed CSRF token is reused this long: signing (itsdangerous, JSON, zlib,
# HMAC) and checking the signature cost a fifth of a step. The token still expires within
# WTF_CSRF_TIME_LIMIT of being signed, so a page served from a reused token stays valid
# up to this much less than the limit (24 h): still more than a day's pause allows.
CSRF_REUSE_SECONDS = 300
MAX_ISSUED_TOKENS = 10_000


def private(response):
    """Headers of a page whose address is a secret (a follow-up, reset or invitation
    link): never sent to another site, never cached by a browser or proxy, never indexed.
    Our own pages get it as Referer: over HTTPS Flask-WTF's CSRF check refuses a form's
    POST without one, and our logs redact it (log_redaction.py)."""
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def is_partial():
    # htmx 4 sends HX-Request-Type "full" for history restores and boosted loads.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Request-Type") != "full"
    )


def current_url():
    """The URL asked for, rebuilt from its route and percent-encoded, or None when no
    route matched. Never the raw path: it may hold an emoji, a newline or a NUL, which
    no response header may carry."""
    if request.url_rule is None:
        return None
    url = url_for(request.endpoint, **request.view_args)
    if request.args:
        url += "?" + urlencode(list(request.args.items(multi=True)))
    return url


def render(template, status=200, **context):
    """Render `template` (which extends `layout`) as a page or as the swapped region."""
    return respond(render_html(template, **context), status)


def render_html(template, **context):
    partial = is_partial()
    layout = "partial.html" if partial else "base.html"
    return render_template(template, layout=layout, partial=partial, **context)


def respond(html, status=200):
    """The response of a page rendered by render_html (the headers of `render`)."""
    response = make_response(html, status)
    response.headers["Vary"] = "HX-Request, HX-Request-Type"
    if request.method == "POST":
        # A page answering a POST (422, choice of commune) is the same URL: pushing it
        # again would make the back button stay on the page once per error.
        response.headers["HX-Push-Url"] = "false"
    elif request.headers.get("HX-History-Restore-Request") == "true" and (url := current_url()):
        # Back to a page that now redirects (the check page once sent): show the URL
        # of what is displayed.
        response.headers["HX-Replace-Url"] = url
    return response


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
