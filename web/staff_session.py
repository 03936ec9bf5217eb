"""A staff session's limits: it ends after STAFF_IDLE_MINUTES without a request and
STAFF_SESSION_HOURS after the login, whatever the cookie's own lifetime (which the
questionnaire's drafts set). The times are in the signed session, so every worker
agrees; a session without them (older than this rule) has ended."""

import time

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

LOGIN_AT = "login_at"
SEEN_AT = "seen_at"
# Logged in without the second factor it must have: only the enrolment page (and logout)
# open until it is set up (views/espace/double_auth.py).
MUST_ENROL = "mfa_must_enrol"
ENROLMENT_ENDPOINTS = {
    "espace.double_authentification",
    "espace.double_authentification_commencer",
    "espace.double_authentification_activer",
    "espace.deconnexion",
}
# seen_at is written at most this often, so a page read does not re-sign the cookie.
SEEN_GRANULARITY = 60
EXPIRED = "Votre session a expiré : connectez-vous à nouveau."


def start(now=None):
    """At login: the session's clock starts, and its CSRF token is a new one."""
    now = int(now or time.time())
    session[LOGIN_AT] = session[SEEN_AT] = now
    session.pop(MUST_ENROL, None)
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)


def expired(now):
    config = current_app.config
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not (isinstance(login_at, int) and isinstance(seen_at, int)):
        return True
    return (
        now - seen_at > config["STAFF_IDLE_MINUTES"] * 60
        or now - login_at > config["STAFF_SESSION_HOURS"] * 3600
    )


def init_app(app):
    @app.before_request
    def enforce_limits():
        if request.endpoint == "static" or "_user_id" not in session:
            return None
        now = int(time.time())
        if not current_user.is_authenticated:
            return None
        if expired(now):
            logout_user()
            for key in (LOGIN_AT, SEEN_AT, MUST_ENROL):
                session.pop(key, None)
            flash(EXPIRED, "info")
            return redirect(url_for("espace.connexion", next=request.full_path.rstrip("?")))
        if now - session[SEEN_AT] >= SEEN_GRANULARITY:
            session[SEEN_AT] = now
        if session.get(MUST_ENROL) and request.endpoint not in ENROLMENT_ENDPOINTS:
            return redirect(url_for("espace.double_authentification"))
        return None
