"""The security journal: one function writes it, inside the transaction of the action it
records (so an action and its entry are committed together, or neither).

An entry holds account ids and the client address only: never an e-mail address, a name,
a password or a token (details are counts, kinds and ids).
"""

import datetime as dt

from flask import has_request_context, request

import models

# Every kind of entry, with its label on /admin/journal.
KINDS = {
    "connexion": "Connexion",
    "mot_de_passe_valide": "Mot de passe correct, code demandé",
    "echec_connexion": "Échec de connexion",
    "verrouillage": "Tentatives bloquées",
    "deconnexion": "Déconnexion",
    "reinitialisation_demandee": "Lien de réinitialisation demandé",
    "reinitialisation": "Mot de passe réinitialisé",
    "mot_de_passe_change": "Mot de passe changé",
    "invitation": "Invitation",
    "invitation_acceptee": "Invitation acceptée",
    "double_auth_activee": "Double authentification activée",
    "double_auth_desactivee": "Double authentification désactivée",
    "double_auth_echec": "Code de double authentification refusé",
    "code_secours_utilise": "Code de secours utilisé",
    "double_auth_reglage": "Réglage de double authentification de l'association",
    "desactivation": "Compte désactivé",
    "activation": "Compte réactivé",
    "changement_role": "Rôle changé",
    "export": "Export CSV",
    "import_catalogue": "Import du catalogue",
    "renvoi_email": "E-mails renvoyés",
}
DEFAULT_RETENTION_DAYS = 365


def client_address():
    return (request.remote_addr or "")[:64] if has_request_context() else ""


def record(kind, user=None, target=None, **details):
    """Write one entry. `user`: who acted (a row or an id), `target`: whom it concerns."""
    assert kind in KINDS, kind
    models.SecurityEvent.create(
        kind=kind,
        at=models.now(),
        utilisateur_id=_id(user),
        target_id=_id(target),
        ip=client_address(),
        details=details,
    )


def _id(row):
    return row if row is None or isinstance(row, int) else row.id


def purge(now, retention_days):
    """For `tick`: entries older than the retention are deleted; returns how many."""
    SecurityEvent = models.SecurityEvent
    with models.write_transaction():
        return (
            SecurityEvent.delete()
            .where(SecurityEvent.at < now - dt.timedelta(days=retention_days))
            .execute()
        )


PAGE_SIZE = 50


def search(kind=None, user_id=None, since=None, until=None, page=1):
    """(entries of the page, whether a next page exists), newest first: one query."""
    SecurityEvent = models.SecurityEvent
    query = SecurityEvent.select()
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    if user_id is not None:
        query = query.where(
            (SecurityEvent.utilisateur_id == user_id) | (SecurityEvent.target_id == user_id)
        )
    if since:
        query = query.where(SecurityEvent.at >= dt.datetime.combine(since, dt.time()))
    if until:
        query = query.where(
            SecurityEvent.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        )
    rows = list(
        query.order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
