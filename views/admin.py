"""The operator's back office (/admin/): catalogue, accounts, failed e-mails, waiting
list, late leads, matcher simulator and coverage. Every route needs the admin role."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from peewee import JOIN, fn

import models
from domain import matcher, workdays
from forms import admin as admin_forms
from mail import outbox, sms
from models import Association, Lead, Message, Programme, Utilisateur
from services import accounts, catalogue, coverage, demandes, journal
from views.rendering import no_store, render

bp = Blueprint("admin", __name__, url_prefix="/admin")

MAX_LISTED = 200  # rows of a list page: the operator filters by file, not by scrolling


@bp.before_request
@accounts.admin_required
def guard():
    """Every route of the blueprint: anonymous -> login page, staff -> 404."""


bp.after_request(no_store)


def see_other(endpoint, **values):
    return redirect(url_for(endpoint, **values), code=303)


# --- Home -----------------------------------------------------------------------------------
@bp.get("/")
def accueil():
    counts = dict(
        echecs=Message.select().where(Message.status == "echec").count(),
        sms_today=sms.sent_today(),
        sms_cap=sms.current_settings().cap_per_day,
        en_attente=Lead.select().where(Lead.waiting_list).count(),
        associations=Association.select().count(),
        programmes=Programme.select().count(),
    )
    return render("admin/accueil.html", counts=counts, unread=accounts.unread_associations())


# --- Associations ---------------------------------------------------------------------------
@bp.get("/associations")
def associations():
    programmes = (
        Programme.select(fn.COUNT(Programme.id))
        .where(Programme.association == Association.id)
        .alias("programmes")
    )
    rows = Association.select(Association, programmes).order_by(Association.nom).limit(1000)
    return render("admin/associations.html", associations=list(rows), form=admin_forms.ActionForm())


@bp.route("/associations/nouvelle", methods=["GET", "POST"])
def association_nouvelle():
    form = admin_forms.AssociationForm(data={"association_active": True})
    if request.method == "POST":
        form = admin_forms.AssociationForm()
        checked = form.check()
        if checked and _create(catalogue.create_association, form.association_slug, *checked):
            flash(f"Association « {checked[1]['nom']} » créée.")
            return see_other("admin.associations")
        return render("admin/association.html", form=form, association=None, status=422)
    return render("admin/association.html", form=form, association=None)


def _create(service, slug_field, *checked):
    """Create with the form's checked fields; False, with the slug field's error, when
    the identifier is taken."""
    try:
        service(*checked)
    except catalogue.SlugTaken:
        slug_field.errors = ["Cet identifiant est déjà pris"]
        return False
    return True


@bp.route("/associations/<slug>", methods=["GET", "POST"])
def association(slug):
    association = Association.get_or_none(Association.slug == slug) or abort(404)
    if request.method == "POST":
        # The slug keys the catalogue file: it is shown, never changed.
        form = admin_forms.AssociationForm()
        form.association_slug.data = slug
        checked = form.check()
        if checked:
            catalogue.update_association(association, checked[1])
            flash(f"Association « {association.nom} » enregistrée.")
            return see_other("admin.associations")
        return render("admin/association.html", form=form, association=association, status=422)
    form = admin_forms.AssociationForm(data=admin_forms.AssociationForm.data_of(association))
    return render("admin/association.html", form=form, association=association)


@bp.post("/associations/<slug>/<any(activation, desactivation):action>")
def association_etat(slug, action):
    association = Association.get_or_none(Association.slug == slug) or abort(404)
    if not admin_forms.ActionForm().validate():
        abort(400)
    catalogue.set_flag(association, "actif", action == "activation")
    flash(f"Association « {association.nom} » {'activée' if association.actif else 'désactivée'}.")
    return see_other("admin.associations")


# --- Programmes -----------------------------------------------------------------------------
def _association_choices():
    return list(
        Association.select(Association.id, Association.nom).order_by(Association.nom).tuples()
    )


@bp.get("/programmes")
def programmes():
    rows = (
        Programme.select(Programme, Association)
        .join(Association)
        .order_by(Association.nom, Programme.nom)
        .limit(1000)
    )
    return render("admin/programmes.html", programmes=list(rows), form=admin_forms.ActionForm())


@bp.route("/programmes/nouveau", methods=["GET", "POST"])
def programme_nouveau():
    choices = _association_choices()
    if request.method == "POST":
        form = admin_forms.AdminProgrammeForm(choices)
        checked = form.check()
        if checked and _create(catalogue.create_programme, form.programme_slug, *checked):
            flash(f"Programme « {checked[2]['nom']} » créé.")
            return see_other("admin.programmes")
        return render("admin/programme.html", form=form, programme=None, status=422)
    data = {"programme_actif": True, "format": "individuel", "capacite_mensuelle": "0"}
    if request.args.get("association") in {str(i) for i, _ in choices}:
        data["association"] = request.args["association"]
    form = admin_forms.AdminProgrammeForm(choices, data=data)
    return render("admin/programme.html", form=form, programme=None)


@bp.route("/programmes/<slug>", methods=["GET", "POST"])
def programme(slug):
    programme = Programme.get_or_none(Programme.slug == slug) or abort(404)
    choices = _association_choices()
    if request.method == "POST":
        form = admin_forms.AdminProgrammeForm(choices)
        form.programme_slug.data = slug
        checked = form.check()
        if checked:
            _, association_id, fields = checked
            catalogue.update_programme(programme, association_id, fields)
            flash(f"Programme « {programme.nom} » enregistré.")
            return see_other("admin.programmes")
        return render("admin/programme.html", form=form, programme=programme, status=422)
    form = admin_forms.AdminProgrammeForm(
        choices, data=admin_forms.AdminProgrammeForm.data_of(programme)
    )
    return render("admin/programme.html", form=form, programme=programme)


PROGRAMME_ACTIONS = {
    "pause": ("en_pause", True, "mis en pause"),
    "reprise": ("en_pause", False, "repris"),
    "activation": ("actif", True, "activé"),
    "desactivation": ("actif", False, "désactivé"),
}


@bp.post("/programmes/<slug>/<any(pause, reprise, activation, desactivation):action>")
def programme_etat(slug, action):
    programme = Programme.get_or_none(Programme.slug == slug) or abort(404)
    if not admin_forms.ActionForm().validate():
        abort(400)
    name, value, done = PROGRAMME_ACTIONS[action]
    catalogue.set_flag(programme, name, value)
    flash(f"Programme « {programme.nom} » {done}.")
    return see_other("admin.programmes")


# --- Catalogue import -----------------------------------------------------------------------
@bp.route("/import", methods=["GET", "POST"])
def importer():
    form = admin_forms.ImportForm()
    if request.method == "POST":
        if not form.validate():
            return render("admin/import.html", form=form, problems=(), status=422)
        try:
            report = catalogue.load_bytes(form.fichier.data.read(), actor=current_user.row.id)
        except catalogue.CatalogueError as error:
            return render("admin/import.html", form=form, problems=error.errors, status=422)
        flash("Catalogue importé. " + str(report))
        return see_other("admin.importer")
    return render("admin/import.html", form=form, problems=())


# --- Accounts -------------------------------------------------------------------------------
@bp.get("/comptes")
def comptes():
    rows = (
        Utilisateur.select(Utilisateur, Association)
        .join(Association, JOIN.LEFT_OUTER)
        .order_by(Utilisateur.email)
        .limit(1000)
    )
    return render("admin/comptes.html", comptes=list(rows), form=admin_forms.ActionForm())


@bp.post("/comptes/<int:user_id>/<any(activation, desactivation):action>")
def compte_etat(user_id, action):
    user = Utilisateur.get_or_none(Utilisateur.id == user_id) or abort(404)
    if not admin_forms.ActionForm().validate():
        abort(400)
    if user.id == current_user.row.id:
        flash("Vous ne pouvez pas désactiver votre propre compte.")
        return see_other("admin.comptes")
    try:
        if action == "desactivation":
            accounts.deactivate(user, models.now(), actor=current_user.row)
        else:
            accounts.reactivate(user, actor=current_user.row)
    except accounts.AccountError as error:  # the association's last responsable
        flash(str(error))
        return see_other("admin.comptes")
    flash(f"Compte {user.email} {'réactivé' if action == 'activation' else 'désactivé'}.")
    return see_other("admin.comptes")


# --- Failed e-mails -------------------------------------------------------------------------
@bp.get("/messages")
def messages():
    failed = (
        Message.select()
        .where(Message.status == "echec")
        .order_by(Message.created_at.desc())
        .limit(MAX_LISTED)
    )
    waiting = Message.select().where(Message.status == "a_envoyer").count()
    settings = sms.current_settings()
    return render(
        "admin/messages.html",
        messages=list(failed),
        waiting=waiting,
        sms_today=sms.sent_today(),
        sms_settings=settings,
        form=admin_forms.ActionForm(),
    )


@bp.post("/messages/<int:message_id>/reessai")
def message_reessai(message_id):
    if not admin_forms.ActionForm().validate():
        abort(400)
    retried = outbox.retry(message_id, models.now())
    if retried:
        journal.record("renvoi_email", current_user.row, message=message_id)
    if not retried and not Message.select().where(Message.id == message_id).exists():
        abort(404)
    flash("Le message sera envoyé de nouveau." if retried else "Ce message n'est plus en échec.")
    return see_other("admin.messages")


# --- Security journal ----------------------------------------------------------------------
@bp.get("/journal")
def journal_page():
    """The security journal, newest first, filtered; a fixed number of queries."""
    form = admin_forms.JournalForm(request.args, kinds=list(journal.KINDS.items()))
    entries, more, account, page = [], False, None, 1
    valid = form.validate()
    if valid and form.compte.data:
        account = Utilisateur.get_or_none(Utilisateur.email == form.compte.data.lower())
        if account is None:
            form.compte.errors.append("Aucun compte n'a cette adresse")
            valid = False
    if valid:
        page = page_number(request.args.get("page", ""))
        entries, more = journal.search(
            kind=form.kind.data or None,
            user_id=account.id if account else None,
            since=form.du.day,
            until=form.au.day,
            page=page,
        )
    ids = {e.utilisateur_id for e in entries} | {e.target_id for e in entries}
    ids.discard(None)
    emails = (
        dict(
            Utilisateur.select(Utilisateur.id, Utilisateur.email)
            .where(Utilisateur.id.in_(ids))
            .tuples()
        )
        if ids
        else {}
    )
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render(
        "admin/journal.html",
        status=200 if valid or not form.errors else 422,
        form=form,
        entries=entries,
        emails=emails,
        labels=journal.KINDS,
        page=page,
        previous_url=url_for("admin.journal_page", **args, page=page - 1) if page > 1 else None,
        next_url=url_for("admin.journal_page", **args, page=page + 1) if more else None,
    )


def page_number(text):
    """The page asked for (1 when none, or junk)."""
    if text.isascii() and text.isdigit() and 0 < len(text) < 6:
        return max(1, int(text))
    return 1


# --- Waiting list ---------------------------------------------------------------------------
@bp.get("/liste-attente")
def liste_attente():
    rows = (
        Lead.select(
            Lead.id, Lead.reference, Lead.kind, Lead.besoin, Lead.departement, Lead.created_at
        )
        .where(Lead.waiting_list)
        .order_by(Lead.created_at)
        .limit(MAX_LISTED)
    )
    return render(
        "admin/liste_attente.html",
        leads=list(rows),
        now=models.now(),
        form=admin_forms.ActionForm(),
    )


@bp.post("/liste-attente/<reference>/orienter")
def orienter(reference):
    lead = Lead.get_or_none(Lead.reference == reference) or abort(404)
    if not admin_forms.ActionForm().validate():
        abort(400)
    if not lead.waiting_list:
        flash(f"La demande {reference} n'est plus en liste d'attente.")
        return see_other("admin.liste_attente")
    try:
        # Never back to an association that already handed it over (the person, or the
        # scheduler on their behalf, asked for another one).
        tried = demandes.tried_associations(demandes.orientations_of(lead))
        demandes.orient(
            lead, exclude=tried, by=current_user, expected_version=lead.version, tell_person=True
        )
    except demandes.StaleLead:
        flash(f"La demande {reference} a changé entre-temps : rien n'a été fait.")
        return see_other("admin.liste_attente")
    if lead.waiting_list:
        flash(f"Aucun programme ne convient encore à la demande {reference}.")
    else:
        flash(f"La demande {reference} est orientée vers {lead.association.nom}.")
    return see_other("admin.liste_attente")


# --- Late leads -----------------------------------------------------------------------------
LATE_SHOWN = 10  # references listed per association, the oldest first


@bp.get("/retards")
def retards():
    now = models.now()
    associations = list(Association.select().order_by(Association.nom))
    condition = demandes.late(workdays.paris_day(now))
    query = Lead.select(Lead.association, fn.COUNT(Lead.id)).where(condition)
    counts = dict(query.group_by(Lead.association).tuples())
    # Only the reference and the age: the association's leads are its own.
    rows = (
        Lead.select(Lead.association, Lead.reference, Lead.created_at)
        .where(condition)
        .order_by(Lead.created_at)
        .limit(MAX_LISTED)
    )
    oldest = {}
    for association_id, reference, created_at in rows.tuples():
        shown = oldest.setdefault(association_id, [])
        if len(shown) < LATE_SHOWN:
            shown.append((reference, Lead.created_at.python_value(created_at)))
    late = [(a, counts[a.id], oldest.get(a.id, [])) for a in associations if counts.get(a.id)]
    return render("admin/retards.html", late=late, now=now)


# --- Matcher simulator ----------------------------------------------------------------------
@bp.get("/simulateur")
def simulateur():
    form = admin_forms.SimulatorForm(request.args)
    if not request.args:
        return render("admin/simulateur.html", form=form, result=None, asked=False)
    if not form.validate():
        return render("admin/simulateur.html", form=form, result=None, asked=True, status=422)
    person = matcher.person_from_answers(form.kind.data, form.answers(), form.place)
    snapshot, stats = catalogue.snapshot(), catalogue.stats()
    result = matcher.match(person, snapshot, stats)
    details = [
        (proposal, matcher.score_parts(person, proposal.programme, proposal.niveau, stats))
        for proposal in result.proposals
    ]
    others = matcher.explain_all(person, snapshot, result, stats)
    return render(
        "admin/simulateur.html",
        form=form,
        result=result,
        details=details,
        others=others,
        person=person,
        asked=True,
    )


# --- Coverage -------------------------------------------------------------------------------
@bp.get("/couverture")
def couverture():
    report = coverage.departement_coverage()
    holes_only = request.args.get("tout") != "1"
    shown = [d for d in report if d.holes] if holes_only else report
    return render(
        "admin/couverture.html",
        report=shown,
        total=len(report),
        with_holes=sum(1 for d in report if d.holes),
        holes_only=holes_only,
        besoins=admin_forms.BESOINS,
        bands=coverage.AGE_BANDS,
        communes=coverage.COVERAGE_COMMUNES,
    )
