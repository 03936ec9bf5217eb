"""The product's e-mails: their texts in templates/emails/*.txt, rendered here, queued
in the outbox by the change that causes them (inside its write transaction).

A template's first line is the subject, then one empty line, then the body (plain text,
UTF-8, short lines; `public_url` is always there for links). Staff e-mails never carry
personal data of the person: a reference and a link to the espace association, where
staff must log in. To add an e-mail: write templates/emails/<name>.txt, then, inside the
write transaction of the change, `emails.send("<name>", to, kind="<name>", link=…)`.
"""

import os
from pathlib import Path

import flask
import jinja2

import models
from domain import phones
from mail import outbox
from services import accounts

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates" / "emails"),
    autoescape=False,  # plain text, never HTML
    undefined=jinja2.StrictUndefined,  # a missing value fails, it is never sent blank
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def public_url():
    """The site's address for links in e-mails (config PUBLIC_URL), without a final /."""
    if flask.has_app_context():
        url = flask.current_app.config["PUBLIC_URL"]
    else:  # scripts and tests that run leads outside the app
        url = os.environ.get("PUBLIC_URL", DEFAULT_PUBLIC_URL)
    return url.rstrip("/")


def render(name, **context):
    """(subject, body) of templates/emails/<name>.txt."""
    text = environment.get_template(f"{name}.txt").render(public_url=public_url(), **context)
    subject, blank, body = text.partition("\n\n")
    if not blank or "\n" in subject.strip():
        raise ValueError(f"emails/{name}.txt : l'objet, une ligne vide, puis le texte")
    return subject.strip(), body.strip() + "\n"


def send(name, to, kind, lead=None, **context):
    """Render templates/emails/<name>.txt and queue it; inside a write_transaction."""
    subject, body = render(name, **context)
    return outbox.queue(to, subject, body, kind=kind, lead=lead)


# Utilisateur.notifications of staff who get one digest a day instead (relances.py).
DIGEST = "resume_quotidien"


def staff_of(association_id, new_lead=False):
    """The active staff accounts of an association (responsables and membres); with
    `new_lead`, only those who want an e-mail per new lead (the others get the digest)."""
    Utilisateur = models.Utilisateur
    condition = (
        (Utilisateur.association == association_id)
        & Utilisateur.actif
        & Utilisateur.role.in_(accounts.STAFF_ROLES)
    )
    if new_lead:
        condition &= Utilisateur.notifications != DIGEST
    return list(
        Utilisateur.select(Utilisateur.id, Utilisateur.email)
        .where(condition)
        .order_by(Utilisateur.id)
    )


def unread_inbox(association, base=None):
    """For an association with no active staff account: {"to": its catalogue address,
    "rejoindre": its claim link} (accounts.claim_url), so its e-mails about leads reach
    someone; None when it has staff (or no address: nobody can be told, the operator's
    list says so)."""
    if not association.email or not flask.has_app_context() or staff_of(association.id):
        return None  # (the claim link is signed with the app's SECRET_KEY)
    return {
        "to": association.email,
        "rejoindre": accounts.claim_url(association, base or public_url()),
    }


def notify_new_lead(lead, association_id=None, base_url=None):
    """« Nouvelle demande J-… » (or candidature) to the staff of `association_id` (default:
    the lead's association); call inside the write transaction that routed the lead there.
    `base_url` replaces PUBLIC_URL in the link. Returns how many were queued."""
    association_id = association_id or lead.association_id
    if association_id is None:
        return 0
    association = models.Association.get_by_id(association_id)
    base = base_url.rstrip("/") if base_url else public_url()
    subject, body = render(
        "nouvelle_demande",
        jeune=lead.kind == "jeune",
        reference=lead.reference,
        association=association.nom,
        delai=association.delai_recontact,
        link=f"{base}/espace/demandes/{lead.reference}",
    )
    recipients = staff_of(association.id, new_lead=True)
    for user in recipients:
        outbox.queue(user.email, subject, body, kind="nouvelle_demande", lead=lead)
    if not recipients and (inbox := unread_inbox(association, base)):
        subject, body = render(
            "nouvelle_demande",
            jeune=lead.kind == "jeune",
            reference=lead.reference,
            association=association.nom,
            delai=association.delai_recontact,
            link=f"{base}/espace/demandes/{lead.reference}",
            rejoindre=inbox["rejoindre"],
        )
        # Not linked to the lead (lead=None): mail to an address of the catalogue, with no
        # personal data, is no part of the person's export or erasure (suivi).
        outbox.queue(inbox["to"], subject, body, kind="nouvelle_demande", lead=None)
        return 1
    return len(recipients)


def notify_person_of_hand_over(lead, association, first=False):
    """« Votre demande J-… est confiée à <Association> », with its public contact, to the
    person: by e-mail when they gave an address, by SMS when they chose it or gave no
    address (sms.wants_sms); inside the hand-over's transaction. `first`: the lead comes
    from the waiting list, this is its first association (not « une autre »)."""
    from mail import sms

    if sms.wants_sms(lead):
        sms.queue(
            lead.telephone,
            "demande_confiee",
            "transfert",
            lead=lead,
            noun="demande" if lead.kind == "jeune" else "candidature",
            reference=lead.reference,
            association=association.nom,
            link=sms.short_link(lead.suivi_token),
        )
    if not lead.email:
        return None
    return send(
        "demande_confiee",
        lead.email,
        kind="transfert",
        lead=lead,
        jeune=lead.kind == "jeune",
        first=first,
        prenom=lead.prenom,
        reference=lead.reference,
        association=association.nom,
        delai=association.delai_recontact,
        link=f"{public_url()}/suivi/{lead.suivi_token}",
        contact=[
            line
            for line in (
                f"e-mail : {association.email}" if association.email else "",
                f"téléphone : {phones.display(association.telephone)}"
                if association.telephone
                else "",
                f"site : {association.site}" if association.site else "",
            )
            if line
        ],
    )
