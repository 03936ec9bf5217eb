"""Application factory: config, database, blueprints, security headers; the CLI is in cli.py."""

import copy
import datetime as dt
import os
import time
from pathlib import Path
from urllib.parse import parse_qsl

import flask
from flask import Flask, current_app, g, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, same_origin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import cached_property

import accounts
import assets
import cli
import log_redaction
import models
import vocabulary
from views import rendering


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
        (rendering.is_issued_csrf): the same checks but the signature's, which costs
        a fifth of a step's POST. False: let Flask-WTF decide."""
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return True  # nothing to protect (GET), as Flask-WTF decides
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return False
        if not rendering.is_issued_csrf(self._get_csrf_token()):
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


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class Request(flask.Request):
    def _load_form_data(self):
        super()._load_form_data()
        # Werkzeug names None a multipart part whose name it cannot read (a newline in
        # it), and Flask-WTF fails on that name (a 500): such a part is no field.
        for name in ("form", "files"):
            fields = self.__dict__[name]
            if None in fields:
                named = [(k, v) for k, v in fields.items(multi=True) if k is not None]
                self.__dict__[name] = type(fields)(named)

    @cached_property
    def args(self):
        # Werkzeug decodes the raw query string strictly: bytes that are not UTF-8 (no
        # browser sends them, a hostile client may) raised a 500. They are kept
        # percent-encoded instead, as Werkzeug already does for invalid %XX escapes.
        query = self.query_string.decode("utf-8", "werkzeug.url_quote")
        return self.parameter_storage_class(
            parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote")
        )


def create_app(config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = Request
    app.session_interface = SessionInterface()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", ""),
        DATABASE_URL=os.environ.get(
            "DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'unjeuneunmentor.db'}"
        ),
        MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        # How long unfinished answers can be resumed, and kept: see apply_draft_lifetime.
        DRAFT_MAX_AGE_HOURS=24,
        # The cookie is signed anew only when it changes (a saved step renews its
        # lifetime, at most every 5 minutes: SessionInterface), not on every page read:
        # signing costs a tenth of a step's GET.
        SESSION_REFRESH_EACH_REQUEST=False,
        # The site's address in e-mails' links; the sender's settings (outbox.py).
        PUBLIC_URL=os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        MAIL_FROM=os.environ.get("MAIL_FROM", '"1 jeune, 1 mentor" <ne-pas-repondre@localhost>'),
        SMTP_URL=os.environ.get("SMTP_URL", ""),  # "": .eml files in instance/mail/
        SMTP_TIMEOUT=30,
        WAITING_LIST_DAYS=10,
        LEAD_RETENTION_YEARS=3,
        # The scheduler's reminders (relances.py): the hand-over at this many times the
        # promised delay (0: never), the nudge of leads "en_attente", the digest's hour.
        AUTO_HANDOVER_FACTOR=3,
        EN_ATTENTE_NUDGE_DAYS=60,
        DIGEST_HOUR=7,
        OPERATOR_EMAIL=os.environ.get("OPERATOR_EMAIL", ""),
        # Proxies in front (Caddy, nginx) whose X-Forwarded-For/Proto/Host are believed:
        # 0 without one, so a client cannot pass for another address or for HTTPS.
        TRUSTED_PROXIES=os.environ.get("TRUSTED_PROXIES", "0"),
        # WTForms' own French messages, without Flask-Babel.
        WTF_I18N_ENABLED=False,
    )
    if config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(config)
    if not app.config["SECRET_KEY"]:
        raise RuntimeError(
            "SECRET_KEY manquante : définissez-la dans instance/config.py ou l'environnement."
        )

    apply_draft_lifetime(app.config)
    trust_proxies(app)
    models.init_db(app.config["DATABASE_URL"])
    register_upload_limits(app)  # before CSRFProtect, which reads the form first
    csrf.init_app(app)
    accounts.login_manager.init_app(app)
    register_request_hooks(app)
    # Flask logs an exception with its path, the development server every request line.
    log_redaction.protect(app.logger, "werkzeug")
    app.url_map.converters["secret"] = log_redaction.SecretConverter
    register_blueprints(app)
    log_redaction.learn(app.url_map)
    # One vocabulary: {{ lead.status|label("statut") }}.
    app.add_template_filter(vocabulary.jinja_label, "label")
    app.add_template_filter(vocabulary.date_fr, "date_fr")
    register_error_pages(app)
    cli.register(app)
    return app


def apply_draft_lifetime(config):
    """One lifetime for the cookie, the form's token and the draft it points to.

    A person can pause for a day (RGAA 13.1.4 asks 20 hours) without the cookie lingering
    for weeks on a shared phone. The form's token lasts as long, so a paused page still
    sends (older ones get a kind page). A draft nobody can resume is deleted.
    """
    lifetime = dt.timedelta(hours=config["DRAFT_MAX_AGE_HOURS"])
    config["PERMANENT_SESSION_LIFETIME"] = lifetime
    config["WTF_CSRF_TIME_LIMIT"] = int(lifetime.total_seconds())


def trust_proxies(app):
    """TRUSTED_PROXIES hops of X-Forwarded-* (Werkzeug's ProxyFix): the client's address,
    and HTTPS seen by the proxy, as the app must see them."""
    value = str(app.config["TRUSTED_PROXIES"]).strip()
    if not value.isdigit():
        raise RuntimeError("TRUSTED_PROXIES : un nombre de proxys (0 sans proxy devant l'app).")
    hops = app.config["TRUSTED_PROXIES"] = int(value)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


# Bodies bigger than MAX_CONTENT_LENGTH, for these endpoints only (the catalogue file).
UPLOAD_LIMITS = {"admin.importer": 2 * 1024 * 1024}


def register_upload_limits(app):
    @app.before_request
    def allow_bigger_upload():
        limit = UPLOAD_LIMITS.get(request.endpoint)
        if limit is not None:
            request.max_content_length = limit


def register_request_hooks(app):
    # No connection is taken before the first query (peewee connects on demand), so a
    # page without one (home, a step without a draft) never touches the pool. The
    # teardown gives the thread's connection back to the pool (models.pooled), which
    # rolls back whatever an error left open.
    @app.teardown_request
    def release_db(exc):
        if not models.db.is_closed():
            models.db.close()

    headers = security_headers(app)

    @app.after_request
    def add_security_headers(response):
        if request.endpoint in log_redaction.SecretRoutes.endpoints:
            rendering.private(response)  # the page's address is a secret
        # A view may be stricter (the follow-up pages: Referrer-Policy same-origin).
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    # Static files never reach Flask: WhiteNoise answers them, with the same headers.
    assets.init_app(app, headers)


def security_headers(app):
    """The headers of every response, pages and static files alike."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if app.config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def register_blueprints(app):
    from views import admin, communes, espace, public, questionnaire, statistiques, suivi

    app.register_blueprint(public.bp)
    app.register_blueprint(questionnaire.bp)
    app.register_blueprint(communes.bp)
    app.register_blueprint(espace.bp)
    app.register_blueprint(statistiques.bp)
    app.register_blueprint(suivi.bp)
    app.register_blueprint(admin.bp)


def register_error_pages(app):
    from views.rendering import current_url, is_partial, private, render

    @app.errorhandler(CSRFError)
    def csrf_expired(error):
        # Answers already saved are in the draft: the same URL picks up where they were.
        if request.endpoint == "questionnaire.choisir":
            retry_url = url_for("questionnaire.resultat", **request.view_args)
        else:
            retry_url = current_url() or url_for("public.accueil")
        return render("errors/csrf.html", status=400, retry_url=retry_url)

    @app.errorhandler(400)
    def bad_request(error):
        return render("errors/400.html", status=400)

    @app.errorhandler(404)
    def not_found(error):
        if request.path.startswith("/suivi/"):
            # A follow-up link cut or mangled in an e-mail: say how to get it again.
            from views import suivi

            return private(suivi.not_found())
        return render("errors/404.html", status=404)

    @app.errorhandler(405)
    def method_not_allowed(error):
        response = render("errors/400.html", status=405)
        if error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(413)
    def too_large(error):
        return render("errors/400.html", status=413)

    @app.errorhandler(500)
    def server_error(error):
        # Plain render_template, nothing that could fail again; htmx gets the region.
        partial = is_partial()
        layout = "partial.html" if partial else "base.html"
        return render_template("errors/500.html", layout=layout, partial=partial), 500
