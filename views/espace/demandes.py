"""The inbox (/espace/), a lead's page, its private notes, and the CSV export.

Every route is for an association's staff (accounts.staff_required) and reads only leads
routed to the user's association: any other reference answers 404, as an unknown one.
Filters travel in the URL (links and GET forms: a filtered inbox can be shared); with
htmx the list region is swapped in place, without JS the same URL is a full page.
"""

import re
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import JOIN
from wtforms import TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, ValidationError

import models
from domain import lifecycle, phones, workdays
from domain import vocabulary as V
from domain.journeys import PARCOURS
from forms.questionnaire import FORMS, ChoiceForm
from services import demandes as actions
from services import exports, inbox
from services.accounts import staff_required
from views.rendering import render

from . import bp, statut

NOTE_MAX = lifecycle.NOTE_MAX
# Events that bring a lead to a new association: the notes written in the timeline up to
# them (the hand-over's included) belong to the association before, and are not shown.
ARRIVAL_EVENTS = frozenset({lifecycle.HAND_OVER.code, "choix_alternative"})
# What a reference may look like ("J-7K3Q9"): anything else is no lead, and never reaches
# the database (PostgreSQL refuses a NUL byte with an error).
REFERENCE_RE = re.compile(r"[A-Za-z0-9-]{1,20}")
QUERY_KEYS = ("statut", "type", "besoin", "departement", "retard", "q", "page", "par_page")


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Nouvelle note",
        description="Visible uniquement par l'équipe de votre association.",
        validators=[
            DataRequired("Écrivez la note avant de l'ajouter"),
            Length(max=NOTE_MAX, message=f"La note doit faire {NOTE_MAX} caractères au plus"),
        ],
    )

    def validate_text(self, field):
        # Line breaks and tabs are text; other control characters (NUL…) are not.
        if any(not (ch.isprintable() or ch in "\n\r\t") for ch in field.data or ""):
            raise ValidationError("La note contient des caractères non valides")


@bp.after_request
def no_store(response):
    # Names, phone numbers and notes: never kept by a browser or a proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_filter()
def iso_utc(value):
    """For <time datetime>: whole seconds, as the HTML standard takes them."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.app_template_filter()
def event_label(event):
    """What happened, in plain words."""
    if event["kind"] in V.EVENEMENT:
        return V.EVENEMENT.label(event["kind"])
    if event["to_status"] and event["to_status"] != event["from_status"]:
        return f"Statut : {inbox.status_label(event['to_status'])}"
    return event["kind"]


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
    q = args.get("q", "").strip()
    if len(q) > inbox.SEARCH_MAX:
        message = f"La recherche doit faire {inbox.SEARCH_MAX} caractères au plus"
        errors.append(("filtre-q", message))
    elif q and any(not ch.isprintable() for ch in q):
        errors.append(("filtre-q", "La recherche contient des caractères non valides"))
    else:
        values["q"] = q
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
    return inbox.Filters(**values), errors


def query_args(filters, **changes):
    """The query string of `filters` (defaults left out), with `changes` applied."""
    args = {
        "statut": filters.status if filters.status != inbox.DEFAULT_STATUS else "",
        "type": filters.kind,
        "besoin": filters.besoin,
        "departement": filters.departement,
        "retard": "1" if filters.late else "",
        "q": filters.q,
        "page": str(filters.page) if filters.page > 1 else "",
        "par_page": str(filters.per_page) if filters.per_page != inbox.PAGE_SIZES[0] else "",
    }
    args.update(changes)
    return {key: value for key, value in args.items() if value}


def inbox_url(filters, **changes):
    return url_for("espace.demandes", **query_args(filters, **changes))


def association():
    return models.Association.get_by_id(current_user.association_id)


def lead_here(reference):
    """The lead `reference` if it is routed to the user's association, else None (a
    malformed reference too: it reaches no query)."""
    if not REFERENCE_RE.fullmatch(reference):
        return None
    return models.Lead.get_or_none(
        (models.Lead.reference == reference)
        & (models.Lead.association == current_user.association_id)
    )


def lead_or_404(reference):
    """The lead `reference` if it is routed to the user's association; 404 otherwise."""
    lead = lead_here(reference)
    if lead is None:
        abort(404)
    return lead


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
        title=inbox_title(page, bool(errors)),
    )


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
    title = f"{label} ({page.total}) – Demandes et candidatures – Espace association"
    return ("Erreur : " if errors else "") + title


# --- A lead's page --------------------------------------------------------------------------


def answer_rows(lead):
    """Every answer in plain words, as the person saw them on the check page.

    A lead keeps its answers merged (journeys.relevant_answers): each step's summary
    reads its own keys from them, a one-question page its one field."""
    answers = lead.answers
    rows = []
    for step in PARCOURS[lead.kind].steps:
        if step.exit or not step.condition(answers):
            continue
        form_class = FORMS[lead.kind][step.name]
        try:
            summary = form_class.summary(step_answers(form_class, answers))
        except (KeyError, ValueError):  # a step the person did not see
            continue
        rows.extend({"label": label, "value": value} for label, value in summary)
    return rows


def step_answers(form_class, answers):
    if not issubclass(form_class, ChoiceForm):
        return answers
    names = [name for name, value in vars(form_class).items() if isinstance(value, UnboundField)]
    return {name: answers[name] for name in names if name in answers}


def contact_links(lead):
    """One-tap links for the person (and a minor's parent): call, text, write."""
    links = []

    def add(who, telephone, email):
        if href := phones.href(telephone):
            links.append((f"Appeler {who}", href, phones.display(telephone)))
            if phones.takes_sms(telephone):
                links.append((f"Envoyer un SMS à {who}", "sms:" + phones.canonical(telephone), ""))
        if email:
            links.append((f"Écrire à {who}", f"mailto:{email}", email))

    add(lead.prenom or "la personne", lead.telephone, lead.email)
    parent = lead.answers.get("parent") or {}
    if parent:
        who = f"{parent.get('parent_prenom', '')} (parent)".strip()
        add(who, parent.get("parent_telephone", ""), parent.get("parent_email", ""))
    return links


def matcher_reasons(lead):
    """Why the matcher proposed this association: its orientation in effect."""
    orientations = actions.orientations_of(lead)
    mine = [o for o in orientations if o.programme.association_id == lead.association_id]
    return actions.current_orientation(mine)


def timeline(lead):
    """Who did what, when, and why (the coded reason); the free notes and the staff
    written before the lead came to this association are left out (they belong to the
    association before)."""
    events = list(
        models.Evenement.select()
        .where(models.Evenement.lead == lead)
        .order_by(models.Evenement.at, models.Evenement.id)
    )
    arrivals = [i for i, event in enumerate(events) if event.kind in ARRIVAL_EVENTS]
    since = arrivals[-1] + 1 if arrivals else 0
    return [
        {
            "at": event.at,
            "kind": event.kind,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "author": event.author if index >= since else earlier_author(event.author),
            "motif": motif_label(event),
            "note": event.note if index >= since else "",
        }
        for index, event in enumerate(events)
    ]


def earlier_author(author):
    """The author of an event from before the lead came here: a word ("personne",
    "matcher …") is kept, a staff member's e-mail (the association before's) is not."""
    return "" if "@" in author else author


def motif_label(event):
    reasons = lifecycle.BY_CODE[event.kind].reasons if event.kind in lifecycle.BY_CODE else None
    return reasons.label(event.motif) if reasons and event.motif else ""


def notes_of(lead):
    Note, Utilisateur = models.Note, models.Utilisateur
    return list(
        Note.select(Note, Utilisateur)
        .join(Utilisateur, JOIN.LEFT_OUTER)
        .where((Note.lead == lead) & (Note.association == current_user.association_id))
        .order_by(Note.at.desc(), Note.id.desc())
    )


def render_lead(lead, form=None, status=200, **status_block):
    """The lead page; `status_block`: statut.status_context's arguments (an action's
    form sent back with its errors, or the message of a refused action)."""
    form = form or NoteForm()
    today = workdays.paris_day(models.now())
    heading = f"{inbox.KIND_LABELS[lead.kind]} {lead.reference}"
    return render(
        "espace/demande.html",
        status=status,
        lead=lead,
        form=form,
        heading=heading,
        title=("Erreur : " if form.errors else "") + f"{heading} – Espace association",
        answers=answer_rows(lead),
        contacts=contact_links(lead),
        orientation=matcher_reasons(lead),
        events=timeline(lead),
        notes=notes_of(lead),
        late=inbox.is_late(lead.status, lead.due_on, today),
        waiting_days=inbox.waiting_days(lead.routed_at or lead.created_at, today),
        labels=inbox,
        noted=request.args.get("note") == "ajoutee",
        acted=request.args.get("action") == "faite",
        back_url=url_for("espace.demandes"),
        **statut.status_context(lead, **status_block),
    )


@bp.get("/demandes/<reference>")
@staff_required
def demande(reference):
    return render_lead(lead_or_404(reference))


@bp.post("/demandes/<reference>/notes")
@staff_required
def ajouter_note(reference):
    lead = lead_or_404(reference)
    form = NoteForm()
    if not form.validate():
        return render_lead(lead, form, status=422)
    try:
        actions.add_note(lead, current_user.association_id, current_user.row, form.text.data)
    except actions.NotAtAssociation:  # handed over meanwhile
        abort(404)
    except lifecycle.TransitionError as error:
        form.text.errors.append(error.message)
        return render_lead(lead, form, status=422)
    flash("Note ajoutée.", "succes")
    target = url_for("espace.demande", reference=lead.reference, note="ajoutee")
    return redirect(target + "#notes", 303)


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


@bp.route("/export.csv", methods=["GET", "POST"])
@staff_required
def export():
    """GET: the inbox under its filters, every page. POST (the selection form, CSRF):
    the leads ticked, among the association's only."""
    assoc = association()
    if request.method == "POST":
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
    text, count = exports.write_csv(query.dicts())
    if request.method != "HEAD":  # HEAD (Flask answers it as GET) downloads nothing
        with models.write_transaction(durable=True):
            models.Export.create(
                utilisateur=current_user.row.id, association=assoc.id, rows=count, filters=recorded
            )
    stamp = models.now().strftime("%Y-%m-%d")
    response = make_response(text.encode("utf-8"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="demandes-{stamp}.csv"'
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
