"""Rate limits on the public forms and the staff login (Flask-Limiter), see docs/limites.md.

One Limiter per app (so two apps in one process never share a store); counts live in
RATELIMIT_STORAGE_URI: `memory://` (one process) or `redis://…`, shared by every worker
and server. The client is `request.remote_addr`, as web/proxies.py leaves it: a
X-Forwarded-For is believed only from TRUSTED_PROXIES hops. A hit is one atomic operation
of the store (a Lua script on Redis), so parallel requests cannot pass a limit together.
"""

import math
import time

from flask import current_app, request
from flask_limiter import Limiter

from services import accounts

# endpoint -> [(setting, what the count is keyed by)]. Only POSTs count: reading a page
# costs nothing to anyone, sending one may cost an association a phone call.
ROUTE_LIMITS = {
    "questionnaire.verifier": [("LIMIT_DEMANDES", "address")],
    "questionnaire.step": [("LIMIT_ETAPES", "address")],
    "suivi.lien_perdu": [("LIMIT_LIEN_PERDU", "address"), ("LIMIT_LIEN_PERDU_EMAIL", "email")],
    "espace.connexion": [("LIMIT_CONNEXION", "address")],
    "espace.mot_de_passe_oublie": [("LIMIT_MOT_DE_PASSE", "address")],
}

# Defaults a classroom or a Mission locale behind one address can live with.
DEFAULTS = {
    "LIMIT_DEMANDES": "30 per hour",
    "LIMIT_ETAPES": "300 per minute",
    "LIMIT_LIEN_PERDU": "20 per hour",
    "LIMIT_LIEN_PERDU_EMAIL": "10 per hour",
    "LIMIT_CONNEXION": "30 per minute",
    "LIMIT_MOT_DE_PASSE": "10 per hour",
}


def client_address():
    return request.remote_addr or "inconnue"


def typed_email():
    """The address typed in the form, as the throttle of accounts counts it; the client's
    own address when none was typed (the form then refuses it anyway). Hashed: no
    address reaches the store."""
    typed = request.form.get("email", "").strip()
    return f"email:{accounts.account_key(typed)}" if typed else client_address()


KEYS = {"address": client_address, "email": typed_email}


def init_app(app):
    """The app's Limiter (the route limits: apply_route_limits)."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # Redis unreachable: the forms keep working, unlimited, and the error is logged
    # (flask-limiter's logger), rather than every public page answering 500.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter = Limiter(key_func=client_address, app=app, headers_enabled=False)
    app.extensions["app_limiter"] = limiter
    return limiter


def apply_route_limits(app):
    """Wrap the views of ROUTE_LIMITS (after their blueprints are registered)."""
    limiter = app.extensions["app_limiter"]
    for endpoint, limits in ROUTE_LIMITS.items():
        view = app.view_functions[endpoint]
        for setting, key in limits:
            view = limiter.limit(
                setting_reader(setting), key_func=KEYS[key], methods=["POST"], scope=setting
            )(view)
        app.view_functions[endpoint] = view


def setting_reader(name):
    return lambda: current_app.config[name]


def retry_after():
    """Seconds until the breached limit lets a request through again (at least 1)."""
    limit = current_app.extensions["app_limiter"].current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))


def wait_text(seconds):
    """« 1 minute », « 12 minutes », « 2 heures »: how long the 429 page asks to wait."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    return f"{math.ceil(minutes / 60)} heures"
