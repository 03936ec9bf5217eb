"""A lead's page (/espace/demandes/<reference>): its answers, timeline, notes and status
block, and its actions: change of status, binôme, hand-over.

Only leads routed to the user's association are read: any other reference answers 404, as
an unknown one.

Every action is a POST (CSRF checked app-wide) carrying the lead's version as the page
showed it, goes through services/demandes.py (the one place that changes a lead) and answers with
a redirect to the lead page (PRG, 303). An action from a stale page (another staff member
acted meanwhile, or the person chose another association) gets a kind message and 409,
nothing overwritten; a missing or wrong reason or note, 422 with the error summary.
"""

import re

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import JOIN
from wtforms import TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, ValidationError

import models
from domain import lifecycle, pairing, phones, workdays
from domain import vocabulary as V
from domain.journeys import PARCOURS
from forms import espace as espace_forms
from forms.questionnaire import FORMS, ChoiceForm
from services import demandes, inbox
from services import demandes as actions
from services.accounts import staff_required
from views.rendering import page_title, render

from . import bp

Binome, Lead = models.Binome, models.Lead
NOTE_MAX = lifecycle.NOTE_MAX
# Events that bring a lead to a new association: the notes written in the timeline up to
# them (the hand-over's included) belong to the association before, and are not shown.
ARRIVAL_EVENTS = frozenset({lifecycle.HAND_OVER.code, "choix_alternative"})
# What a reference may look like ("J-7K3Q9"): anything else is no lead, and never reaches
# the database (PostgreSQL refuses a NUL byte with an error).
REFERENCE_RE = re.compile(r"[A-Za-z0-9-]{1,20}")
STALE = (
    "Cette demande a changé depuis l'affichage de la page : une autre personne de "
    "l'équipe vient sans doute d'agir. Rien n'a été modifié. Voici son état actuel ; "
    "recommencez si c'est encore utile."
)
GONE = (
    "Cette demande n'est plus confiée à votre association (la personne a choisi une "
    "autre association, ou elle a été confiée à une autre). Rien n'a été modifié."
)
DONE = {
    "contacter": "C'est noté : vous avez contacté cette personne.",
    "mettre_en_attente": "La demande est en attente d'un binôme.",
    "terminer": "L'accompagnement est terminé.",
    "classer_sans_suite": "La demande est classée sans suite.",
    "rouvrir": "La demande est rouverte.",
}
# Candidates read for a binôme: the association's open leads of the other kind, ranked
# in Python; enough for any one association, and a bound on the page's size.
CANDIDATES_READ = 300
CANDIDATES_SHOWN = 30
PAIR_ACTION = lifecycle.BY_CODE["former_binome"]


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Nouvelle note",
        description="Visible uniquement par l'équipe de votre association.",
        validators=[
            DataRequired("Écrivez la note avant de l'ajouter"),
            Length(max=NOTE_MAX, message=lifecycle.NOTE_TOO_LONG),
        ],
    )

    def validate_text(self, field):
        # Line breaks and tabs are text; other control characters (NUL…) are not.
        if any(not (ch.isprintable() or ch in "\n\r\t") for ch in field.data or ""):
            raise ValidationError(lifecycle.NOTE_INVALID)


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


# A youth under this age is called through the parent first (the parent's links come first).
PARENT_FIRST_UNDER = 15
# The order of one person's links by their preferred channel: what they asked for first.
CHANNEL_ORDER = {"telephone": ("tel", "sms", "mailto"), "sms": ("sms", "tel", "mailto")}
EMAIL_FIRST = ("mailto", "tel", "sms")


def contact_links(lead):
    """One-tap links for the person (and a minor's parent): call, text, write; each
    person's links in the order of the preferred channel, the parent's first under 15."""

    def links_of(who, telephone, email):
        links = []
        if href := phones.href(telephone):
            links.append(("tel", f"Appeler {who}", href, phones.display(telephone)))
            if phones.takes_sms(telephone):
                sms = "sms:" + phones.canonical(telephone)
                links.append(("sms", f"Envoyer un SMS à {who}", sms, ""))
        if email:
            links.append(("mailto", f"Écrire à {who}", f"mailto:{email}", email))
        order = CHANNEL_ORDER.get(lead.contact_pref, EMAIL_FIRST)
        links.sort(key=lambda link: order.index(link[0]))
        return [link[1:] for link in links]

    groups = [links_of(lead.prenom or "la personne", lead.telephone, lead.email)]
    parent = lead.answers.get("parent") or {}
    if parent:
        who = f"{parent.get('parent_prenom', '')} (parent)".strip()
        parent_links = links_of(
            who, parent.get("parent_telephone", ""), parent.get("parent_email", "")
        )
        if lead.age is not None and lead.age < PARENT_FIRST_UNDER:
            groups = [parent_links, *groups]
        else:
            groups.append(parent_links)
    return [link for group in groups for link in group]


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
    """The lead page; `status_block`: status_context's arguments (an action's
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
        title=page_title(heading, "Espace association", errors=bool(form.errors)),
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
        **status_context(lead, **status_block),
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


# --- The status block -------------------------------------------------------------------


def status_context(lead, action_form=None, action_code="", stale_message=""):
    """The status block's variables. `action_form`/`action_code`: a form sent back with
    its errors (422); `stale_message`: why an action was refused (409)."""
    offered = lifecycle.actions_for(lead.status)
    sans_suite = action_form if action_code == "classer_sans_suite" else None
    binomes = binomes_of(lead)
    return {
        "lead_actions": offered,
        "sans_suite_form": sans_suite or espace_forms.SansSuiteForm(formdata=None),
        "sans_suite_open": sans_suite is not None,
        "action_errors": action_form if action_form is not None and action_form.errors else None,
        "stale_message": stale_message,
        "binomes": binomes,
        "current_binome": next((b for b in binomes if b.ended_at is None), None),
    }


def binomes_of(lead):
    """The lead's binômes formed by the user's association, the latest first, each with
    its partner's reference and name (one query). A partner no longer at the
    association is shown by reference only."""
    partner = Lead.alias()
    if lead.kind == "jeune":
        mine, theirs = Binome.jeune, Binome.mentor
    else:
        mine, theirs = Binome.mentor, Binome.jeune
    rows = (
        Binome.select(
            Binome,
            partner.reference.alias("partner_reference"),
            partner.prenom.alias("partner_prenom"),
            partner.nom.alias("partner_nom"),
            partner.association.alias("partner_association"),
        )
        .join(partner, on=(theirs == partner.id))
        .where((mine == lead.id) & (Binome.association == current_user.association_id))
        .order_by(Binome.started_at.desc(), Binome.id.desc())
        .objects()
    )
    binomes = list(rows)
    for binome in binomes:
        binome.partner_ours = binome.partner_association == current_user.association_id
    return binomes


def back_to_lead(lead):
    url = url_for("espace.demande", reference=lead.reference, action="faite")
    return redirect(url + "#statut", 303)


def gone():
    return render(
        "espace/plus-confiee.html",
        status=409,
        title=page_title("Demande confiée ailleurs", "Espace association"),
        message=GONE,
        back_url=url_for("espace.demandes"),
    )


def refused(reference, message=STALE):
    """409: the lead as it is now, with why nothing was done; or a short page when it
    is no longer at the association."""
    lead = models.Lead.get_or_none(
        (models.Lead.reference == reference)
        & (models.Lead.association == current_user.association_id)
    )
    if lead is None:
        return gone()
    return render_lead(lead, status=409, stale_message=message)


def was_ours(reference):
    """The association had this lead and lost it: it handed it over ("transferee"), or
    the person chose another association ("autre_choix", kept when it expires). Saying
    it is gone tells its staff nothing they did not know; an association that was only
    one of the alternatives proposed never had it."""
    Orientation, Programme = models.Orientation, models.Programme
    return (
        Orientation.select(Orientation.id)
        .join(Programme)
        .switch(Orientation)
        .join(models.Lead)
        .where(
            (models.Lead.reference == reference)
            & (Programme.association == current_user.association_id)
            & (
                (Orientation.outcome == "transferee")
                | (Orientation.outcome_reason == "autre_choix")
            )
        )
        .exists()
    )


def lead_to_act_on(reference):
    """The lead an action is sent for, at the user's association. One no longer there
    (the person chose another association, or it was handed over, since the page was
    read) gets the 409 page that says so; one never there, 404 as an unknown one."""
    lead = lead_here(reference)
    if lead is None:
        if REFERENCE_RE.fullmatch(reference) and was_ours(reference):
            abort(gone())
        abort(404)
    return lead


# --- Status ------------------------------------------------------------------------------


@bp.post("/demandes/<reference>/actions/<code>")
@staff_required
def agir(reference, code):
    lead = lead_to_act_on(reference)
    action = lifecycle.BY_CODE.get(code)
    if action is None or action.to is None or action.to in lifecycle.PAIR_STATUSES:
        abort(404)
    form = espace_forms.SansSuiteForm() if action.reasons else espace_forms.LeadActionForm()
    version = form.expected_version()
    if version != lead.version or lead.status not in action.from_statuses:
        # Checked before the form too: a form sent back with its errors carries the
        # version it shows, so a stale page must never be re-shown as a fresh one.
        # demandes.change_status checks again under the row's lock.
        return refused(reference)
    if not form.validate():
        return render_lead(lead, status=422, action_form=form, action_code=code)
    reason = form.motif.data if action.reasons else ""
    note = form.note.data if action.reasons else ""
    try:
        demandes.change_status(
            lead, action.to, current_user.row, reason, note, expected_version=version
        )
    except demandes.StaleLead:
        return refused(reference)
    except lifecycle.TransitionError as error:
        field = getattr(form, {"reason": "motif"}.get(error.field, error.field or ""), None)
        if action.reasons and field is not None:
            field.errors = [*field.errors, error.message]
            return render_lead(lead, status=422, action_form=form, action_code=code)
        # The page offered an action the status no longer allows: it was stale.
        return refused(reference, f"{error.message} {STALE}")
    flash(DONE[code], "succes")
    return back_to_lead(lead)


# --- Binôme ------------------------------------------------------------------------------


def candidates(lead):
    """The association's leads of the other kind that may form a binôme now, ranked by
    fit (pairing.rank), with the lead's own Side: two queries whatever their number."""
    commune = models.Commune
    other = "mentor" if lead.kind == "jeune" else "jeune"
    rows = (
        models.Lead.select(models.Lead, commune.nom.alias("commune_nom"))
        .join(commune, JOIN.LEFT_OUTER, on=(models.Lead.commune == commune.insee))
        .where(
            (models.Lead.association == current_user.association_id)
            & (models.Lead.kind == other)
            & models.Lead.status.in_(PAIR_ACTION.from_statuses)
            & (models.Lead.id != lead.id)
        )
        .order_by(models.Lead.created_at, models.Lead.id)
        .limit(CANDIDATES_READ)
        .objects()
    )
    sides = [pairing.side_of(row, row.commune_nom or "") for row in rows]
    own = commune.get_or_none(commune.insee == lead.commune_id) if lead.commune_id else None
    subject = pairing.side_of(lead, own.nom if own else "")
    return pairing.rank(subject, sides)[:CANDIDATES_SHOWN]


def pair_form(fits, sent=True):
    """The form of the candidates `fits`; `sent`: read from the POST, else empty (GET)."""
    form = espace_forms.PairForm() if sent else espace_forms.PairForm(formdata=None)
    form.partenaire.choices = [
        (f"{fit.candidate.reference}:{fit.candidate.version}", fit.candidate.reference)
        for fit in fits
    ]
    return form


def render_pair(lead, form, fits, status=200):
    allowed = lead.status in PAIR_ACTION.from_statuses
    noun = "mentor" if lead.kind == "jeune" else "jeune"
    heading = f"Former un binôme avec {lead.prenom} {lead.nom}"
    return render(
        "espace/binome.html",
        status=status,
        lead=lead,
        form=form,
        fits=fits,
        allowed=allowed,
        noun=noun,
        heading=heading,
        status_label=inbox.status_label(lead.status),
        title=page_title(heading, "Espace association", errors=bool(form.errors)),
        back_url=url_for("espace.demande", reference=lead.reference),
    )


@bp.route("/demandes/<reference>/binome", methods=["GET", "POST"])
@staff_required
def former_binome(reference):
    lead = lead_or_404(reference) if request.method == "GET" else lead_to_act_on(reference)
    fits = candidates(lead) if lead.status in PAIR_ACTION.from_statuses else []
    if request.method == "GET":
        form = pair_form(fits, sent=False)
        return render_pair(lead, form, fits)
    form = pair_form(fits)
    version = form.expected_version()
    if version != lead.version:
        return refused(reference)
    if not form.validate():
        return render_pair(lead, form, fits, status=422)
    partner_reference, partner_version = form.partner()
    partner = partner_lead(partner_reference)
    if partner is None:
        return refused(reference)
    jeune, mentor = (lead, partner) if lead.kind == "jeune" else (partner, lead)
    versions = {lead.id: version, partner.id: partner_version}
    try:
        demandes.form_pair(
            jeune,
            mentor,
            current_user.row,
            current_user.association_id,
            jeune_version=versions[jeune.id],
            mentor_version=versions[mentor.id],
        )
    except (demandes.StaleLead, demandes.NotAtAssociation):
        return refused(reference)
    except lifecycle.TransitionError as error:
        return refused(reference, f"{error.message} {STALE}")
    flash(f"Binôme formé avec {partner.prenom} {partner.nom} ({partner.reference}).", "succes")
    return back_to_lead(lead)


def partner_lead(reference):
    """The partner picked, if it is one of the association's leads (else None: the
    page was stale, or the value made up)."""
    return lead_here(reference)


# --- Hand-over ---------------------------------------------------------------------------


def render_hand_over(lead, form, proposals, status=200):
    allowed = lead.status in lifecycle.HAND_OVER.from_statuses
    heading = f"Confier la demande de {lead.prenom} {lead.nom} à une autre association"
    return render(
        "espace/confier.html",
        status=status,
        lead=lead,
        form=form,
        proposals=proposals,
        allowed=allowed,
        heading=heading,
        status_label=inbox.status_label(lead.status),
        title=page_title(heading, "Espace association", errors=bool(form.errors)),
        back_url=url_for("espace.demande", reference=lead.reference),
    )


def hand_over_form(proposals, formdata=True):
    kwargs = {} if formdata else {"formdata": None}
    form = espace_forms.HandOverForm(programmes=[p.programme_id for p in proposals], **kwargs)
    form.programme.choices = [
        (str(p.programme_id), f"{p.programme.association_nom} : {p.programme.nom}")
        for p in proposals
    ]
    if not formdata and proposals:
        form.programme.data = str(proposals[0].programme_id)  # the matcher's first
    return form


@bp.route("/demandes/<reference>/confier", methods=["GET", "POST"])
@staff_required
def confier(reference):
    lead = lead_or_404(reference) if request.method == "GET" else lead_to_act_on(reference)
    allowed = lead.status in lifecycle.HAND_OVER.from_statuses
    proposals = list(demandes.hand_over_proposals(lead)) if allowed else []
    if request.method == "GET":
        return render_hand_over(lead, hand_over_form(proposals, formdata=False), proposals)
    form = hand_over_form(proposals)
    version = form.expected_version()
    if version != lead.version:
        return refused(reference)
    if not proposals:
        return render_hand_over(lead, form, proposals, status=409)
    if not form.validate():
        return render_hand_over(lead, form, proposals, status=422)
    try:
        row = demandes.hand_over(
            lead,
            current_user.row,
            form.motif.data,
            form.note.data,
            expected_version=version,
            programme_id=form.programme_id(),
        )
    except demandes.StaleLead:
        return refused(reference)
    except lifecycle.TransitionError as error:
        if error.field in ("reason", "note"):
            field = form.motif if error.field == "reason" else form.note
            field.errors = [*field.errors, error.message]
            return render_hand_over(lead, form, proposals, status=422)
        return refused(reference, f"{error.message} {STALE}")
    chosen = models.Association.get_by_id(row.association_id) if row.association_id else None
    if chosen is None:  # the matcher found none after all: the waiting list
        flash(f"La demande {row.reference} est en liste d'attente de la plateforme.", "succes")
        return redirect(url_for("espace.demandes"), 303)
    flash(
        f"La demande {row.reference} est confiée à {chosen.nom}. "
        "La personne et l'association en sont informées par e-mail.",
        "succes",
    )
    return redirect(url_for("espace.demandes"), 303)
