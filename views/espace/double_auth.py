"""The second factor's pages: the login's code step, the account's enrolment (QR code,
recovery codes shown once) and removal, and the association's rule (responsable)."""

import time

from flask import abort, flash, redirect, request, session, url_for
from flask_login import current_user, login_user

import models
from forms.espace import CodeForm, DisableSecondFactorForm, EnrolForm, SecondFactorRuleForm
from services import accounts, second_factor
from views.espace import account, bp, settings
from views.rendering import page_title, render
from web import staff_session

PENDING = "mfa_pending"  # the login waiting for its code: {"id", "epoch", "at", "next"}
SECRET = "mfa_secret"  # the enrolment's secret until its first code confirms it
PENDING_SECONDS = 300
CODE_ERROR = "Ce code n'est pas valide : vérifiez-le, ou saisissez un code de secours"
ENROL_ERROR = "Ce code n'est pas valide : vérifiez-le, et l'heure de votre téléphone"
ACCOUNT_PAGE = "espace.double_authentification"


def begin_code_step(row, next_url):
    """After the password: the session remembers who is half logged in, for 5 minutes."""
    session[PENDING] = {
        "id": row.id,
        "epoch": row.session_epoch,
        "at": int(time.time()),
        "next": next_url,
    }
    return redirect(url_for("espace.connexion_code"), 303)


def finish_login(row, next_url):
    login_user(accounts.User(row))
    staff_session.start()
    if second_factor.required(row) and not second_factor.enrolled(row):
        session[staff_session.MUST_ENROL] = True
        flash("Configurez la double authentification pour continuer.", "info")
        return redirect(url_for(ACCOUNT_PAGE), 303)
    return redirect(next_url or account.home_url(row.role), 303)


def pending_user():
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    Utilisateur = models.Utilisateur
    row = Utilisateur.get_or_none(
        (Utilisateur.id == pending.get("id"))
        & (Utilisateur.session_epoch == pending.get("epoch"))
        & Utilisateur.actif
    )
    return row, pending.get("next")


@bp.route("/connexion/code", methods=["GET", "POST"])
def connexion_code():
    row, next_url = pending_user()
    if row is None or not second_factor.enrolled(row):
        session.pop(PENDING, None)
        return redirect(url_for("espace.connexion"), 303)
    form = CodeForm()
    if request.method != "POST":
        return render_code(form)
    if not form.validate():
        return render_code(form, status=422)
    now = models.now()
    try:
        accounts.claim_attempt(f"totp:{row.id}", account.client_ip(), now, user_id=row.id)
    except accounts.Throttled as error:
        response = render_code(form, problem=account.throttled_error(error), status=429)
        response.headers["Retry-After"] = str(error.wait)
        return response
    if not second_factor.check(row, form.code.data, now, ip=account.client_ip()):
        form.code.errors = [CODE_ERROR]
        return render_code(form, status=422)
    session.pop(PENDING, None)
    return finish_login(row, next_url)


def render_code(form, problem=None, status=200):
    prefix = "Erreur : " if problem or form.errors else ""
    return render(
        "espace/code.html",
        status=status,
        form=form,
        problem=problem,
        title=page_title("Code de vérification", errors=bool(prefix)),
    )


# --- The account's second factor ------------------------------------------------------


@bp.get("/compte/double-authentification")
@account.any_account
def double_authentification():
    return render_account_factor()


@bp.post("/compte/double-authentification/commencer")
@account.any_account
def double_authentification_commencer():
    # (Its CSRF token is checked app-wide, as every POST's.)
    session[SECRET] = second_factor.new_secret()
    return redirect(url_for(ACCOUNT_PAGE) + "#configurer", 303)


@bp.post("/compte/double-authentification/activer")
@account.any_account
def double_authentification_activer():
    secret = session.get(SECRET)
    if not isinstance(secret, str):
        return redirect(url_for(ACCOUNT_PAGE), 303)
    form = EnrolForm()
    if not form.validate():
        return render_account_factor(enrol=form, status=422)
    codes = second_factor.enrol(current_user.row, secret, form.code.data, models.now())
    if codes is None:
        form.code.errors = [ENROL_ERROR]
        return render_account_factor(enrol=form, status=422)
    session.pop(SECRET, None)
    session.pop(staff_session.MUST_ENROL, None)
    # Shown once, on this page only: never stored in clear, never in the session.
    return render_account_factor(recovery_codes=codes)


@bp.post("/compte/double-authentification/desactiver")
@account.any_account
def double_authentification_desactiver():
    row = current_user.row
    form = DisableSecondFactorForm()
    if second_factor.required(row):
        abort(409)
    if not form.validate():
        return render_account_factor(disable=form, status=422)
    if not accounts.check_password(row, form.password.data):
        form.password.errors = ["Votre mot de passe actuel est incorrect"]
        return render_account_factor(disable=form, status=422)
    second_factor.disable(row)
    flash("La double authentification est désactivée.", "info")
    return redirect(url_for(ACCOUNT_PAGE), 303)


def render_account_factor(enrol=None, disable=None, recovery_codes=None, status=200):
    row = models.Utilisateur.get_by_id(current_user.row.id)
    secret = session.get(SECRET) if not second_factor.enrolled(row) else None
    failed = [f for f in (enrol, disable) if f is not None and f.errors]
    prefix = "Erreur : " if failed else ""
    return render(
        "espace/double-authentification.html",
        status=status,
        account=row,
        enrolled=second_factor.enrolled(row),
        required=second_factor.required(row),
        secret=secret,
        qr=second_factor.qr_svg(secret, row.email) if secret else None,
        enrol=enrol or EnrolForm(formdata=None),
        disable=disable or DisableSecondFactorForm(formdata=None),
        recovery_codes=recovery_codes,
        codes_left=second_factor.recovery_codes_left(row) if second_factor.enrolled(row) else 0,
        failed=failed,
        title=page_title("Double authentification", errors=bool(prefix)),
    )


# --- The association's rule (responsable) ---------------------------------------------


@bp.post("/reglages/double-authentification")
@accounts.responsable_required
def reglages_double_authentification():
    form = SecondFactorRuleForm()
    if not form.validate():
        abort(400)
    association = settings.own_association()
    second_factor.set_association_rule(association, form.obligatoire.data, current_user.row)
    flash(
        "La double authentification est désormais obligatoire pour l'équipe."
        if form.obligatoire.data
        else "La double authentification n'est plus obligatoire pour l'équipe.",
        "info",
    )
    return redirect(url_for("espace.reglages") + "#double-authentification", 303)
