"""The association's settings (/espace/reglages, responsable): its profile, its programmes,
its team (invitations, deactivation)."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, logout_user

import models
from domain import phones
from forms.espace import ROLE_LABELS, InviteForm, ProfileForm, ProgrammeForm, SecondFactorRuleForm
from services import accounts
from views.espace import bp
from views.rendering import page_title, render

# --- Settings (responsable) ----------------------------------------------------------


def own_association():
    return models.Association.get_by_id(current_user.association_id)


def own_programme(programme_id):
    """A programme of the user's association; another's is no page of theirs: 404."""
    Programme = models.Programme
    programme = Programme.get_or_none(
        (Programme.id == programme_id)
        & (Programme.association == current_user.association_id)
        & Programme.actif
    )
    if programme is None:
        abort(404)
    return programme


def own_staff(user_id):
    Utilisateur = models.Utilisateur
    row = Utilisateur.get_or_none(
        (Utilisateur.id == user_id) & (Utilisateur.association == current_user.association_id)
    )
    if row is None:
        abort(404)
    return row


def profile_form(association, formdata=None):
    data = {
        "description": association.description,
        "site": association.site,
        "email": association.email,
        "telephone": phones.display(association.telephone),
        "delai_recontact": str(association.delai_recontact),
    }
    return ProfileForm(formdata=formdata, data=data, prefix="profil")


def programme_form(programme, formdata=None):
    data = {
        "capacite_mensuelle": str(programme.capacite_mensuelle),
        "en_pause": programme.en_pause,
    }
    return ProgrammeForm(formdata=formdata, data=data, prefix=f"programme-{programme.id}")


def render_settings(status=200, profile=None, failed_programme=None, invite=None, problem=None):
    """The settings page; the form that failed (if any) comes with its errors."""
    association = own_association()
    Programme = models.Programme
    programmes = list(
        Programme.select()
        .where((Programme.association == association.id) & Programme.actif)
        .order_by(Programme.nom)
    )
    failed_id, failed_form = failed_programme or (None, None)
    programme_forms = [
        (p, failed_form if p.id == failed_id else programme_form(p)) for p in programmes
    ]
    profile = profile or profile_form(association, formdata=None)
    invite = invite or InviteForm(prefix="invitation", formdata=None)
    failed = [f for f in (profile, failed_form, invite) if f is not None and f.errors]
    prefix = "Erreur : " if failed or problem else ""
    staff = accounts.staff_of(association.id)
    pending = pending_invitations({row.id for row in staff if not row.password_hash})
    return render(
        "espace/reglages.html",
        status=status,
        association=association,
        profile=profile,
        programme_forms=programme_forms,
        invite=invite,
        staff=staff,
        pending=pending,
        mfa_rule=SecondFactorRuleForm(
            formdata=None, data={"obligatoire": association.double_authentification}
        ),
        role_labels=ROLE_LABELS,
        failed=failed,
        problem=problem,
        title=page_title("Réglages", association.nom, errors=bool(prefix)),
    )


def pending_invitations(user_ids):
    """{user id: expiry of their newest invitation link still usable}."""
    AccountToken = models.AccountToken
    rows = AccountToken.select(AccountToken.utilisateur, AccountToken.expires_at).where(
        AccountToken.utilisateur.in_(user_ids)
        & (AccountToken.purpose == accounts.INVITATION)
        & AccountToken.used_at.is_null()
    )
    pending = {}
    for row in rows:
        user_id = row.utilisateur_id
        pending[user_id] = max(pending.get(user_id, row.expires_at), row.expires_at)
    return pending


@bp.get("/reglages")
@accounts.responsable_required
def reglages():
    return render_settings()


@bp.post("/reglages/profil")
@accounts.responsable_required
def reglages_profil():
    association = own_association()
    form = profile_form(association, formdata=request.form)
    if not form.validate():
        return render_settings(status=422, profile=form)
    with models.write_transaction(durable=True):
        for name, value in form.values().items():
            setattr(association, name, value)
        association.save()  # moves updated_at: the matcher re-reads the catalogue
    flash("Le profil de l'association est enregistré.", "info")
    return redirect(url_for("espace.reglages") + "#profil", 303)


@bp.post("/reglages/programmes/<int:programme_id>")
@accounts.responsable_required
def reglages_programme(programme_id):
    programme = own_programme(programme_id)
    form = programme_form(programme, formdata=request.form)
    if not form.validate():
        return render_settings(status=422, failed_programme=(programme.id, form))
    with models.write_transaction(durable=True):
        for name, value in form.values().items():
            setattr(programme, name, value)
        programme.save()
    flash(f"Le programme « {programme.nom} » est enregistré.", "info")
    return redirect(url_for("espace.reglages") + "#programmes", 303)


@bp.post("/reglages/equipe/inviter")
@accounts.responsable_required
def reglages_inviter():
    form = InviteForm(prefix="invitation")
    if not form.validate():
        return render_settings(status=422, invite=form)
    try:
        accounts.create_account(
            form.email.data,
            form.role.data,
            own_association(),
            models.now(),
            invited_by=current_user.row.email,
            actor=current_user.row.id,
            link=lambda token: url_for("espace.invitation", token=token),
        )
    except accounts.AccountError as error:
        form.email.errors = [str(error)]
        return render_settings(status=422, invite=form)
    flash(f"Invitation envoyée à {form.email.data}.", "info")
    return redirect(url_for("espace.reglages") + "#equipe", 303)


@bp.post("/reglages/equipe/<int:user_id>/desactiver")
@accounts.responsable_required
def reglages_desactiver(user_id):
    target = own_staff(user_id)
    try:
        accounts.deactivate(target, models.now(), actor=current_user.row.id)
    except accounts.AccountError as error:
        return render_settings(status=409, problem=str(error))
    if target.id == current_user.row.id:
        logout_user()
        flash("Votre compte est désactivé.", "info")
        return redirect(url_for("espace.connexion"), 303)
    flash(f"Le compte de {target.email} est désactivé.", "info")
    return redirect(url_for("espace.reglages") + "#equipe", 303)
