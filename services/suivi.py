"""The person's side of a sent lead, reached by the private link /suivi/<token>: the
confirmation e-mail at submit, what the follow-up page says, and the person's actions
(« je n'ai pas été recontacté·e », stop, export, delete, lost link).

Changes of status and hand-overs go through demandes.py, the one place that changes a
lead; this module adds what only the person does: export and erase their data.

Erased leads: the person's data is gone from every table and from the mail folder, and
the Lead row stays, anonymised, for the statistics (kind, département, besoin, age,
situation, dates, statuses, orientations). Such a row is recognised by its suivi_token,
replaced by ERASED_PREFIX + a random value that no URL can carry (is_erased): the old
link shows the kind 404, and no migration was needed.
"""

import datetime as dt
import re
import secrets

from peewee import SqliteDatabase, fn

import models
from domain import lifecycle, phones, workdays
from domain import vocabulary as V
from mail import emails
from models import Draft, Evenement, Lead, Message, Note
from services import demandes

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet (256 bits).
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
ERASED_PREFIX = "supprimee:"
AUTHOR = "personne"  # the timeline's author of what the person did
PARENT_AGE = 15  # under it, a parent's contact was asked and gets a copy

# Lost link: e-mails per lead to one address per hour, counted in the outbox (Message
# rows); the most recent leads of an address only.
LINK_KIND = "lien_suivi"
LINK_LIMIT_PER_HOUR = 3
LINK_LEADS = 5

# An erased lead keeps its kind, département, age, situation, besoin, dates, statuses and
# orientations (the statistics); these go, with every answer and the commune.
PERSONAL_COLUMNS = ("prenom", "nom", "email", "telephone", "contact_pref")

# The person's reasons to stop (CONTENT.md « Suivi »), as the staff's list says them.
STOP_TO_SANS_SUITE = {
    "autre_solution": "autre_solution",
    "plus_le_temps": "plus_interesse",
    "ne_convient_pas": "plus_interesse",
    "autre": "plus_interesse",
    "": "plus_interesse",
}
NOT_CONTACTED_NOTE = (
    "La personne signale, depuis son lien de suivi, ne pas avoir été recontactée dans le "
    "délai promis."
)


class NotAllowed(Exception):
    """The action is not offered for this lead now; `message` says why, in French."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --- Reading ------------------------------------------------------------------------------------
def is_erased(lead):
    return lead.suivi_token.startswith(ERASED_PREFIX)


def by_token(token):
    """The lead of this follow-up link, or None (wrong, old or erased link). A string
    that cannot be a token costs no query."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    return Lead.get_or_none(Lead.suivi_token == token)


def link(lead):
    return f"{emails.public_url()}/suivi/{lead.suivi_token}"


def today():
    """The French calendar day: a promised date is a day in France."""
    return workdays.paris_day(models.now())


def due_date(lead):
    """The last day the association promised to call back by, or None (no association):
    fixed when the lead reached it (workdays, the one due rule)."""
    return lead.due_on if lead.association_id is not None else None


def can_say_not_contacted(lead, on=None):
    """« Je n'ai pas été recontacté·e »: still nouvelle once the promised day is over."""
    return lead.status == lifecycle.INITIAL and workdays.is_late(due_date(lead), on or today())


def can_stop(lead):
    return lead.status in lifecycle.WAITING_FOR_PAIR


def parent_email(lead):
    """The parent's address, for a youth under 15 who gave one."""
    if lead.kind != "jeune" or lead.age is None or lead.age >= PARENT_AGE:
        return ""
    return (lead.answers or {}).get("parent_email") or ""


def addresses(lead):
    """The person's own addresses (and the parent's): whose e-mails are "about me"."""
    return [a for a in {lead.email, parent_email(lead)} if a]


def timeline(lead):
    """What the person reads of the lead's history: [(date, sentence)], oldest first.
    Never a staff note nor a staff name: only what happened, and where."""
    events = (
        Evenement.select().where(Evenement.lead == lead.id).order_by(Evenement.at, Evenement.id)
    )
    items = [
        (
            workdays.to_paris(lead.created_at),
            f"{V.PARCOURS.label(lead.kind, 'nom').capitalize()} envoyée",
        )
    ]
    for event in events:
        sentence = event_sentence(event)
        if sentence:
            items.append((workdays.to_paris(event.at), sentence))
    return items


def event_sentence(event):
    kind = event.kind
    if kind in ("orientation", "choix_alternative"):
        return "Transmise à une association de mentorat"
    if kind == "liste_attente":
        return "Inscrite sur la liste d'attente : nous cherchons une association"
    if kind == "transfert":
        return "Confiée à une autre association"
    if kind == "suppression_donnees":
        return None
    if event.to_status:
        return V.STATUT.label(event.to_status, "suivi")
    return None


def status_sentence(lead):
    """The status in plain words (CONTENT.md « Suivi »)."""
    association = lead.association
    name = association.nom if association else ""
    noun = V.PARCOURS.label(lead.kind, "nom")
    if lead.association_id is None:
        return (
            f"Nous cherchons une association pour vous : votre {noun} est sur notre liste "
            "d'attente."
        )
    handed = last_event(lead, "transfert")
    if lead.status == "nouvelle":
        due = due_date(lead)
        if handed is not None:
            return (
                f"Votre {noun} a été confiée à {name} le {date_fr(lead.routed_at)}. Elle doit "
                f"vous recontacter avant le {date_fr(due)}."
            )
        return (
            f"Votre {noun} a bien été transmise à {name}. Elle doit vous recontacter avant "
            f"le {date_fr(due)}."
        )
    if lead.status == "contactee":
        return f"{name} vous a contacté·e le {date_fr(lead.first_contact_at)}."
    if lead.status == "en_attente":
        return f"{name} vous a contacté·e et cherche le mentor qui vous correspond."
    if lead.status == "binome_forme":
        binome = demandes.open_binome(lead)
        start = binome.started_at if binome else lead.updated_at
        who = "un mentor" if lead.kind == "jeune" else "un ou une jeune"
        return f"Vous êtes en binôme avec {who} depuis le {date_fr(start)}."
    if lead.status == "terminee":
        return f"Votre accompagnement avec {name} est terminé."
    if lead.status == "sans_suite":
        return f"Votre {noun} est close : {name} ne la suit plus."
    return V.STATUT.label(lead.status)


def last_event(lead, kind):
    return (
        Evenement.select()
        .where((Evenement.lead == lead.id) & (Evenement.kind == kind))
        .order_by(Evenement.at.desc(), Evenement.id.desc())
        .first()
    )


def date_fr(value):
    """« 3 décembre 2026 »; a stored moment (naive UTC) is read in French time."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = workdays.to_paris(value).date() if value.tzinfo is None else value.date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {V.MOIS[value.month - 1]} {value.year}"


# --- E-mails to the person ----------------------------------------------------------------------
def association_context(association):
    if association is None:
        return None
    return {
        "nom": association.nom,
        "delai": association.delai_recontact,
        "email": association.email,
        "telephone": phones.display(association.telephone) if association.telephone else "",
        "site": association.site,
    }


def waiting_days():
    from flask import current_app, has_app_context

    return current_app.config["WAITING_LIST_DAYS"] if has_app_context() else 10


def send_confirmation(lead, waiting_list_days=None):
    """« Votre demande J-… est enregistrée » to the person, and to the parent under 15;
    inside submit's transaction, after demandes.orient. Returns the messages queued."""
    association = models.Association.get_by_id(lead.association_id) if lead.association_id else None
    context = dict(
        reference=lead.reference,
        noun=V.PARCOURS.label(lead.kind, "nom"),
        association=association_context(association),
        waiting_list_days=waiting_list_days or waiting_days(),
        link=link(lead),
    )
    sent = []
    if lead.email:
        sent.append(
            emails.send(
                "confirmation",
                lead.email,
                "confirmation",
                lead=lead,
                prenom=lead.prenom,
                parent=False,
                **context,
            )
        )
    parent = parent_email(lead)
    if parent and parent.lower() != lead.email.lower():
        answers = lead.answers or {}
        sent.append(
            emails.send(
                "confirmation",
                parent,
                "confirmation_parent",
                lead=lead,
                prenom=answers.get("parent_prenom", ""),
                enfant=lead.prenom,
                parent=True,
                **context,
            )
        )
    return sent


def notify_staff(association_id, template, lead, **context):
    """A notice to an association's staff: the reference only, never the person's data."""
    if association_id is None:
        return 0
    association = models.Association.get_by_id(association_id)
    staff = emails.staff_of(association_id)
    for user in staff:
        emails.send(
            template,
            user.email,
            template,
            lead=lead,
            reference=lead.reference,
            noun=V.PARCOURS.label(lead.kind, "nom"),
            association=association.nom,
            **context,
        )
    return len(staff)


# --- The person's actions -----------------------------------------------------------------------
def say_not_contacted(lead, expected_version=None):
    """« Je n'ai pas été recontacté·e »: hand the lead over to the next association the
    matcher proposes (never one already tried); the person and the new association are
    told by demandes.hand_over, the association left behind by this notice. Returns the
    lead as stored; NotAllowed when the promised delay has not passed (or it moved on)."""
    if not can_say_not_contacted(lead):
        raise NotAllowed(
            "Ce n'est pas encore possible : l'association a jusqu'à la date indiquée pour "
            "vous recontacter."
        )
    previous = lead.association_id
    with models.write_transaction(durable=True):
        # Read again inside the transaction: staff may have called meanwhile.
        row = models.locked(Lead.select().where(Lead.id == lead.id)).first()
        if row is None or is_erased(row) or not can_say_not_contacted(row):
            raise NotAllowed("Votre demande a changé entre-temps : voici où elle en est.")
        row = demandes.hand_over(
            row, AUTHOR, "autre", NOT_CONTACTED_NOTE, expected_version=expected_version
        )
        notify_staff(previous, "demande_reprise", row)
        if row.association_id is None and row.email:
            # No association left: hand_over tells nobody; the person learns it here.
            emails.send(
                "liste_attente",
                row.email,
                "liste_attente",
                lead=row,
                prenom=row.prenom,
                reference=row.reference,
                noun=V.PARCOURS.label(row.kind, "nom"),
                waiting_list_days=waiting_days(),
                link=link(row),
            )
    return row


def stop(lead, reason=""):
    """« Je ne souhaite plus être accompagné·e »: sans suite, with the person's reason
    (V.MOTIF_ARRET) said in the staff's own list and, word for word, in the note."""
    if reason not in STOP_TO_SANS_SUITE:
        raise NotAllowed("Choisissez un motif dans la liste.")
    if not can_stop(lead):
        raise NotAllowed("Votre demande est déjà close.")
    note = "Arrêt demandé par la personne depuis son lien de suivi"
    if reason:
        note += f" : {V.MOTIF_ARRET.label(reason)}"
    with models.write_transaction(durable=True):
        row = close_by_person(lead, STOP_TO_SANS_SUITE[reason], note + ".")
    demandes._refresh(lead, row)
    return row


def close_by_person(lead, reason, note, by=AUTHOR):
    """Sans suite through demandes, inside the caller's transaction. The person closing a
    lead still nouvelle is no contact by the association: its first contact stays unset,
    so the responsiveness figures do not count it as called back (nor does retention's
    erasure, `by` "tick")."""
    locked = models.locked(Lead.select(Lead.first_contact_at).where(Lead.id == lead.id))
    contacted = locked.first().first_contact_at is not None
    row = demandes.change_status(lead.id, "sans_suite", by, reason=reason, note=note)
    if not contacted and row.first_contact_at is not None:
        Lead.update(first_contact_at=None).where(Lead.id == row.id).execute()
        row.first_contact_at = None
    return row


def export(lead):
    """Everything stored about the person, as JSON-ready data: every answer, every event
    of the timeline (what happened and when; the staff's notes and names are theirs), and
    every e-mail of this lead (to them, to their parent, or to staff about the lead).

    E-mails are the lead's own rows (Message.lead), never found by address: an address is
    typed by whoever sent the demande and proves nothing, so messages to it that belong to
    no lead (a staff password reset, an invitation) or to another lead stay out."""
    mine = {a.lower() for a in addresses(lead)}
    messages = (
        Message.select().where(Message.lead == lead.id).order_by(Message.created_at, Message.id)
    )
    events = (
        Evenement.select().where(Evenement.lead == lead.id).order_by(Evenement.at, Evenement.id)
    )
    association = lead.association
    return {
        "reference": lead.reference,
        "type": V.PARCOURS.label(lead.kind, "nom"),
        "statut": V.STATUT.label(lead.status),
        "association": association.nom if association else None,
        "envoyee_le": iso(lead.created_at),
        "coordonnees": {
            "prenom": lead.prenom,
            "nom": lead.nom,
            "email": lead.email,
            "telephone": lead.telephone,
            "contact_pref": lead.contact_pref,
        },
        "reponses": lead.answers,
        "evenements": [
            {
                "date": iso(e.at),
                "evenement": V.EVENEMENT.label(e.kind),
                "statut_avant": V.STATUT.label(e.from_status) if e.from_status else "",
                "statut_apres": V.STATUT.label(e.to_status) if e.to_status else "",
                "motif": event_motif(e),
                "par": "vous" if e.author == AUTHOR else "",
            }
            for e in events
        ],
        "emails": [
            {
                "date": iso(m.created_at),
                "envoye_le": iso(m.sent_at),
                "destinataire": m.to if m.to.lower() in mine else "l'équipe de l'association",
                "objet": m.subject,
                "texte": m.body,
            }
            for m in messages
        ],
    }


def event_motif(event):
    for vocab in (V.MOTIF_SANS_SUITE, V.MOTIF_TRANSFERT):
        if event.motif in vocab:
            return vocab.label(event.motif)
    return ""


def iso(moment):
    return workdays.to_paris(moment).isoformat(timespec="seconds") if moment else None


def erase(lead, mail_dir, by=AUTHOR, kind="suppression_donnees", tell_staff=True):
    """Delete the person's data now: their columns and answers in the Lead row (kept,
    anonymised, for the statistics), the drafts it came from, every e-mail about them
    (bodies included), the staff's notes and the timeline's free texts (they speak of
    the person), and their .eml files in `mail_dir`. The association is told the
    reference only. SQLite overwrites deleted bytes (secure_delete, models.SQLITE_PRAGMAS)
    and the WAL is truncated after the commit, so the data is gone from the files too.

    The one erasure: the person's own (defaults), and retention's (relances.py: `by`
    "tick", `kind` "anonymisation", the staff not told of a lead long closed)."""
    with models.write_transaction(durable=True):
        row = models.locked(Lead.select().where(Lead.id == lead.id)).first()
        if row is None or is_erased(row):
            return False
        close_for_erasure(row, by)
        # The lead's own messages only (Message.lead), never those found by address: the
        # address was typed by the sender, and may be someone else's.
        mine = Message.select(Message.id).where(Message.lead == row.id)
        message_ids = [m for (m,) in mine.tuples()]
        Message.delete().where(Message.id.in_(message_ids)).execute()
        Draft.delete().where(Draft.lead == row.id).execute()
        Note.delete().where(Note.lead == row.id).execute()
        Evenement.update(note="").where(Evenement.lead == row.id).execute()
        Evenement.create(lead=row.id, kind=kind, author=by, to_status=row.status, at=models.now())
        fields = {column: "" for column in PERSONAL_COLUMNS}
        token = ERASED_PREFIX + secrets.token_hex(16)
        Lead.update(
            answers={},
            commune=None,
            suivi_token=token,
            updated_at=models.now(),
            version=Lead.version + 1,
            **fields,
        ).where(Lead.id == row.id).execute()
        row.suivi_token = token
        if tell_staff:
            notify_staff(row.association_id, "donnees_supprimees", row)
    remove_mail_files(mail_dir, message_ids)
    truncate_wal()
    return True


def close_for_erasure(row, by=AUTHOR):
    """Nobody is left to call: an open lead is closed (sans suite, or its pair ended),
    by demandes' own rules, inside the caller's transaction."""
    if row.status in lifecycle.WAITING_FOR_PAIR:
        close_by_person(row, "plus_interesse", "Données supprimées.", by)
    elif row.status in lifecycle.PAIR_STATUSES:
        demandes.change_status(row, "terminee", by)
    fresh = Lead.get_by_id(row.id)
    row.status, row.version = fresh.status, fresh.version


def remove_mail_files(mail_dir, message_ids):
    """The .eml files of the deleted messages. A sender writing one of them at this very
    moment removes it itself once it finds its row gone (outbox.send_batch)."""
    if mail_dir is None or not mail_dir.is_dir():
        return
    for message_id in message_ids:
        (mail_dir / f"message-{message_id:06d}.eml").unlink(missing_ok=True)


def truncate_wal():
    """SQLite keeps old pages in the WAL file until it is overwritten: empty it now. A
    reader still open may keep it (busy): the next checkpoint does it then."""
    if isinstance(models.db.obj, SqliteDatabase):
        models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --- « J'ai perdu mon lien » --------------------------------------------------------------------
def resend_links(address, now=None):
    """E-mail its follow-up link to each lead of this address (the most recent
    LINK_LEADS), one message per lead, written as that lead's (Message.lead): a lead's
    export and erasure then see its own link e-mails, never another lead's. A lead that
    already had LINK_LIMIT_PER_HOUR of them sent to this address in the last hour is
    skipped. Returns the count queued (0 when unknown or limited); the page says the
    same either way."""
    address = (address or "").strip().lower()
    if not address:
        return 0
    now = now or models.now()
    queued = 0
    with models.write_transaction(durable=True):
        for lead in leads_of(address)[-LINK_LEADS:]:
            recent = (
                Message.select()
                .where(
                    (Message.lead == lead.id)
                    & (fn.LOWER(Message.to) == address)
                    & (Message.kind == LINK_KIND)
                    & (Message.created_at > now - dt.timedelta(hours=1))
                )
                .count()
            )
            if recent >= LINK_LIMIT_PER_HOUR:
                continue
            emails.send(
                "lien_suivi",
                address,
                LINK_KIND,
                lead=lead,
                noun=V.PARCOURS.label(lead.kind, "nom"),
                reference=lead.reference,
                link=link(lead),
            )
            queued += 1
    return queued


def leads_of(address):
    """The leads whose person, or parent (under 15), gave this address (lower-cased). The
    parent's is inside the answers: matched by LIKE, then checked exactly."""
    query = (
        Lead.select()
        .where(
            ((fn.LOWER(Lead.email) == address) | fn.LOWER(Lead.answers).contains(address))
            & ~Lead.suivi_token.startswith(ERASED_PREFIX)
        )
        .order_by(Lead.created_at)
    )
    return [lead for lead in query if address in (lead.email.lower(), parent_email(lead).lower())]
