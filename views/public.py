"""Home page and the mandatory pages."""

from flask import Blueprint, abort
from jinja2 import TemplateNotFound

from views.rendering import render

bp = Blueprint("public", __name__)

PAGES = {
    "mentions-legales": "Mentions légales",
    "donnees-personnelles": "Données personnelles",
    "accessibilite": "Déclaration d'accessibilité",
    "plan-du-site": "Plan du site",
}


@bp.get("/")
def accueil():
    return render("accueil.html")


@bp.get("/<slug>")
def page(slug):
    if slug not in PAGES:
        abort(404)
    try:
        return render(f"pages/{slug}.html", title=PAGES[slug])
    except TemplateNotFound:
        abort(404)
