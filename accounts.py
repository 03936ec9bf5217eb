"""Staff accounts: who is logged in, and what each role may open.

Flask-Login keeps "<id>:<session_epoch>" in the signed session cookie; moving the user's
epoch (logout, password change) makes every cookie issued before it worthless, on every
worker and device, with no session table.
"""

import functools

from flask import abort
from flask_login import LoginManager, UserMixin, current_user

import models

ROLES = ("responsable", "membre", "admin")
STAFF_ROLES = ("responsable", "membre")

login_manager = LoginManager()
login_manager.login_view = "espace.connexion"
login_manager.login_message = "Connectez-vous pour accéder à l'espace association."
login_manager.login_message_category = "info"
# The session cookie is the only credential: no "remember me" cookie to revoke apart.
login_manager.session_protection = "basic"


class User(UserMixin):
    """The logged-in Utilisateur, as Flask-Login wants it."""

    def __init__(self, row):
        self.row = row

    def get_id(self):
        return f"{self.row.id}:{self.row.session_epoch}"

    @property
    def is_active(self):
        return self.row.actif

    @property
    def role(self):
        return self.row.role

    @property
    def association_id(self):
        return self.row.association_id


@login_manager.user_loader
def load_user(session_id):
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    Utilisateur = models.Utilisateur
    row = Utilisateur.get_or_none(
        (Utilisateur.id == int(user_id))
        & (Utilisateur.session_epoch == int(epoch))
        & Utilisateur.actif
    )
    return User(row) if row else None


def role_required(*roles):
    """The view needs a logged-in user with one of `roles`; staff need an association.

    Anonymous visitors go to the login page; a logged-in user without the role gets a 404
    (the page is not theirs, and need not be known to exist).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(404)
            if current_user.role in STAFF_ROLES and current_user.association_id is None:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorator


staff_required = role_required(*STAFF_ROLES)
responsable_required = role_required("responsable")
admin_required = role_required("admin")
