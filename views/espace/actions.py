"""The actions of a lead's page: change of status, binôme, hand-over.

Every action is a POST (CSRF checked app-wide) carrying the lead's version as the page
showed it, goes through demandes.py (the one place that changes a lead) and answers with
a redirect to the lead page (PRG, 303). An action from a stale page (another staff member
acted meanwhile, or the person chose another association) gets a kind message and 409,
nothing overwritten; a missing or wrong reason or note, 422 with the error summary.
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from peewee import JOIN

import models
from domain import lifecycle, pairing
from forms import espace as espace_forms
from services import demandes
from services.accounts import staff_required
from views.rendering import page_title, render

from . import bp
from .demandes import REFERENCE_RE, inbox, lead_here, lead_or_404, render_lead

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
