"""Every filter and global the templates use that is not Flask's own, registered here
in one place (`register`, called by app.py's factory). The views/espace/ blueprints still
register their own few (`iso_utc`, `event_label`, the staff menu): to move here."""

import datetime as dt

from domain import dates, ecriture, phones, vocabulary
from views import rendering


def error_link(field):
    """(href, message) of a field's error for the summary: radios and checkboxes
    link to their first box."""
    grouped = field.type in ("RadioField", "SelectMultipleField")
    return (f"#{field.id}-0" if grouped else f"#{field.id}", field.errors[0])


def aria(field):
    """aria-describedby / aria-invalid for a field, omitted when empty."""
    ids = []
    if field.description:
        ids.append(f"{field.id}-hint")
    if field.errors:
        ids.append(f"{field.id}-error")
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs


def days_since(moment, now):
    """Whole days from a stored moment to `now` (the operator's lists), never negative."""
    return max(0, (now - moment) // dt.timedelta(days=1))


FILTERS = {
    # One vocabulary: {{ lead.status|label("statut") }}.
    "label": vocabulary.jinja_label,
    # French dates, Paris time (domain/dates.py).
    "jour": dates.day,  # « 8 décembre 2026 »
    "date_courte": dates.short,  # « 08/12/2026 »
    "date_fr": dates.with_time,  # « 08/12/2026 à 14 h 05 »
    "jours_depuis": days_since,
    # Phone numbers are shown one way everywhere; tel: links take their E.164 form.
    "phone": phones.display,
    "tel_href": phones.href,
    "error_link": error_link,
    "de": ecriture.de,  # « de Paul », « d'Inès »
}
GLOBALS = {
    "page_title": rendering.page_title,
    "aria": aria,
    "offer_title": ecriture.offer_title,
}


def register(app):
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
    for name, function in GLOBALS.items():
        app.add_template_global(function, name)
