"""Application factory: config, database, blueprints, security headers; the CLI is in cli.py."""

import datetime as dt
import os
from pathlib import Path

from flask import Flask, render_template, request, url_for
from flask_wtf.csrf import CSRFError

import cli
import models
from mail import sms
from services import accounts
from views.rendering import private
from web import access_log, assets, draining, limits, log_redaction, staff_session, templating
from web.csrf import csrf
from web.headers import security_headers
from web.proxies import trust_proxies
from web.request import Request
from web.session import SessionInterface


def create_app(config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = Request
    app.session_interface = SessionInterface()
    models.private_directory(app.instance_path)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", ""),
        # Every server shares one SECRET_KEY. To change it, the old one goes here (comma-
        # separated in the environment) for a day: its sessions stay valid meanwhile.
        SECRET_KEY_FALLBACKS=split_list(os.environ.get("SECRET_KEY_FALLBACKS", "")),
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
        # SMS (mail/sms.py): the provider ("": files in instance/sms/, "off": none, brevo://…,
        # twilio://…), and the costs' caps: SMS a day to one number, and to all.
        SMS_URL=os.environ.get("SMS_URL", ""),
        SMS_CAP_PER_NUMBER=3,
        SMS_CAP_PER_DAY=200,
        SMS_TIMEOUT=30,
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
        # Operations (docs/exploitation.md): where `flask backup` writes and how many
        # backups it keeps; /healthz's 503 when the last good tick is older than this.
        BACKUP_DIR=os.environ.get("BACKUP_DIR", ""),  # "": instance/sauvegardes
        BACKUP_KEEP=int(os.environ.get("BACKUP_KEEP", "14")),
        HEALTH_TICK_MINUTES=int(os.environ.get("HEALTH_TICK_MINUTES", "10")),
        # Rate limits (web/limits.py, docs/limites.md): where counts live (redis://… for
        # several servers); each limit (LIMIT_DEMANDES…) defaults in limits.DEFAULTS.
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        **{name: os.environ[name] for name in limits.DEFAULTS if name in os.environ},
        # The questionnaires' time trap: a sending faster than this, from the first saved
        # step, is a robot's (drafts.sent_by_a_robot).
        MIN_FILL_SECONDS=int(os.environ.get("MIN_FILL_SECONDS", "5")),
        # The same person sending again within this many hours is linked to their first
        # demande (drafts.submit; 0: never).
        SENT_AGAIN_HOURS=int(os.environ.get("SENT_AGAIN_HOURS", "24")),
        # Confirmation e-mails one address may receive per 24 h (suivi.may_confirm_to).
        CONFIRMATIONS_PER_DAY=int(os.environ.get("CONFIRMATIONS_PER_DAY", "3")),
        # HSTS (with SESSION_COOKIE_SECURE=1) covers the subdomains too (web/headers.py).
        HSTS_INCLUDE_SUBDOMAINS=os.environ.get("HSTS_INCLUDE_SUBDOMAINS", "1") == "1",
        # WTForms' own French messages, without Flask-Babel.
        WTF_I18N_ENABLED=False,
        # Staff accounts (issue 12, docs/security.md): a session ends after this long
        # idle, or this long after the login; the security journal's retention.
        STAFF_IDLE_MINUTES=int(os.environ.get("STAFF_IDLE_MINUTES", "30")),
        STAFF_SESSION_HOURS=int(os.environ.get("STAFF_SESSION_HOURS", "12")),
        JOURNAL_RETENTION_DAYS=int(os.environ.get("JOURNAL_RETENTION_DAYS", "365")),
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
    apply_cookie_names(app.config)
    # A wrong SMS_URL stops the start with its French message, never a submit later.
    sms.settings_from(app.config, app.instance_path)
    trust_proxies(app)
    app.wsgi_app = draining.middleware(app.wsgi_app)  # a stopping server leaves the proxy
    models.init_db(app.config["DATABASE_URL"])
    register_upload_limits(app)  # before CSRFProtect, which reads the form first
    csrf.init_app(app)
    accounts.login_manager.init_app(app)
    staff_session.init_app(app)
    access_log.init_app(app)
    register_request_hooks(app)
    # Flask logs an exception with its path, the development server every request line.
    log_redaction.protect(app.logger, "werkzeug")
    app.url_map.converters["secret"] = log_redaction.SecretConverter
    limits.init_app(app)
    register_blueprints(app)
    limits.apply_route_limits(app)
    log_redaction.learn(app.url_map)
    templating.register(app)
    register_error_pages(app)
    cli.register(app)
    return app


def split_list(value):
    """ "a, b" -> ["a", "b"] (an environment variable's list)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def apply_draft_lifetime(config):
    """One lifetime for the cookie, the form's token and the draft it points to.

    A person can pause for a day (RGAA 13.1.4 asks 20 hours) without the cookie lingering
    for weeks on a shared phone. The form's token lasts as long, so a paused page still
    sends (older ones get a kind page). A draft nobody can resume is deleted.
    """
    lifetime = dt.timedelta(hours=config["DRAFT_MAX_AGE_HOURS"])
    config["PERMANENT_SESSION_LIFETIME"] = lifetime
    config["WTF_CSRF_TIME_LIMIT"] = int(lifetime.total_seconds())


def apply_cookie_names(config):
    """Over HTTPS the cookies are `__Host-` ones: the browser then refuses them unless
    Secure, for this host only and the whole site (no subdomain can set or read them)."""
    if config["SESSION_COOKIE_SECURE"]:
        config.setdefault("SESSION_COOKIE_NAME", "session")
        if not config["SESSION_COOKIE_NAME"].startswith("__Host-"):
            config["SESSION_COOKIE_NAME"] = "__Host-" + config["SESSION_COOKIE_NAME"]
        config["SESSION_COOKIE_DOMAIN"] = None
        config["SESSION_COOKIE_PATH"] = "/"
        config["REMEMBER_COOKIE_NAME"] = "__Host-remember_token"
        config["REMEMBER_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_DOMAIN"] = None
        config["REMEMBER_COOKIE_PATH"] = "/"


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
            private(response)  # the page's address is a secret
        # A view may be stricter (the follow-up pages: Referrer-Policy same-origin).
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    # Static files never reach Flask: WhiteNoise answers them, with the same headers.
    assets.init_app(app, headers)


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
    from views.rendering import current_url, is_partial, render

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
        if request.path.startswith("/espace/"):  # inside the espace, its own layout
            return render("espace/introuvable.html", status=404)
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

    @app.errorhandler(429)
    def too_many_requests(error):
        # Nothing was saved of this request; the same URL shows the answers kept.
        seconds = limits.retry_after()
        response = render(
            "errors/429.html",
            status=429,
            retry_url=current_url() or url_for("public.accueil"),
            wait=limits.wait_text(seconds),
            questionnaire=request.blueprint == "questionnaire",
        )
        response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(500)
    def server_error(error):
        # Plain render_template, nothing that could fail again; htmx gets the region.
        partial = is_partial()
        layout = "partial.html" if partial else "base.html"
        return render_template("errors/500.html", layout=layout, partial=partial), 500
