"""Commune suggestions for the autocomplete: an HTML fragment, never an error."""

from flask import Blueprint, make_response, render_template, request

from services import territory

bp = Blueprint("communes", __name__)

# The combobox's input (name and id): htmx sends its text under that name, and the
# option and status ids are built from it.
FIELD = "commune"


@bp.get("/communes/suggestions")
def suggestions():
    query = request.args.get(FIELD, "")
    places = territory.search(query)
    response = make_response(
        render_template(
            "communes/suggestions.html",
            places=places,
            field_id=FIELD,
            status=status_text(query, places),
        )
    )
    # The same answer for everyone, but what a person types stays in their browser.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def status_text(query, places):
    """What the live region says; nothing while the text is too short to search."""
    if not territory.searchable(query):
        return ""
    if not places:
        return "Aucune commune trouvée"
    if all(p.approximate for p in places):
        # The nearest names follow in the list, as options.
        return f"Aucune commune ne commence par « {query.strip()} ». Vouliez-vous dire :"
    if len(places) == 1:
        return "1 commune trouvée"
    return f"{len(places)} communes trouvées"
