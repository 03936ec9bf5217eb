"""Drafts (answers kept server-side while a person fills the questionnaire), the
submission that turns a draft into a lead oriented by demandes.orient, and the person's
own choice of an alternative. What staff do with a lead is in demandes.py."""

import datetime as dt
import functools
import secrets

from peewee import DateTimeField, IntegrityError

import models
from domain.journeys import CHECK, PARCOURS, Journey
from mail import emails
from services import catalogue, demandes, suivi, territory
from services.demandes import current_orientation, orientations_of  # noqa: F401 - the result page's

# No 0/O, 1/I/L: a reference is read over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = {"jeune": "J", "mentor": "M"}
# 31^5 references per kind: a collision is rare, several in a row mean something else.
REFERENCE_ATTEMPTS = 5


def new_token():
    return secrets.token_urlsafe(32)  # the shape log_redaction.SHAPE_RE redacts


class InvalidDraft(Exception):
    """The stored answers no longer hold: the person must see `step` again."""

    def __init__(self, step):
        super().__init__(step)
        self.step = step


def oldest_kept(max_age_hours, now=None):
    """Drafts last saved before this can no longer be resumed: their cookie has expired."""
    return (now or models.now()) - dt.timedelta(hours=max_age_hours)


def get_draft(token, parcours, max_age_hours, lock=False):
    """The person's draft, submitted or not, or None when unknown or too old.

    `lock`: inside a write_transaction, keep others from changing it until commit.
    """
    if not token:
        return None
    row = models.db.execute_sql(draft_sql(models.db.obj, lock), (token,)).fetchone()
    draft = row and draft_from_row(row)
    if draft is None or draft.parcours != parcours or draft.updated_at < oldest_kept(max_age_hours):
        return None
    return draft


@functools.lru_cache(maxsize=4)
def draft_sql(database, lock=False):
    """Every step reads its draft by primary key: peewee builds this SELECT once per
    database (building a query costs more than SQLite takes to run it). `lock`: the
    FOR UPDATE variant on PostgreSQL (models.locked)."""
    query = models.Draft.select().where(models.Draft.token == "")
    return (models.locked(query) if lock else query).sql()[0]


def draft_from_row(row):
    """The Draft of a row of draft_sql, its columns read as peewee would (Draft.raw
    costs as much as the query itself)."""
    fields = models.Draft._meta.sorted_fields  # the order of draft_sql's columns
    values = {f.name: column_value(f, v) for f, v in zip(fields, row, strict=True)}
    return models.Draft(__no_default__=True, **values)  # as peewee does: no default computed


def column_value(field, value):
    # SQLite gives times as ISO text: fromisoformat reads it in C, where peewee's
    # python_value tries strptime formats in turn (a third of the draft's read).
    if isinstance(value, str) and isinstance(field, DateTimeField):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    return field.python_value(value)


@functools.lru_cache(maxsize=2)
def save_answers_sql(database):
    """The one UPDATE by primary key of each saved step, built once per database like
    draft_sql (parameters: answers, updated_at, token)."""
    Draft = models.Draft
    update = Draft.update({Draft.answers: {}, Draft.updated_at: models.now()})
    return update.where(Draft.token == "").sql()[0]


def purge_drafts(max_age_hours, now=None):
    """Delete the drafts nobody can resume (one DELETE on the updated_at index); a
    submitted one only led its cookie back to the lead, which keeps its own answers."""
    Draft = models.Draft
    return Draft.delete().where(Draft.updated_at < oldest_kept(max_age_hours, now)).execute()


def save_step(token, parcours, step_name, step_answers, max_age_hours, seen=None):
    """Store one step's answers; answers on abandoned branches are dropped.

    A save racing with another tab's save or submit never writes back stale answers.
    `seen`, the draft as the request read it: its new answers are worked out before the
    write lock is taken, and written only if its answers have not changed since (one
    UPDATE on token and answers: what the new ones are made from), so the lock is held
    for one statement: with two workers
    writing, the other waits less (SQLite's busy handler sleeps a millisecond or more).
    Otherwise (or without `seen`) the draft is read again inside the write transaction.
    Returns the draft, created on the first valid answer (never on a GET) or when the
    previous one was sent; creating one also purges the expired ones, so no cron is
    needed for drafts not to outlive their cookie.
    """
    if seen is not None and seen.token == token and seen.submitted_at is None:
        answers = step_answers_added(seen.answers, parcours, step_name, step_answers)
        updated_at = models.now()
        params = (*draft_values(answers, updated_at), token, answers_value(seen.answers))
        with models.write_transaction():
            saved = models.db.execute_sql(save_if_unchanged_sql(models.db.obj), params)
        if saved.rowcount == 1:
            seen.answers, seen.updated_at = answers, updated_at
            return seen
    with models.write_transaction():
        draft = get_draft(token, parcours, max_age_hours, lock=True)
        if draft is None or draft.submitted_at is not None:
            purge_drafts(max_age_hours)
            draft = models.Draft.create(token=new_token(), parcours=parcours, answers={})
        answers = step_answers_added(draft.answers, parcours, step_name, step_answers)
        draft.answers = answers
        draft.updated_at = models.now()
        params = (*draft_values(answers, draft.updated_at), draft.token)
        models.db.execute_sql(save_answers_sql(models.db.obj), params)
    return draft


def step_answers_added(answers, parcours, step_name, step_answers):
    answers = dict(answers)
    answers[step_name] = step_answers
    for name in Journey(PARCOURS[parcours], answers).inapplicable():
        del answers[name]
    return answers


def draft_values(answers, updated_at):
    Draft = models.Draft
    return Draft.answers.db_value(answers), Draft.updated_at.db_value(updated_at)


def answers_value(answers):
    return models.Draft.answers.db_value(answers)  # sorted keys: one text per answers


@functools.lru_cache(maxsize=2)
def save_if_unchanged_sql(database):
    """save_answers_sql, only while the draft is as read: same answers, not sent
    (parameters: answers, updated_at, token, answers as read)."""
    Draft = models.Draft
    update = Draft.update({Draft.answers: {}, Draft.updated_at: models.now()})
    unchanged = (Draft.answers == {}) & Draft.submitted_at.is_null()
    return update.where((Draft.token == "") & unchanged).sql()[0]


def new_reference(kind):
    suffix = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(5))
    return f"{REFERENCE_PREFIX[kind]}-{suffix}"


def submit(token, first_invalid_step):
    """Create the lead, run the matcher and store its orientations, in one transaction.

    The draft is claimed first (an UPDATE that only one request can win, on SQLite
    and PostgreSQL alike): a second submit of the same draft returns the same lead.
    `first_invalid_step(journey)` re-validates every stored answer; a failure raises
    InvalidDraft and nothing is written.
    """
    Draft = models.Draft
    # Read before taking the write lock: other submits need not wait for these queries.
    snapshot, stats = catalogue.snapshot(), catalogue.stats()
    with models.write_transaction(durable=True):
        claimed = (
            Draft.update(submitted_at=models.now())
            .where((Draft.token == token) & Draft.submitted_at.is_null())
            .execute()
        )
        draft = Draft.get_or_none(Draft.token == token)
        if draft is None:  # expired and purged since the check page was read
            raise InvalidDraft(CHECK)
        if not claimed:
            return draft.lead
        journey = Journey(PARCOURS[draft.parcours], draft.answers)
        invalid = journey.first_url_step if not journey.is_complete else None
        invalid = invalid or first_invalid_step(journey)
        if invalid:
            raise InvalidDraft(invalid)
        answers = journey.relevant_answers()
        place = territory.place(answers["commune"], answers.get("code_postal"))
        if place is None:
            raise InvalidDraft("commune")
        lead = create_lead(draft.parcours, answers, place)
        demandes.orient(lead, snapshot=snapshot, stats=stats, place=place)
        # The person's confirmation with the follow-up link, in the same transaction.
        suivi.send_confirmation(lead)
        Draft.update(lead=lead).where(Draft.token == token).execute()
    return lead


def create_lead(kind, answers, place):
    fields = dict(
        kind=kind,
        suivi_token=new_token(),
        answers=answers,
        age=answers.get("age"),
        situation=answers["situation"],
        besoin=answers.get("besoin", ",".join(answers.get("besoins", []))),
        commune=place.insee,
        departement=place.departement,
        prenom=answers["prenom"],
        nom=answers["nom"],
        email=answers.get("email", ""),
        telephone=answers.get("telephone", ""),
        contact_pref=answers.get("contact_pref", "email"),
    )
    # The unique index decides, race-free: a taken reference undoes its savepoint only.
    for attempt in range(1, REFERENCE_ATTEMPTS + 1):
        try:
            with models.db.atomic():
                return models.Lead.create(reference=new_reference(kind), **fields)
        except IntegrityError:
            if attempt == REFERENCE_ATTEMPTS:
                raise


# Changes of association a person may make on the result page: enough to correct a
# choice, not a switch to flip for ever (each change moves the demande to another
# association and stays in its history).
MAX_CHANGES = 3
CHANGE_EVENT = "choix_alternative"


class TooManyChanges(Exception):
    """The person already changed association MAX_CHANGES times."""


def changes_made(lead):
    Evenement = models.Evenement
    return (
        Evenement.select()
        .where((Evenement.lead == lead) & (Evenement.kind == CHANGE_EVENT))
        .count()
    )


def changes_left(lead):
    return max(MAX_CHANGES - changes_made(lead), 0)


def choose(lead, orientation_id):
    """The person switches to an alternative: recorded, history kept.

    False when `orientation_id` is not one of the lead's orientations; TooManyChanges
    once MAX_CHANGES are made, counted inside the write transaction so that taps
    racing each other cannot pass the cap.
    """
    with models.write_transaction(durable=True):
        # The lead's row locked first (PostgreSQL), so a concurrent tap waits, then
        # counts this change.
        models.locked(models.Lead.select(models.Lead.id).where(models.Lead.id == lead.id)).first()
        orientations = orientations_of(lead)
        live = [o for o in orientations if o.outcome in demandes.LIVE_OUTCOMES]
        target = next((o for o in live if o.id == orientation_id), None)
        current = current_orientation(orientations)
        if target is None or current is None:
            return False
        if target.id == current.id:
            return True  # a second tap on the same button
        if changes_made(lead) >= MAX_CHANGES:
            raise TooManyChanges
        current.outcome = "refusee"
        current.outcome_reason = "autre_choix"
        current.save()
        target.outcome = "acceptee"
        target.save()
        demandes.route(
            lead, target.programme.association_id, target.programme.association.delai_recontact
        )
        lead.updated_at = lead.routed_at
        Lead = models.Lead
        lead.save(only=[Lead.association, Lead.updated_at, Lead.routed_at, Lead.due_on])
        # A staff page read before this change must not act on the old association.
        Lead.update(version=Lead.version + 1).where(Lead.id == lead.id).execute()
        models.Evenement.create(
            lead=lead,
            kind=CHANGE_EVENT,
            author="personne",
            note=f"{current.programme.slug} -> {target.programme.slug}",
        )
        emails.notify_new_lead(lead)  # the newly chosen association's staff
    return True
