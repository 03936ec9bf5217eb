"""What happens to a lead once it is sent: the one place that changes a stored lead.

drafts.py keeps the drafts and the submission; this module orients a lead (at submit, at a
hand-over, by the operator), moves it through the statuses of lifecycle.py, hands it over
to another association, forms and ends pairs, and keeps the association's private notes.
Every operation is one durable write transaction that locks the lead's row, writes its
Evenement (the timeline) and queues its e-mails in the same transaction: all or nothing.

An action taken from a page read before another change carries that page's
`expected_version` and is refused with StaleLead, never applied over the other change.
"""

import contextlib

import models
from domain import lifecycle, matcher, workdays
from domain.lifecycle import TransitionError
from mail import emails
from models import Binome, Evenement, Lead, Note, Orientation, Utilisateur
from services import catalogue, territory

# Orientations of the latest run of the matcher; older ones are "expiree" or "transferee".
LIVE_OUTCOMES = ("proposee", "acceptee", "refusee")


class StaleLead(Exception):
    """The lead changed since the page was read (or is gone): nothing was done."""


class NotAtAssociation(Exception):
    """The lead is not (or no longer) at this association: the view answers 404."""


# --- Helpers ------------------------------------------------------------------------------------
def author_of(by):
    """What the timeline records as the author: a staff member's e-mail (an Utilisateur,
    or Flask-Login's accounts.User around one), or a word such as "personne" or
    "matcher 2026.11-1"."""
    if by is None:
        return ""
    if isinstance(by, str):
        return by
    return getattr(by, "row", by).email


def user_row(by):
    """The Utilisateur behind `by` (for Note.author), or None."""
    row = getattr(by, "row", by)
    return row if isinstance(row, Utilisateur) else None


def _transaction():
    """A durable write transaction, or the caller's when already in one (submit)."""
    if models.db.in_transaction():
        return contextlib.nullcontext()
    return models.write_transaction(durable=True)


def _lead_id(lead):
    return lead if isinstance(lead, int) else lead.id


def _lock(lead, expected_version=None):
    """The lead's row, locked until the end of the transaction; StaleLead when it is gone
    or moved on since `expected_version` was read."""
    row = models.locked(Lead.select().where(Lead.id == _lead_id(lead))).first()
    if row is None:
        raise StaleLead
    if expected_version is not None and row.version != int(expected_version):
        raise StaleLead
    return row


def _touch(row):
    """Every change of status or association moves the version (see Lead.version)."""
    row.version += 1
    row.updated_at = models.now()


def _event(row, kind, by, from_status="", to_status="", motif="", note=""):
    return Evenement.create(
        lead=row,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        author=author_of(by),
        motif=motif,
        note=(note or "").strip(),
    )


def _move(row, to, by, reason="", note="", action=None):
    """Check and apply one transition on a locked row; the caller saves it."""
    action = action or lifecycle.check(row.status, to, reason, note)
    before = row.status
    if before == lifecycle.INITIAL and row.first_contact_at is None:
        row.first_contact_at = models.now()
    row.status = to
    _touch(row)
    _event(row, action.code, by, before, to, reason, note)
    return action


def _refresh(lead, row):
    """The caller's Lead object shows what was stored (the view renders it next); raw
    values copied, so no query loads the association again."""
    if isinstance(lead, Lead) and lead is not row:
        lead.__data__.update(row.__data__)
        lead.__rel__.pop("association", None)
        lead._dirty.clear()


def _save(row):
    row.save(
        only=[
            Lead.status,
            Lead.association,
            Lead.waiting_list,
            Lead.first_contact_at,
            Lead.routed_at,
            Lead.due_on,
            Lead.version,
            Lead.updated_at,
        ]
    )


# --- Due and late -------------------------------------------------------------------------------
def route(row, association_id, delai):
    """The lead reaches `association_id` (None: the waiting list) now: its promised day is
    fixed, `delai` working days on (workdays.due_day); the caller saves the row."""
    row.association = association_id
    row.routed_at = models.now()
    row.due_on = workdays.due_day(row.routed_at, delai) if association_id else None


def late(today):
    """Leads still "nouvelle" whose promised day is over on `today` (a French day)."""
    return (Lead.status == lifecycle.INITIAL) & (Lead.due_on < today)


# --- Statuses -----------------------------------------------------------------------------------
def change_status(lead, to, by, reason="", note="", expected_version=None):
    """Move the lead to status `to` (lifecycle.check decides), as `by`.

    Raises lifecycle.TransitionError (a French message) or StaleLead; returns the lead
    as now stored. "binome_forme" needs a partner: form_pair. "terminee" ends the lead's
    pair (end_pair), the partner's lead with it.
    """
    if to in lifecycle.PAIR_STATUSES:
        raise TransitionError("Choisissez la personne avec qui former le binôme.", "partner")
    with models.write_transaction(durable=True):
        row = _lock(lead, expected_version)
        lifecycle.check(row.status, to, reason, note)
        binome = open_binome(row) if to == "terminee" else None
        if binome is not None:
            _end_pair(binome, by, note, first=row)
        else:
            _move(row, to, by, reason, note)
            _save(row)
    _refresh(lead, row)
    return row


# --- Orientation --------------------------------------------------------------------------------
def orientations_of(lead):
    """The lead's orientations by rank, with programme and association (one query)."""
    Programme = models.Programme
    return list(
        Orientation.select(Orientation, Programme, models.Association)
        .join(Programme)
        .join(models.Association)
        .where(Orientation.lead == _lead_id(lead))
        .order_by(Orientation.rank, Orientation.id)
    )


def current_orientation(orientations):
    """The orientation in effect: the one the person chose, else the first still proposed."""
    chosen = [o for o in orientations if o.outcome == "acceptee"]
    proposed = [o for o in orientations if o.outcome == "proposee"]
    return (chosen or proposed or [None])[0]


def tried_associations(orientations):
    """Associations that already had the lead and handed it over."""
    return {o.programme.association_id for o in orientations if o.outcome == "transferee"}


def person_of(lead, place=None):
    """The matcher's Person, from the lead's stored answers."""
    answers = lead.answers or {}
    if place is None and not answers.get("commune"):  # no commune recorded: no match
        return None
    place = place or territory.place(answers["commune"], answers.get("code_postal"))
    place = place or territory.place(answers["commune"])  # a postal code gone since
    if place is None:
        return None
    return matcher.person_from_answers(lead.kind, answers, place)


def orient(
    lead,
    exclude=(),
    by=None,
    programme_id=None,
    snapshot=None,
    stats=None,
    place=None,
    expected_version=None,
    base_url=None,
):
    """Run the matcher for the lead, leaving out the associations in `exclude` (ids or
    Association rows), and route the lead to the first proposal, or to `programme_id`
    when staff picked one of the proposals; nothing fits: the waiting list.

    The one way to orient a lead: at submit (inside its transaction, with the snapshot
    and statistics read before the write lock), at a hand-over, by the operator for the
    waiting list (its own transaction). Orientations of an earlier run expire (history
    stays); the new association's active staff get the "Nouvelle demande" e-mail.
    Returns the matcher.Match.
    """
    with _transaction():
        row = _lock(lead, expected_version)
        result = _orient(row, exclude, by, programme_id, snapshot, stats, place, base_url)
        _touch(row)
        _save(row)
    _refresh(lead, row)
    return result


def _orient(row, exclude, by, programme_id, snapshot, stats, place, base_url):
    snapshot = snapshot if snapshot is not None else catalogue.snapshot()
    stats = stats if stats is not None else catalogue.stats()
    excluded = {a if isinstance(a, int) else a.id for a in exclude}
    person = person_of(row, place)
    result = (
        matcher.match(person, snapshot, stats, exclude_associations=excluded)
        if person is not None
        else matcher.Match((), waiting_list=True, fallback=False, distance_forcee=False)
    )
    if programme_id is not None and programme_id not in {p.programme_id for p in result.proposals}:
        raise TransitionError("Choisissez une des associations proposées.", "programme")
    _expire_live_orientations(row)
    for proposal in result.proposals:
        Orientation.create(
            lead=row,
            programme=proposal.programme_id,
            rank=proposal.rank,
            score=proposal.score,
            reasons=list(proposal.reasons),
            matcher_version=matcher.MATCHER_VERSION,
            outcome="acceptee" if proposal.programme_id == programme_id else "proposee",
        )
    chosen = next((p for p in result.proposals if p.programme_id == programme_id), None)
    first = chosen or (result.proposals[0] if result.proposals else None)
    row.waiting_list = first is None
    route(
        row,
        first.association_id if first else None,
        first.programme.delai_recontact if first else 0,
    )
    _event(
        row,
        "orientation" if first else "liste_attente",
        by or "matcher " + matcher.MATCHER_VERSION,
        to_status=row.status,
        note=fallback_note(result) if person is not None else "commune inconnue",
    )
    if first is not None:
        emails.notify_new_lead(row, first.association_id, base_url)
    return result


def _expire_live_orientations(row):
    """A new run replaces the proposals of the previous one; a refusal keeps its reason."""
    live = (Orientation.lead == row.id) & Orientation.outcome.in_(LIVE_OUTCOMES)
    Orientation.update(outcome="expiree", outcome_reason="reorientation").where(
        live & (Orientation.outcome != "refusee")
    ).execute()
    Orientation.update(outcome="expiree").where(live).execute()


def fallback_note(result):
    """What the operator should know: nothing fitted near the person."""
    if result.distance_forcee:
        return "repli : seulement des programmes à distance"
    if result.fallback:
        return "repli : seulement des programmes nationaux ou à distance"
    return ""


# --- Hand-over ----------------------------------------------------------------------------------
def hand_over_proposals(lead):
    """What a hand-over would propose now (nothing written): the staff's page lists these
    to pick one, then hand_over(..., programme_id=...) runs the matcher again and refuses a
    pick no longer proposed."""
    orientations = orientations_of(lead)
    tried = tried_associations(orientations) | {lead.association_id}
    person = person_of(lead)
    if person is None:
        return ()
    result = matcher.match(person, catalogue.snapshot(), catalogue.stats(), tried - {None})
    return result.proposals


def hand_over(lead, by, reason, note="", expected_version=None, programme_id=None, base_url=None):
    """Confide the lead to another association: its current orientation becomes
    "transferee" with the reason, the matcher re-runs without every association already
    tried, the lead goes back to "nouvelle" there (its first contact is measured again),
    and the person and the new association's staff are told by e-mail in the same
    transaction. No association left: the waiting list (the timeline says so).

    `programme_id`: staff's pick among the new proposals. Returns the lead as stored.
    """
    with models.write_transaction(durable=True):
        row = _lock(lead, expected_version)
        lifecycle.check_hand_over(row.status, reason, note)
        if row.association_id is None:
            raise TransitionError("Cette demande n'est confiée à aucune association.")
        orientations = orientations_of(row)
        current = current_orientation(orientations)
        if current is not None:
            current.outcome = "transferee"
            current.outcome_reason = reason
            current.save(only=[Orientation.outcome, Orientation.outcome_reason])
        tried = tried_associations(orientations) | {row.association_id}
        before = row.status
        _event(row, lifecycle.HAND_OVER.code, by, before, lifecycle.INITIAL, reason, note)
        row.status = lifecycle.INITIAL
        row.first_contact_at = None
        _orient(row, tried, None, programme_id, None, None, None, base_url)
        _touch(row)
        _save(row)
        if row.association_id is not None:
            emails.notify_person_of_hand_over(row, models.Association.get_by_id(row.association_id))
    _refresh(lead, row)
    return row


# --- Pairs --------------------------------------------------------------------------------------
def open_binome(lead):
    """The lead's pair not yet ended, or None."""
    lead_id = _lead_id(lead)
    return (
        Binome.select()
        .where(((Binome.jeune == lead_id) | (Binome.mentor == lead_id)) & Binome.ended_at.is_null())
        .first()
    )


def _lock_pair(jeune_id, mentor_id, versions):
    """Both rows locked in id order, so two pairs formed at once cannot deadlock."""
    rows = {}
    for lead_id in sorted({jeune_id, mentor_id}):
        rows[lead_id] = _lock(lead_id, versions.get(lead_id))
    return rows[jeune_id], rows[mentor_id]


def form_pair(jeune, mentor, by, association, jeune_version=None, mentor_version=None):
    """Pair a youth's demande with a mentor's candidature of the same association: both
    move to "binome_forme" and a Binome is created, in one transaction.

    NotAtAssociation when either is not at `association` (the view answers 404);
    TransitionError when either's status does not allow it; StaleLead on a stale page.
    """
    association_id = association if isinstance(association, int) else association.id
    versions = {}
    if jeune_version is not None:
        versions[_lead_id(jeune)] = jeune_version
    if mentor_version is not None:
        versions[_lead_id(mentor)] = mentor_version
    with models.write_transaction(durable=True):
        j, m = _lock_pair(_lead_id(jeune), _lead_id(mentor), versions)
        if j.association_id != association_id or m.association_id != association_id:
            raise NotAtAssociation
        if j.kind != "jeune" or m.kind != "mentor":
            raise TransitionError("Un binôme réunit un ou une jeune et un mentor.")
        for row in (j, m):
            lifecycle.check(row.status, "binome_forme")
        binome = Binome.create(jeune=j, mentor=m, association=association_id)
        _move(j, "binome_forme", by, note=f"avec {m.reference}")
        _move(m, "binome_forme", by, note=f"avec {j.reference}")
        _save(j)
        _save(m)
    _refresh(jeune, j)
    _refresh(mentor, m)
    return binome


def end_pair(binome, by, note=""):
    """The pair ends: its leads in "binome_forme" move to "terminee"."""
    with models.write_transaction(durable=True):
        binome = models.locked(Binome.select().where(Binome.id == binome.id)).first()
        if binome is None or binome.ended_at is not None:
            raise TransitionError("Ce binôme est déjà terminé.")
        _end_pair(binome, by, note)
    return binome


def _end_pair(binome, by, note="", first=None):
    """Inside a transaction; `first`: one of the pair's leads, already locked."""
    locked = {first.id: first} if first is not None else {}
    for lead_id in sorted({binome.jeune_id, binome.mentor_id}):
        if lead_id not in locked:
            locked[lead_id] = _lock(lead_id)
    binome.ended_at = models.now()
    binome.save(only=[Binome.ended_at])
    for row in locked.values():
        if row.status == "binome_forme":
            _move(row, "terminee", by, note=note)
            _save(row)


# --- Notes --------------------------------------------------------------------------------------
def add_note(lead, association, author, text):
    """A private note of the association on the lead: no other association reads it, not
    even the one the lead is handed over to (Note rows belong to an association)."""
    text = (text or "").strip()
    if not text:
        raise TransitionError("Écrivez votre note.", "text")
    if len(text) > lifecycle.NOTE_MAX:
        raise TransitionError(
            f"Écrivez une note de {lifecycle.NOTE_MAX} caractères au plus.", "text"
        )
    association_id = association if isinstance(association, int) else association.id
    with models.write_transaction(durable=True):
        row = models.locked(Lead.select(Lead.id, Lead.association).where(Lead.id == _lead_id(lead)))
        row = row.first()
        if row is None or row.association_id != association_id:
            raise NotAtAssociation
        return Note.create(
            lead=row.id, association=association_id, author=user_row(author), text=text
        )


def notes_of(lead, association):
    """The association's own notes on the lead, oldest first."""
    return list(
        Note.select()
        .where((Note.lead == _lead_id(lead)) & (Note.association == association))
        .order_by(Note.at, Note.id)
    )
