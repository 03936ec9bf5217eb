"""Home page and the mandatory pages (legal notice, personal data, accessibility, site map)."""

from flask import Blueprint, abort, current_app

from views.rendering import render

bp = Blueprint("public", __name__)

# slug -> (page title, template). A slug not listed here is a 404.
PAGES = {
    "mentions-legales": ("Mentions légales", "pages/mentions-legales.html"),
    "donnees-personnelles": ("Données personnelles", "pages/donnees-personnelles.html"),
    "accessibilite": ("Déclaration d'accessibilité", "pages/accessibilite.html"),
    "plan-du-site": ("Plan du site", "pages/plan-du-site.html"),
}

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


def operator_info():
    config = current_app.config
    info = {key: (config.get(name) or "").strip() for key, name in OPERATOR_KEYS.items()}
    info["demo"] = not info["name"]
    info["https"] = bool(config.get("SESSION_COOKIE_SECURE"))
    info["draft_days"] = config.get("DRAFT_MAX_AGE_DAYS", 30)
    info["lead_years"] = config.get("LEAD_RETENTION_YEARS", 3)
    return info


@bp.get("/")
def accueil():
    return render("accueil.html")


@bp.get("/<slug>")
def page(slug):
    if slug not in PAGES:
        abort(404)
    title, template = PAGES[slug]
    return render(template, title=title, operator=operator_info(), pages=PAGES)
