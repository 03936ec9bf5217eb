"""Home page and the mandatory pages (legal notice, personal data, accessibility, site map),
plus what browsers and crawlers ask for at the root: /robots.txt and /favicon.ico."""

from flask import Blueprint, current_app, make_response, redirect, send_from_directory, url_for

from services import health
from views.rendering import private, render

bp = Blueprint("public", __name__)

# slug -> (page title, template).
PAGES = {
    "mentions-legales": ("Mentions légales", "pages/mentions-legales.html"),
    "donnees-personnelles": ("Données personnelles", "pages/donnees-personnelles.html"),
    "accessibilite": ("Déclaration d'accessibilité", "pages/accessibilite.html"),
    "plan-du-site": ("Plan du site", "pages/plan-du-site.html"),
}
# Only these slugs (quoted: they hold hyphens); any other root path is left to its own
# rule (/jeune, /robots.txt) or to the 404 page.
PAGES_RULE = "/<any({}):slug>".format(", ".join(f'"{slug}"' for slug in PAGES))

# Facts only the operator who deploys the service knows. Each one is read from the
# configuration; an empty value is shown as "not declared", never replaced by a made-up fact.
OPERATOR_KEYS = {
    "name": "OPERATOR_NAME",
    "email": "OPERATOR_EMAIL",
    "address": "OPERATOR_ADDRESS",
    "director": "OPERATOR_PUBLICATION_DIRECTOR",
    "host": "OPERATOR_HOSTING",
    "source_url": "SOURCE_CODE_URL",
    "accessibility_date": "ACCESSIBILITY_STATEMENT_DATE",
}

# Results (a person's demande) and the autocomplete's fragments are nobody's search result.
ROBOTS_TXT = """\
User-agent: *
Disallow: /jeune/resultat/
Disallow: /mentor/resultat/
Disallow: /jeune/verifier
Disallow: /mentor/verifier
Disallow: /communes/
Disallow: /s/
Disallow: /suivi/
Allow: /
"""


def operator_info():
    config = current_app.config
    info = {key: (config.get(name) or "").strip() for key, name in OPERATOR_KEYS.items()}
    info["https"] = bool(config.get("SESSION_COOKIE_SECURE"))
    info["draft_hours"] = config["DRAFT_MAX_AGE_HOURS"]
    info["lead_years"] = config.get("LEAD_RETENTION_YEARS", 3)
    return info


@bp.app_context_processor
def demo_instance():
    """No operator declared: every page may say it is a demonstration (home, contact
    steps, legal pages), from this one rule."""
    return {"demo": not (current_app.config.get(OPERATOR_KEYS["name"]) or "").strip()}


@bp.get("/")
def accueil():
    return render("accueil.html")


# For uptime monitors: 200 "ok", or 503 with the reason (never a 500, no personal data).
# Not rate-limited: if Flask-Limiter comes, exempt it (@limiter.exempt).
@bp.get("/healthz")
def healthz():
    ok, reason = health.check(current_app.config["HEALTH_TICK_MINUTES"])
    response = make_response(f"{reason}\n", 200 if ok else 503)
    response.mimetype = "text/plain"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/robots.txt")
def robots_txt():
    response = make_response(ROBOTS_TXT)
    response.mimetype = "text/plain"
    return response


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon">: same SVG.
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )


@bp.get("/s/<secret:token>")
def short_link(token):
    """The follow-up link's short form, sent by SMS (mail/sms.py): one SMS, not two.
    The follow-up page checks the token (and says « introuvable »)."""
    return private(redirect(url_for("suivi.page", token=token), 303))


@bp.get(PAGES_RULE)
def page(slug):
    title, template = PAGES[slug]
    return render(template, title=title, operator=operator_info(), pages=PAGES)
