"""The daily digest (moved out of relances.py as is): staff who chose it
(Utilisateur.notifications) get no e-mail per new lead (emails.notify_new_lead) but one a
day (send_digests), claimed by a Resume row (user, day); the operator one a day too
(send_operator_digest), claimed by a ResumeOperateur row (day)."""

import datetime as dt

from peewee import IntegrityError, fn

import models
from domain import lifecycle, workdays
from jobs.relances import as_datetime, noun, staff_link
from mail import emails
from models import Association, Lead, Resume, ResumeOperateur, Utilisateur
from services import accounts

DIGEST = emails.DIGEST
DIGEST_WINDOW = dt.timedelta(days=1)  # a first digest lists the last day's leads


# --- Daily digest ----------------------------------------------------------------------------
def send_digests(app, now=None):
    """Once a day, from DIGEST_HOUR (French time), each staff member who chose the digest
    gets the leads that reached the association since their previous digest and are still
    "nouvelle"; nothing new, no e-mail (the day is claimed all the same)."""
    now = now or models.now()
    local = workdays.to_paris(now)
    if local.hour < app.config.get("DIGEST_HOUR", 7):
        return "Résumés quotidiens : pas avant l'heure."
    day = local.date()
    users = list(
        Utilisateur.select(Utilisateur, Association)
        .join(Association)
        .where(
            (Utilisateur.notifications == DIGEST)
            & Utilisateur.actif
            & Utilisateur.role.in_(("responsable", "membre"))
            & (Utilisateur.password_hash != "")
            # Today's already claimed: no write transaction per user on every tick.
            & ~(Utilisateur.id << Resume.select(Resume.utilisateur).where(Resume.jour == day))
        )
    )
    sent = 0
    for user in users:
        sent += send_digest(user, day, now)
    return f"Résumés quotidiens : {sent} envoyé(s)."


def send_digest(user, day, now):
    with models.write_transaction(durable=True):
        previous = Resume.select(fn.MAX(Resume.at)).where(Resume.utilisateur == user.id).scalar()
        start = as_datetime(previous) if previous else now - DIGEST_WINDOW
        try:
            with models.db.atomic():
                claimed = Resume.create(utilisateur=user.id, jour=day, at=now)
        except IntegrityError:
            return 0  # today's digest is another tick's, or already sent
        leads = list(
            Lead.select(Lead.id, Lead.reference, Lead.kind)
            .where(
                (Lead.association == user.association_id)
                & (Lead.status == lifecycle.INITIAL)
                & (Lead.routed_at >= start)
                & (Lead.routed_at < now)
            )
            .order_by(Lead.routed_at, Lead.id)
        )
        if not leads:
            return 0
        claimed.leads = len(leads)
        claimed.save(only=[Resume.leads])
        association = user.association
        emails.send(
            "resume_quotidien",
            user.email,
            kind=DIGEST,
            association=association.nom,
            delai=association.delai_recontact,
            compte=f"{emails.public_url()}/espace/compte",
            leads=[
                {"noun": noun(lead), "reference": lead.reference, "link": staff_link(lead)}
                for lead in leads
            ],
        )
    return 1


# --- The operator's daily digest -------------------------------------------------------------
def send_operator_digest(app, now=None):
    """Once a day, from DIGEST_HOUR, OPERATOR_EMAIL gets what needs the platform: the
    associations receiving leads that nobody can read (accounts.unread_associations) and
    the waiting list. Nothing to say, no e-mail (the day is claimed all the same)."""
    now = now or models.now()
    operator = (app.config.get("OPERATOR_EMAIL") or "").strip()
    if not operator:
        return "Résumé de l'opérateur : OPERATOR_EMAIL est vide."
    local = workdays.to_paris(now)
    if local.hour < app.config.get("DIGEST_HOUR", 7):
        return "Résumé de l'opérateur : pas avant l'heure."
    with models.write_transaction(durable=True):
        try:
            with models.db.atomic():
                ResumeOperateur.create(jour=local.date(), at=now)
        except IntegrityError:
            return "Résumé de l'opérateur : déjà envoyé aujourd'hui."
        unread = accounts.unread_associations()
        waiting = Lead.select().where(Lead.waiting_list).count()
        if not unread and not waiting:
            return "Résumé de l'opérateur : rien à signaler."
        emails.send(
            "resume_operateur",
            operator,
            kind="resume_operateur",
            sans_lecteur=[
                {"nom": row.nom, "demandes": count, "adresse": bool(row.email)}
                for row, count in unread
            ],
            en_attente=waiting,
            admin=f"{emails.public_url()}/admin/",
        )
    return "Résumé de l'opérateur : envoyé."
