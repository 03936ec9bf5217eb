"""The session cookie: Flask's signed cookie session, without unsigning the cookies this
worker signed (moved from app.py)."""

import copy
import time

from flask import request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

# An unchanged session cookie is signed anew only once it is this old (should_set_cookie).
COOKIE_RENEWAL_SECONDS = 300


class RememberingSerializer(URLSafeTimedSerializer):
    """Flask's session serializer, remembering what it signed (SessionInterface)."""

    def __init__(self, *args, remembered, **kwargs):
        super().__init__(*args, **kwargs)
        self.remembered = remembered

    def dumps(self, obj, salt=None):
        signed_at = time.time()  # before signing: the cookie is at least this old
        signed = super().dumps(obj, salt)
        # What loads would give back (the tagged JSON's round trip), not `obj` itself.
        self.remember(signed, self.serializer.loads(self.serializer.dumps(obj)), signed_at)
        return signed

    def remember(self, signed, data, signed_at):
        if len(self.remembered) >= SessionInterface.MAX_REMEMBERED:
            self.remembered.clear()  # bounded memory; they are read the long way
        self.remembered[signed] = (copy.deepcopy(data), signed_at)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, without unsigning the cookies this worker signed.

    Unsigning a cookie (base64, zlib, HMAC, tagged JSON) costs a tenth of a step. The
    cookies a worker sets are the ones its next requests bring back: it remembers what
    each held, and takes a copy back while the cookie is younger than its lifetime,
    which is what loads checks. Any other cookie (another worker's, a forged one) is
    read by Flask's code.
    """

    MAX_REMEMBERED = 10_000

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or []), app.secret_key)
        cached = app.extensions.get("session_serializer")
        if cached is None or cached.keys != keys:  # one per set of keys
            cached = app.extensions["session_serializer"] = RememberingSerializer(
                keys,
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
                remembered={},
            )
            cached.keys = keys
        return cached

    def known_cookie(self, app, request):
        """(data, signed_at) of the request's cookie when this worker knows it."""
        serializer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        known = serializer.remembered.get(value) if serializer and value else None
        lifetime = app.permanent_session_lifetime.total_seconds()
        return known if known and time.time() - known[1] <= lifetime else None

    def open_session(self, app, request):
        if known := self.known_cookie(app, request):
            return self.session_class(copy.deepcopy(known[0]))
        # Flask's open_session, the cookie then known (signed by another worker).
        serializer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not value:
            return None if serializer is None else self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        serializer.remember(value, data, signed_at.timestamp())
        return self.session_class(data)

    def save_session(self, app, session, response):
        # Flask's, which works out every cookie setting before finding, on a page read,
        # that there is nothing to set: that case answered first, as Flask answers it.
        accessed = session.accessed  # before .permanent, which counts as an access
        refresh = app.config["SESSION_REFRESH_EACH_REQUEST"] and session.permanent
        if not session.modified and not refresh:
            if accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def should_set_cookie(self, app, session):
        """Also not when the cookie brought back holds the same data and was signed less
        than COOKIE_RENEWAL_SECONDS ago: each answer of the same draft would otherwise
        sign an identical cookie (a fifth of a step's POST) only to push its expiry by
        seconds. The cookie then lasts its lifetime from at most that long before the
        last saved step."""
        if not super().should_set_cookie(app, session):
            return False
        known = self.known_cookie(app, request)
        fresh = known and time.time() - known[1] < COOKIE_RENEWAL_SECONDS
        return not (fresh and known[0] == dict(session))
