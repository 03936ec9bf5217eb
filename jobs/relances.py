"""Nothing waits in silence: the scheduler's duties about leads (scheduler.DUTIES).

For every lead still "nouvelle" at an association, counting French working days from
when it reached that association (Lead.routed_at; a hand-over starts the count again)
with the delay promised then (n days, read from Lead.due_on: workdays' one due rule):
  - n days: a reminder to the association's staff (relance_1);
  - 2n days: a last reminder, copied to the operator (relance_2, OPERATOR_EMAIL);
  - AUTO_HANDOVER_FACTOR × n days (3 by default, 0: never): handed over by demandes.hand_over,
    as if the person had asked; none left: the waiting list, and the operator is told.
A lead "en_attente" for EN_ATTENTE_NUDGE_DAYS days gets one nudge (relance_attente).
A reminder is due on its day (workdays.add_working_days from the routing day, in France),
never the day before; a tick that did not run for a while sends only the latest one due.

Claims, not checks: each reminder is a Relance row under a unique key (lead, kind, since),
inserted in the write transaction that queues its e-mails and writes its timeline event,
after locking the lead and reading it again. Two ticks at once: one insert wins, the other
rolls its savepoint back and sends nothing. A hand-over passes the lead's version as read
(demandes' compare-and-set): the second tick finds it moved on (StaleLead) and stops.

The daily digest is in digest.py; drafts and retention in retention.py.
"""

import datetime as dt

from peewee import IntegrityError, fn

import models
from domain import lifecycle, workdays
from domain import vocabulary as V
from mail import emails
from models import Association, Evenement, Lead, Relance
from services import demandes

AUTHOR = "tick"  # the timeline's author of what the platform did on its own
REASON = "sans_reponse"  # vocabulary.MOTIF_TRANSFERT, one of V.AUTOMATIC_MOTIFS
FIRST, LAST, WAITING = "relance_1", "relance_2", "relance_attente"


class ConfigError(ValueError):
    """A setting of the reminders cannot be used; the message says what to fix."""


# --- Time ------------------------------------------------------------------------------------
def stage_day(lead, multiple):
    """The day a lead has waited `multiple` times the delay promised when it arrived."""
    n = workdays.promised_delay(lead.routed_at, lead.due_on)
    return workdays.due_day(lead.routed_at, multiple * n)


# --- Settings --------------------------------------------------------------------------------
def handover_factor(config):
    factor = config.get("AUTO_HANDOVER_FACTOR", 3)
    if not isinstance(factor, int) or isinstance(factor, bool) or (factor and factor < 3):
        raise ConfigError(
            "AUTO_HANDOVER_FACTOR : un nombre entier, 3 ou plus (après le dernier rappel), "
            "ou 0 pour ne jamais confier automatiquement"
        )
    return factor


def operator_email(config):
    return (config.get("OPERATOR_EMAIL") or "").strip()


# --- Claims ----------------------------------------------------------------------------------
def claim(lead, kind, since, now):
    """Insert the reminder's Relance row; False when another tick (or an earlier one)
    already holds it. Inside the caller's write transaction: a savepoint, so the refused
    insert leaves the transaction usable (PostgreSQL aborts it otherwise)."""
    try:
        with models.db.atomic():
            Relance.create(lead=lead, kind=kind, since=since, at=now)
    except IntegrityError:
        return False
    return True


def lock_if(lead_id, status, since_field, since):
    """The lead's row, locked, if it is still in `status` since the same moment."""
    query = Lead.select().where((Lead.id == lead_id) & (Lead.status == status))
    if since_field is not None:
        query = query.where(since_field == since)
    return models.locked(query).first()


def event(row, kind, now, note=""):
    """A timeline entry that is no move (no statuses): the staff's timeline shows it, the
    person's follow-up page does not (suivi.event_sentence)."""
    Evenement.create(lead=row, kind=kind, author=AUTHOR, note=note, at=now)


def noun(lead):
    return V.PARCOURS.label(lead.kind, "nom")


def staff_link(lead):
    return f"{emails.public_url()}/espace/demandes/{lead.reference}"


def send_to_staff(association, template, lead, **context):
    """The same e-mail to each active staff member of the association (whatever their
    choice of new-lead e-mails: a reminder is no new lead); returns how many."""
    staff = emails.staff_of(association.id)
    common = {
        "noun": noun(lead),
        "reference": lead.reference,
        "association": association.nom,
        "link": staff_link(lead),
        **context,
    }
    for user in staff:
        emails.send(template, user.email, kind=template, lead=lead, **common)
    if not staff and (inbox := emails.unread_inbox(association)):
        # Nobody has an account: the association's own address, with the claim link (not
        # linked to the lead, as emails.notify_new_lead says).
        emails.send(template, inbox["to"], kind=template, rejoindre=inbox["rejoindre"], **common)
        return 1
    return len(staff)


# --- Leads still "nouvelle" ------------------------------------------------------------------
class Report:
    def __init__(self):
        self.first = self.last = self.handed_over = self.waiting_list = 0
        self.notes = []

    def __str__(self):
        text = (
            f"Relances : {self.first} rappel(s), {self.last} dernier(s) rappel(s), "
            f"{self.handed_over} demande(s) confiée(s) à une autre association, "
            f"{self.waiting_list} en liste d'attente."
        )
        return " ".join([text, *sorted(set(self.notes))])


def remind_late_leads(app, now=None):
    """The duty: reminders at n and 2n working days, the hand-over at factor × n."""
    now = now or models.now()
    factor = handover_factor(app.config)
    operator = operator_email(app.config)
    today = workdays.paris_day(now)
    report = Report()
    for lead, association in late_candidates(today):
        stage = stage_of(lead, factor, today)
        if stage == "transfert":
            hand_over_late(lead, association, factor, operator, now, report)
        elif stage is not None and stage not in lead.claimed:
            remind(lead, association, stage, factor, operator, now, report)
    return str(report)


def late_candidates(today):
    """[(lead, association)]: leads "nouvelle" at an association that have waited at
    least the delay promised; each lead's reminders of this routing in lead.claimed.
    Two queries, whatever the number of leads."""
    # Reminded on its due day itself: leads whose day is today or past.
    rows = list(
        Lead.select(Lead, Association)
        .join(Association)
        .where((Lead.status == lifecycle.INITIAL) & (Lead.due_on <= today))
        .order_by(Lead.routed_at, Lead.id)
    )
    claims = {}
    if rows:
        query = Relance.select(Relance.lead, Relance.kind, Relance.since).where(
            Relance.lead.in_([row.id for row in rows]) & Relance.kind.in_((FIRST, LAST))
        )
        for lead_id, kind, since in query.tuples():
            claims.setdefault((lead_id, since), set()).add(kind)
    for row in rows:
        row.claimed = claims.get((row.id, row.routed_at), set())
    return [(row, row.association) for row in rows]


def stage_of(lead, factor, today):
    """The latest step due today: "transfert", LAST, FIRST or None."""
    if factor and stage_day(lead, factor) <= today:
        return "transfert"
    if stage_day(lead, 2) <= today:
        return LAST
    if lead.due_on <= today:
        return FIRST
    return None


def remind(lead, association, kind, factor, operator, now, report):
    delai = workdays.promised_delay(lead.routed_at, lead.due_on)
    days = delai * (2 if kind == LAST else 1)
    context = {
        "jours": days,
        "dernier": kind == LAST,
        "jours_restants": (factor - 2) * delai if factor else 0,
        "copie": bool(operator),  # the e-mail says a copy goes only when one does
    }
    with models.write_transaction(durable=True):
        row = lock_if(lead.id, lifecycle.INITIAL, Lead.routed_at, lead.routed_at)
        if row is None or row.association_id != association.id:
            return  # contacted, handed over or erased since it was read
        if not claim(row, kind, lead.routed_at, now):
            return
        sent = send_to_staff(association, "relance", row, delai=delai, **context)
        note = f"{sent} membre(s) de l'équipe prévenu(s)"
        if kind == LAST:
            if operator:
                emails.send(
                    "relance_operateur",
                    operator,
                    kind="relance_operateur",
                    lead=row,
                    noun=noun(row),
                    reference=row.reference,
                    association=association.nom,
                    delai=delai,
                    jours=days,
                    facteur=factor,
                    jours_restants=context["jours_restants"],
                )
                note += ", copie à la plateforme"
            else:
                note += ", pas de copie à la plateforme (OPERATOR_EMAIL vide)"
                report.notes.append("Copie à l'opérateur non envoyée : OPERATOR_EMAIL est vide.")
        if not sent:
            report.notes.append(
                "Une association sans compte actif ni adresse dans le catalogue "
                "n'a reçu aucun rappel."
            )
        event(row, kind, now, note=note + ".")
    if kind == LAST:
        report.last += 1
    else:
        report.first += 1


def hand_over_late(lead, association, factor, operator, now, report):
    """Confide the lead to the next association, through demandes.hand_over, as if the
    person had asked; the association left behind is told (reference only), and with no
    association left the operator (the waiting list is theirs)."""
    delai = workdays.promised_delay(lead.routed_at, lead.due_on)
    days = factor * delai
    note = f"Toujours « nouvelle » après {days} jours ouvrés, malgré les rappels."
    with models.write_transaction(durable=True):
        row = lock_if(lead.id, lifecycle.INITIAL, Lead.routed_at, lead.routed_at)
        if row is None or row.version != lead.version or row.association_id != association.id:
            return  # another tick, or staff, moved it meanwhile
        try:
            row = demandes.hand_over(row, AUTHOR, REASON, note, expected_version=lead.version)
        except (demandes.StaleLead, lifecycle.TransitionError):
            return
        send_to_staff(
            association,
            "demande_retiree",
            row,
            delai=delai,
            jours=days,
            autre=row.association_id is not None,
        )
        if row.association_id is None:
            report.waiting_list += 1
            tell_operator_of_waiting_list(row, association, days, operator, report)
        else:
            report.handed_over += 1


def tell_operator_of_waiting_list(row, association, days, operator, report):
    if not operator:
        report.notes.append("Liste d'attente : OPERATOR_EMAIL est vide, personne n'est prévenu.")
        return
    emails.send(
        "liste_attente_operateur",
        operator,
        kind="liste_attente_operateur",
        lead=row,
        noun=noun(row),
        reference=row.reference,
        association=association.nom,
        jours=days,
    )


# --- Leads "en_attente" for long -------------------------------------------------------------
def nudge_waiting_leads(app, now=None):
    """One nudge per stay in "en_attente" beyond EN_ATTENTE_NUDGE_DAYS days (its start:
    the latest event that moved the lead there)."""
    now = now or models.now()
    days = app.config.get("EN_ATTENTE_NUDGE_DAYS", 60)
    entered = (
        Evenement.select(Evenement.lead, fn.MAX(Evenement.at).alias("since"))
        .where(ENTERED_WAITING)
        .group_by(Evenement.lead)
        .alias("entered")
    )
    rows = list(
        Lead.select(Lead, entered.c.since.alias("since"))
        .join(entered, on=(entered.c.lead_id == Lead.id))
        .where(
            (Lead.status == "en_attente")
            & Lead.association.is_null(False)
            & (entered.c.since <= now - dt.timedelta(days=days))
        )
        .objects()
    )
    done = set()
    if rows:
        done = set(
            Relance.select(Relance.lead, Relance.since)
            .where(Relance.lead.in_([r.id for r in rows]) & (Relance.kind == WAITING))
            .tuples()
        )
    sent = 0
    for lead in rows:
        since = as_datetime(lead.since)
        if (lead.id, since) not in done:
            sent += nudge(lead, since, days, now)
    return f"En attente d'un binôme : {sent} rappel(s) après {days} jours."


def as_datetime(value):
    """An aggregate comes back as text on SQLite."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


ENTERED_WAITING = (Evenement.to_status == "en_attente") & (Evenement.from_status != "en_attente")


def nudge(lead, since, days, now):
    with models.write_transaction(durable=True):
        row = lock_if(lead.id, "en_attente", None, None)
        if row is None or row.association_id is None:
            return 0
        # Read again under the lock: out of "en_attente" and back meanwhile, a new stay.
        latest = Evenement.select(fn.MAX(Evenement.at)).where(
            (Evenement.lead == row.id) & ENTERED_WAITING
        )
        if as_datetime(latest.scalar()) != since or not claim(row, WAITING, since, now):
            return 0
        association = Association.get_by_id(row.association_id)
        sent = send_to_staff(
            association, "attente_longue", row, jours=days, jeune=row.kind == "jeune"
        )
        event(row, WAITING, now, note=f"{sent} membre(s) de l'équipe prévenu(s).")
    return 1
