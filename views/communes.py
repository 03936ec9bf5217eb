"""Commune suggestions for the autocomplete: an HTML fragment, never an error."""

import re

from flask import Blueprint, make_response, render_template, request

import territory

bp = Blueprint("communes", __name__)

# The combobox's input id: option and status ids are built from it.
FIELD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
DEFAULT_FIELD_ID = "commune"


@bp.get("/communes/suggestions")
def suggestions():
    query = request.args.get("q", "")
    field_id = request.args.get("field", "")
    if not FIELD_ID.fullmatch(field_id):
        field_id = DEFAULT_FIELD_ID
    places = territory.search(query)
    response = make_response(
        render_template(
            "communes/suggestions.html",
            places=places,
            field_id=field_id,
            status=status_text(query, places),
        )
    )
    # Same answer for everyone (no cookie, no session): shared caches may keep it.
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def status_text(query, places):
    """What the live region says; nothing while the text is too short to search."""
    if not territory.searchable(query):
        return ""
    if not places:
        return "Aucune commune trouvée"
    if len(places) == 1:
        return "1 commune trouvée"
    return f"{len(places)} communes trouvées"
