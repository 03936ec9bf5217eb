"""The inbox (/espace/): the list of leads with its filters, the selection, and the CSV
export.

Every route is for an association's staff (accounts.staff_required) and reads only leads
routed to the user's association.
Filters travel in the URL (links and GET forms: a filtered inbox can be shared); with
htmx the list region is swapped in place, without JS the same URL is a full page.
"""

from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user

import models
from domain import lifecycle, workdays
from services import demandes as actions
from services import exports, inbox, journal
from services.accounts import staff_required
from views.rendering import page_title, render

from . import bp
from .lead import REFERENCE_RE, association

QUERY_KEYS = ("statut", "type", "besoin", "departement", "retard", "q", "tri", "page", "par_page")


@bp.after_request
def no_store(response):
    # Names, phone numbers and notes: never kept by a browser or a proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Filters from the URL -------------------------------------------------------------------


def parse_filters(args):
    """Filters from the query string, and the errors of the values that are none of ours
    (each error: the field's id and a French message; the value is then ignored)."""
    errors = []
    values = {}

    def pick(name, allowed, message, attr):
        value = args.get(name, "")
        if value == "":
            return
        if value in allowed:
            values[attr] = value
        else:
            errors.append((f"filtre-{name}", message))

    pick("statut", [*inbox.STATUS_LABELS, inbox.ALL], "Choisissez un statut de la liste", "status")
    q = args.get("q", "").strip()
    pick("type", list(inbox.KIND_LABELS), "Choisissez demandes ou candidatures", "kind")
    pick("besoin", list(inbox.BESOIN_LABELS), "Choisissez un besoin de la liste", "besoin")
    departement = args.get("departement", "")
    if departement:
        if len(departement) <= 3 and departement.isalnum():
            values["departement"] = departement.upper()
        else:
            errors.append(("filtre-departement", "Choisissez un département de la liste"))
    late = args.get("retard", "")
    if late not in ("", "1"):
        errors.append(("filtre-retard", "Le filtre « en retard » est coché ou non"))
    values["late"] = late == "1"
    if len(q) > inbox.SEARCH_MAX:
        message = f"La recherche doit faire {inbox.SEARCH_MAX} caractères au plus"
        errors.append(("filtre-q", message))
    elif q and any(not ch.isprintable() for ch in q):
        errors.append(("filtre-q", "La recherche contient des caractères non valides"))
    else:
        values["q"] = q
    sort = args.get("tri", "")
    if sort:
        if sort.lstrip("-") in inbox.SORTS and sort.count("-") <= 1:
            values["sort"] = sort
        else:
            errors.append(("resultats", "Choisissez un tri de la liste"))
    page = args.get("page", "")
    if page:
        if page.isdigit() and 0 < len(page) <= 6:
            values["page"] = int(page)
        else:
            errors.append(("pagination", "Le numéro de page n'est pas valable"))
    per_page = args.get("par_page", "")
    if per_page:
        if per_page in [str(size) for size in inbox.PAGE_SIZES]:
            values["per_page"] = int(per_page)
        else:
            errors.append(("filtre-par_page", "Choisissez 25 ou 50 par page"))
    values.setdefault("status", inbox.default_status(values.get("q", "")))
    return inbox.Filters(**values), errors


def query_args(filters, **changes):
    """The query string of `filters` (defaults left out), with `changes` applied."""
    args = {
        "statut": filters.status if filters.status != inbox.default_status(filters.q) else "",
        "type": filters.kind,
        "besoin": filters.besoin,
        "departement": filters.departement,
        "retard": "1" if filters.late else "",
        "q": filters.q,
        "tri": filters.sort if filters.sort != inbox.DEFAULT_SORT else "",
        "page": str(filters.page) if filters.page > 1 else "",
        "par_page": str(filters.per_page) if filters.per_page != inbox.PAGE_SIZES[0] else "",
    }
    args.update(changes)
    return {key: value for key, value in args.items() if value}


def inbox_url(filters, **changes):
    return url_for("espace.demandes", **query_args(filters, **changes))


# --- The inbox ------------------------------------------------------------------------------


@bp.get("/")
@staff_required
def demandes():
    filters, errors = parse_filters(request.args)
    page = inbox.page(association(), filters)
    return render(
        "espace/demandes.html",
        status=400 if errors else 200,
        page=page,
        filters=page.filters,
        error_links=[(f"#{field_id}", message) for field_id, message in errors],
        inbox_url=inbox_url,
        labels=inbox,
        query=urlencode(query_args(page.filters, page="")),
        swapped=list_swapped(),
        filter_count=filter_count(page.filters),
        sort_links=sort_links(page.filters),
        title=inbox_title(page, bool(errors)),
    )


def filter_count(filters):
    """How many of the filters behind « Filtrer (n) » are set (the search is outside)."""
    defaults = inbox.Filters()
    return sum(
        getattr(filters, name) != getattr(defaults, name)
        for name in ("kind", "besoin", "departement", "late", "per_page")
    )


def sort_links(filters):
    """{column: (href, aria-sort)} of the table's sortable headers: a click sorts by
    that column, a second click the other way."""
    links = {}
    for key in inbox.SORTS:
        current = filters.sort.lstrip("-") == key
        descending = filters.sort.startswith("-")
        target = f"-{key}" if current and not descending else key
        state = ("descending" if descending else "ascending") if current else ""
        links[key] = (inbox_url(filters, tri=target, page=""), state)
    return links


def list_swapped():
    """htmx asked for the list region: it selects #liste from a whole page (it says
    HX-Request-Type "full" for that), so the focus cue cannot hang on `partial`. Not for
    a history restore, which shows the page as it was."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def inbox_title(page, errors):
    status = page.filters.status
    label = "Toutes" if status == inbox.ALL else inbox.status_label(status)
    return page_title(
        f"{label} ({page.total})", "Demandes et candidatures", "Espace association", errors=errors
    )


# --- The selection -------------------------------------------------------------------------


@bp.post("/demandes/selection")
@staff_required
def selection():
    """Mark the ticked leads as contacted, one change of status per lead, each checked
    against the version the page showed."""
    chosen = selected_versions()
    if not chosen:
        flash("Cochez au moins une personne contactée.", "erreur")
        return redirect(back_to_inbox(), 303)
    done, stale = [], []
    for lead in inbox.by_references(current_user.association_id, chosen):
        if mark_contacted(lead, chosen[lead.reference]):
            done.append(lead.reference)
        else:
            stale.append(lead.reference)
    if done:
        flash(f"Marquées comme contactées : {', '.join(done)}.", "succes")
    if stale:
        flash(
            f"Non modifiées, elles avaient changé depuis l'affichage de la page ou n'étaient "
            f"plus nouvelles : {', '.join(stale)}. Vérifiez-les dans la liste.",
            "erreur",
        )
    return redirect(back_to_inbox(), 303)


def mark_contacted(lead, version):
    """core's change_status, checked against the version the page showed; False when the
    lead moved on since (or is no longer "nouvelle")."""
    try:
        actions.change_status(lead, "contactee", by=current_user.row, expected_version=version)
    except (actions.StaleLead, lifecycle.TransitionError):
        return False
    return True


def selected_versions():
    """{reference: version shown} of the ticked boxes ("J-7K3Q9:4")."""
    chosen = {}
    for value in request.form.getlist("demande")[:500]:
        reference, _, version = value.partition(":")
        if REFERENCE_RE.fullmatch(reference) and version.isascii() and version.isdigit():
            chosen.setdefault(reference, int(version[:9]))
    return chosen


# --- CSV export -----------------------------------------------------------------------------


@bp.post("/export.csv")
@staff_required
def export():
    """A POST (CSRF: another site cannot make staff export), recorded. With
    `portee=filtre` (the inbox's export buttons): the inbox under the filters of the query
    string, every page. Otherwise (the selection form): the leads ticked, among the
    association's only."""
    return export_as("csv")


@bp.post("/export.xlsx")
@staff_required
def export_xlsx():
    """The same rows as export(), as a workbook with typed cells."""
    return export_as("xlsx")


FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_as(fmt):
    assoc = association()
    if request.form.get("portee") != "filtre":
        references = selected_references()
        if not references:
            flash("Cochez au moins une demande à exporter.", "erreur")
            return redirect(back_to_inbox(), 303)
        query = inbox.rows_query(
            assoc.id, inbox.Filters(status=inbox.ALL), workdays.paris_day(models.now())
        ).where(models.Lead.reference.in_(references))
        recorded = {"selection": len(references)}
    else:
        filters, errors = parse_filters(request.args)
        if errors:
            abort(400)
        query = inbox.rows_query(assoc.id, filters, workdays.paris_day(models.now()))
        recorded = filters.as_dict()
        if "q" in recorded:  # what was typed is personal data: only that there was a search
            recorded["q"] = "[recherche]"
    if fmt == "xlsx":
        data, count = exports.write_xlsx(query.dicts())
    else:
        text, count = exports.write_csv(query.dicts())
        data = text.encode("utf-8")
    with models.write_transaction(durable=True):
        models.Export.create(
            utilisateur=current_user.row.id, association=assoc.id, rows=count, filters=recorded
        )
        journal.record("export", current_user.row, lignes=count, association=assoc.id)
    stamp = models.now().strftime("%Y-%m-%d")
    response = make_response(data)
    response.headers["Content-Type"] = FORMATS[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="demandes-{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def selected_references():
    """The references ticked ("J-7K3Q9:4": reference and the version shown), deduplicated."""
    references = []
    for value in request.form.getlist("demande")[:500]:
        reference = value.partition(":")[0]
        if REFERENCE_RE.fullmatch(reference) and reference not in references:
            references.append(reference)
    return references


def back_to_inbox():
    """The inbox URL the selection form was sent from, rebuilt from its known keys only."""
    pairs = parse_qsl(request.form.get("retour", "")[:2000])
    args = {key: value for key, value in pairs if key in QUERY_KEYS}
    return url_for("espace.demandes", **args)


# --- Handed over ---------------------------------------------------------------------------


@bp.get("/transmises")
@staff_required
def transmises():
    """The leads the association handed over: a read-only trace, reference only."""
    return render(
        "espace/transmises.html",
        traces=inbox.handed_over(current_user.association_id),
        shown=inbox.HANDED_OVER_SHOWN,
        title=page_title("Transmises", "Demandes et candidatures", "Espace association"),
    )
