"""Staff accounts in the espace association: login, logout, lost password, invitation,
and the account page."""

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

import models
from domain import vocabulary as V
from forms.espace import (
    ROLE_LABELS,
    ChangePasswordForm,
    ForgotForm,
    LoginForm,
    NewPasswordForm,
    NotificationsForm,
)
from services import accounts, link_requests, second_factor
from views.espace import bp
from views.rendering import page_title, render

# Where each role lands after logging in: the inbox (/espace/) and the operator's pages
# (/admin/), built by other parts; until they exist, the account page.
STAFF_HOME = "/espace/"
ADMIN_HOME = "/admin/"
LOGGED_OUT = "Vous êtes déconnecté·e."
LOGIN_ERROR = "Adresse e-mail ou mot de passe incorrect"
THROTTLED_ERROR = (
    "Trop de tentatives de connexion : réessayez dans {wait}, "
    "ou choisissez « Mot de passe oublié ? »"
)


def throttled_error(error):
    minutes = -(-error.wait // 60)
    wait = "une minute" if minutes <= 1 else f"{minutes} minutes"
    return THROTTLED_ERROR.format(wait=wait)


FORGOT_SENT = (
    "Si cette adresse correspond à un compte, vous recevrez un lien dans quelques minutes "
    "pour choisir un nouveau mot de passe. Il est valable une heure."
)
LINK_PROBLEMS = {
    "inconnu": "Ce lien n'est pas valide. Vérifiez qu'il est complet, ou demandez-en un nouveau.",
    "utilise": "Ce lien a déjà servi : il ne peut être utilisé qu'une fois.",
    "expire": "Ce lien a expiré.",
}
any_account = accounts.role_required(*accounts.ROLES)


@bp.after_request
def no_store(response):
    # Staff pages show accounts and leads: never kept by a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def route_exists(path):
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return False
    return True


def home_url(role):
    path = ADMIN_HOME if role == "admin" else STAFF_HOME
    return path if route_exists(path) else url_for("espace.compte")


@bp.app_template_global()
def espace_nav():
    """The staff navigation's links for the logged-in user: [(label, href, current)]."""
    if not current_user.is_authenticated:
        return []
    links = []
    if current_user.role == "admin":
        if route_exists(ADMIN_HOME):
            links.append(("Administration", ADMIN_HOME))
    elif route_exists(STAFF_HOME):
        links.append(("Demandes", STAFF_HOME))
    if current_user.role == "responsable":
        links.append(("Réglages", url_for("espace.reglages")))
    links.append(("Mon compte", url_for("espace.compte")))
    return [(label, href, request.path == href) for label, href in links]


def safe_next(value):
    """`value` when it is a path of this site, else None (never another site)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or not value.isprintable():
        return None
    parts = urlsplit(value)
    return value if not (parts.scheme or parts.netloc) else None


def client_ip():
    return request.remote_addr or "inconnue"


# --- Login, logout -------------------------------------------------------------------


@bp.route("/connexion", methods=["GET", "POST"])
def connexion():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method != "POST":
        return redirect(next_url or home_url(current_user.role))
    form = LoginForm()
    if request.method != "POST":
        if request.args.get("deconnexion") == "1":
            flash(LOGGED_OUT, "info")
        return render_login(form, next_url)
    if not form.validate():
        return render_login(form, next_url, status=422)
    now = models.now()
    try:
        row = accounts.authenticate(form.email.data, form.password.data, client_ip(), now)
    except accounts.Throttled as error:
        response = render_login(form, next_url, problem=throttled_error(error), status=429)
        response.headers["Retry-After"] = str(error.wait)
        return response
    if row is None:
        return render_login(form, next_url, problem=LOGIN_ERROR, status=422)
    from views.espace import double_auth  # its pages build on this module's

    if second_factor.enrolled(row):
        return double_auth.begin_code_step(row, next_url)
    return double_auth.finish_login(row, next_url)


def render_login(form, next_url, problem=None, status=200):
    title = "Connexion à l'espace association"
    errors = bool(problem or form.errors)
    return render(
        "espace/connexion.html",
        status=status,
        form=form,
        next_url=next_url,
        problem=problem,
        title=page_title(title, errors=errors),
    )


@bp.post("/deconnexion")
def deconnexion():
    if current_user.is_authenticated:
        accounts.log_out(current_user.row)
        logout_user()
    # What this browser kept of the staff pages goes too, cookies included: the message
    # cannot ride in the session (a flash), the next page's address says it.
    response = redirect(url_for("espace.connexion", deconnexion=1), 303)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


# --- Lost password, links ------------------------------------------------------------


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def mot_de_passe_oublie():
    form = ForgotForm()
    if request.method == "POST":
        if not form.validate():
            return render_forgot(form, status=422)
        # Answered by `tick`: this page does the same work for any address.
        link_requests.ask(link_requests.RESET, form.email.data)
        # The same answer whether the address has an account or not.
        flash(FORGOT_SENT, "info")
        return redirect(url_for("espace.connexion"), 303)
    return render_forgot(form)


def render_forgot(form, status=200):
    prefix = "Erreur : " if form.errors else ""
    return render(
        "espace/mot-de-passe-oublie.html",
        status=status,
        form=form,
        title=page_title("Mot de passe oublié", errors=bool(prefix)),
    )


@bp.route("/reinitialisation/<secret:token>", methods=["GET", "POST"])
def reinitialisation(token):
    return password_link(token, accounts.RESET)


@bp.route("/invitation/<secret:token>", methods=["GET", "POST"])
def invitation(token):
    return password_link(token, accounts.INVITATION)


def password_link(token, purpose):
    """A link's GET only shows the form (mail scanners follow links); its POST acts."""
    now = models.now()
    row, why = accounts.find_token(token, purpose, now)
    if row is None:
        return render_link_problem(purpose, why)
    form = NewPasswordForm(email=row.utilisateur.email)
    if request.method != "POST":
        return render_link_form(purpose, form, row)
    if not form.validate():
        return render_link_form(purpose, form, row, status=422)
    user, why = accounts.use_token(token, purpose, form.nouveau.data, now)
    if user is None:
        if why in LINK_PROBLEMS:
            return render_link_problem(purpose, why)
        form.nouveau.errors = [why]
        return render_link_form(purpose, form, row, status=422)
    if purpose == accounts.INVITATION:
        flash("Votre compte est activé : connectez-vous avec votre nouveau mot de passe.", "info")
    else:
        flash("Votre mot de passe a été changé : connectez-vous avec le nouveau.", "info")
    if current_user.is_authenticated:
        logout_user()
    return redirect(url_for("espace.connexion"), 303)


def render_link_form(purpose, form, token_row, status=200):
    heading = (
        "Activez votre compte"
        if purpose == accounts.INVITATION
        else "Choisissez un nouveau mot de passe"
    )
    prefix = "Erreur : " if form.errors else ""
    return render(
        "espace/nouveau-mot-de-passe.html",
        status=status,
        form=form,
        heading=heading,
        purpose=purpose,
        account=token_row.utilisateur,
        action=request.path,
        title=page_title(heading, errors=bool(prefix)),
    )


def render_link_problem(purpose, why):
    return render(
        "espace/lien-invalide.html",
        status=410 if why in ("utilise", "expire") else 404,
        message=LINK_PROBLEMS[why],
        purpose=purpose,
        title=page_title("Lien inutilisable"),
    )


# --- My account ----------------------------------------------------------------------


@bp.route("/compte", methods=["GET", "POST"])
@any_account
def compte():
    row = current_user.row
    form = ChangePasswordForm(email=row.email)
    if request.method != "POST":
        return render_account(form)
    if not form.validate():
        return render_account(form, status=422)
    updated, errors = accounts.change_password(
        row, form.actuel.data, form.nouveau.data, models.now()
    )
    if updated is None:
        for name, message in errors.items():
            form[name].errors = [message]
        return render_account(form, status=422)
    # Every other session ended with the old epoch; this one goes on with the new one.
    login_user(accounts.User(updated))
    flash("Votre mot de passe a été changé. Vos autres sessions sont fermées.", "info")
    return redirect(url_for("espace.compte"), 303)


@bp.post("/compte/notifications")
@any_account
def compte_notifications():
    """The staff member's choice of e-mails about new leads (relances.py's digest)."""
    row = current_user.row
    if row.association_id is None:
        abort(404)  # the platform's admins get no new-lead e-mails
    form = NotificationsForm()
    if not form.validate():
        return render_account(ChangePasswordForm(email=row.email), status=422, notices=form)
    with models.write_transaction(durable=True):
        Utilisateur = models.Utilisateur
        Utilisateur.update(notifications=form.notifications.data).where(
            Utilisateur.id == row.id
        ).execute()
    flash(f"C'est noté : {V.NOTIFICATIONS.label(form.notifications.data).lower()}.", "info")
    return redirect(url_for("espace.compte") + "#notifications", 303)


def notifications_form(row):
    return NotificationsForm(formdata=None, data={"notifications": row.notifications})


def render_account(form, status=200, notices=None):
    row = current_user.row
    notices = notices or (notifications_form(row) if row.association_id else None)
    failed = [f for f in (form, notices) if f is not None and f.errors]
    prefix = "Erreur : " if failed else ""
    return render(
        "espace/compte.html",
        status=status,
        form=form,
        notices=notices,
        failed=failed,
        account=current_user.row,
        role_label=ROLE_LABELS[current_user.role],
        title=page_title("Mon compte", errors=bool(prefix)),
    )


# --- An association without accounts claims one ---------------------------------------

CLAIM_PROBLEMS = {
    "inconnu": LINK_PROBLEMS["inconnu"],
    "expire": (
        "Ce lien a expiré, ou l'adresse de l'association a changé depuis son envoi. Le "
        "prochain e-mail de la plateforme à l'association en contiendra un nouveau."
    ),
    "pourvue": (
        "Votre association a déjà un compte actif dans l'espace association : demandez à sa "
        "ou son responsable de vous inviter."
    ),
}


@bp.route("/rejoindre/<secret:token>", methods=["GET", "POST"])
def rejoindre(token):
    """The claim link of an association's e-mails (accounts.claim_token): GET shows what
    it does (mail scanners follow links), POST sends the invitation."""
    association, why = accounts.association_of_claim(token)
    if association is None:
        return render(
            "espace/lien-invalide.html",
            status=404 if why == "inconnu" else 410,
            message=CLAIM_PROBLEMS[why],
            purpose="rejoindre",
            title="Lien inutilisable — 1 jeune, 1 mentor",
        )
    sent = False
    if request.method == "POST":
        try:
            accounts.claim(
                association,
                models.now(),
                link=lambda secret: url_for("espace.invitation", token=secret),
            )
        except accounts.AccountError as error:
            return render(
                "espace/lien-invalide.html",
                status=409,
                message=str(error) + " : connectez-vous, ou choisissez « Mot de passe oublié ? ».",
                purpose="rejoindre",
                title="Lien inutilisable — 1 jeune, 1 mentor",
            )
        sent = True
    return render(
        "espace/rejoindre.html",
        association=association,
        sent=sent,
        title=page_title(f"Ouvrir le compte de {association.nom}"),
    )
