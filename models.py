"""Peewee models and the database handle.

The handle is a proxy initialised by `init_db` (SQLite file by default,
any playhouse.db_url URL otherwise, e.g. postgresql://user:pass@host:5432/db through
psycopg 3), so modules can import models without Flask.
"""

import contextlib
import datetime as dt
import fcntl
import json
import os
from pathlib import Path

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    SqliteDatabase,
    TextField,
)
from playhouse.db_url import connect
from playhouse.migrations import Runner

db = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# WAL for concurrent readers. Durability is chosen per transaction (write_transaction):
# NORMAL by default, so a commit is safe from an app crash (it is in the WAL file) but
# not fsynced, and a power cut may lose the last ones: a draft, retyped in a minute.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    # Deleted rows are overwritten with zeros, not left in free pages: a person's erased
    # data is gone from the file (suivi.erase), drafts purged too.
    "secure_delete": 1,
}


def now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Commune(BaseModel):
    insee = CharField(primary_key=True, max_length=5)
    nom = CharField()
    departement = CharField(max_length=3, index=True)
    region = CharField(max_length=3)  # 975, 977… outside the 18 régions
    population = IntegerField(default=0)


class Localite(BaseModel):
    """One searchable name + postal code; arrondissements and former communes (merged
    into a commune nouvelle) point to their commune."""

    commune = ForeignKeyField(Commune, backref="localites", on_delete="CASCADE")
    nom = CharField()
    nom_normalise = CharField(index=True)
    # "" for a former commune whose commune has several codes (see territory).
    code_postal = CharField(max_length=5, index=True)
    ancienne = BooleanField(default=False)  # `nom` is a former commune's


class CatalogueModel(BaseModel):
    """updated_at says when a row last changed (for people); catalogue.snapshot() reads
    CatalogueVersion instead, which the database's triggers bump on every write."""

    def save(self, *args, **kwargs):
        self.updated_at = now()
        if kwargs.get("only"):  # save(only=[...]) must still move updated_at
            kwargs["only"] = [*kwargs["only"], type(self).updated_at]
        return super().save(*args, **kwargs)


class Association(CatalogueModel):
    slug = CharField(unique=True)
    nom = CharField()
    description = TextField(default="")
    site = CharField(default="")
    email = CharField(default="")
    telephone = CharField(default="")
    delai_recontact = SmallIntegerField(default=5)  # jours ouvrés
    actif = BooleanField(default=True)
    # « Double authentification obligatoire » for its staff (the responsable's setting).
    double_authentification = BooleanField(default=False)
    updated_at = DateTimeField(default=now)


class Programme(CatalogueModel):
    association = ForeignKeyField(Association, backref="programmes", on_delete="CASCADE")
    slug = CharField(unique=True)
    nom = CharField()
    description = TextField(default="")
    publics = JSONField(default=list)  # "jeunes", "mentors"
    besoins = JSONField(default=list)
    age_min = SmallIntegerField(null=True)
    age_max = SmallIntegerField(null=True)
    situations = JSONField(default=list)  # empty: every situation
    zone_nationale = BooleanField(default=False)
    regions = JSONField(default=list)
    departements = JSONField(default=list)
    communes = JSONField(default=list)
    a_distance = BooleanField(default=False)
    publics_reserves = JSONField(default=list)
    publics_prioritaires = JSONField(default=list)
    # {"situations": [...], "tranches_age": [...]} required, {"secteurs": [...]} wanted
    profil_mentor = JSONField(default=dict)
    format = CharField(default="individuel")
    capacite_mensuelle = IntegerField(default=0)
    en_pause = BooleanField(default=False)
    actif = BooleanField(default=True)
    updated_at = DateTimeField(default=now)


class Lead(BaseModel):
    """A youth's demande or a mentor's candidature."""

    reference = CharField(unique=True, max_length=10)
    kind = CharField(max_length=6, index=True)  # "jeune" | "mentor"
    status = CharField(default="nouvelle", index=True)
    association = ForeignKeyField(Association, null=True, backref="leads")
    waiting_list = BooleanField(default=False, index=True)
    suivi_token = CharField(unique=True, max_length=64)
    answers = JSONField()
    age = SmallIntegerField(null=True)
    situation = CharField(default="")
    besoin = CharField(default="")
    commune = ForeignKeyField(Commune, null=True, backref="leads")
    departement = CharField(max_length=3, default="", index=True)
    prenom = CharField(default="")
    nom = CharField(default="")
    email = CharField(default="")
    telephone = CharField(default="")
    contact_pref = CharField(default="")
    created_at = DateTimeField(default=now, index=True)
    updated_at = DateTimeField(default=now)
    # When the lead reached its current association (or the waiting list): the promised
    # call-back delay runs from it, and a hand-over starts it again (demandes.orient).
    routed_at = DateTimeField(null=True)
    # The day (in France) the association promised to call back by, fixed when the lead
    # reached it (workdays.due_day, demandes.route); None on the waiting list.
    due_on = DateField(null=True)
    # The first move out of "nouvelle" at that association: responsiveness is measured on it.
    first_contact_at = DateTimeField(null=True)
    # Moves on every change of status or association: an action sent from a page read
    # before another change is refused, never applied over it.
    version = IntegerField(default=0)

    class Meta:
        # The inbox lists an association's leads by status, oldest first, and the
        # départements of its leads (migration 0007).
        indexes = (
            (("association", "status", "created_at"), False),
            (("association", "departement"), False),
            (("status", "due_on"), False),  # late leads (migration 0016)
        )


class Draft(BaseModel):
    token = CharField(primary_key=True, max_length=64)
    parcours = CharField(max_length=6)
    answers = JSONField(default=dict)
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now, index=True)
    submitted_at = DateTimeField(null=True)
    lead = ForeignKeyField(Lead, null=True, backref="drafts", on_delete="SET NULL")


class Orientation(BaseModel):
    lead = ForeignKeyField(Lead, backref="orientations", on_delete="CASCADE")
    programme = ForeignKeyField(Programme, backref="orientations")
    rank = SmallIntegerField()
    score = IntegerField()
    reasons = JSONField(default=list)
    matcher_version = CharField(max_length=20)
    # vocabulary.RESULTAT_ORIENTATION: proposee | acceptee | refusee | expiree | transferee
    outcome = CharField(default="proposee")
    outcome_reason = CharField(default="")
    created_at = DateTimeField(default=now, index=True)

    class Meta:
        # The matcher's statistics: last proposal and proposals this month per programme.
        indexes = ((("programme", "rank", "created_at"), False),)


class Evenement(BaseModel):
    """Timeline and audit trail of a lead."""

    lead = ForeignKeyField(Lead, backref="evenements", on_delete="CASCADE")
    kind = CharField()
    from_status = CharField(default="")
    to_status = CharField(default="")
    author = CharField(default="")
    # A code of the action's list of reasons (vocabulary.MOTIF_SANS_SUITE, MOTIF_TRANSFERT).
    motif = CharField(default="")
    note = TextField(default="")
    at = DateTimeField(default=now)


class Utilisateur(BaseModel):
    """A member of an association's staff, or a platform admin (association None)."""

    email = CharField(unique=True)  # stored lower-cased
    password_hash = CharField(default="")  # "" until an invitation is accepted
    role = CharField(max_length=12)  # "responsable" | "membre" | "admin"
    association = ForeignKeyField(Association, null=True, backref="utilisateurs")
    actif = BooleanField(default=True)
    # Part of the session: moving it (logout, password change) revokes every session.
    session_epoch = IntegerField(default=0)
    created_at = DateTimeField(default=now)
    last_login_at = DateTimeField(null=True)
    # vocabulary.NOTIFICATIONS: an e-mail per new lead, or one digest a day (scheduler).
    notifications = CharField(max_length=20, default="chaque_demande")
    # The TOTP second factor (services/second_factor.py): "" until enrolled; the last
    # time step accepted, so a code is never accepted twice.
    totp_secret = CharField(default="")
    totp_last_step = IntegerField(default=0)


class AccountToken(BaseModel):
    """A single-use link e-mailed to staff: password reset or invitation. Only its
    sha256 is stored: a copy of the database opens no account."""

    utilisateur = ForeignKeyField(Utilisateur, backref="tokens", on_delete="CASCADE")
    purpose = CharField(max_length=16)  # "reinitialisation" | "invitation"
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=now)
    expires_at = DateTimeField(index=True)
    used_at = DateTimeField(null=True)


class Message(BaseModel):
    """The outbox of e-mails and SMS: written in the transaction of the change that causes it."""

    to = CharField()  # an e-mail address, or an E.164 number for an SMS
    subject = CharField()
    body = TextField()
    kind = CharField(default="")
    lead = ForeignKeyField(Lead, null=True, backref="messages", on_delete="SET NULL")
    status = CharField(default="a_envoyer", index=True)  # a_envoyer | envoye | echec
    attempts = SmallIntegerField(default=0)
    next_attempt_at = DateTimeField(default=now, index=True)
    claimed_by = CharField(default="")
    claimed_until = DateTimeField(null=True)
    last_error = TextField(default="")
    created_at = DateTimeField(default=now)
    sent_at = DateTimeField(null=True)
    # "email" (mail/outbox.py) or "sms" (mail/sms.py; subject empty): each sender claims its own.
    channel = CharField(default="email", max_length=5)


class Relance(BaseModel):
    """A reminder sent about a lead (relances.py): one per kind and per `since`, the moment
    its count started (the lead's routed_at, or its arrival in "en_attente"). The unique key
    is the claim: two ticks at once, one insert wins, one e-mail leaves."""

    lead = ForeignKeyField(Lead, backref="relances", on_delete="CASCADE")
    kind = CharField(max_length=20)  # vocabulary.EVENEMENT: relance_1, relance_2, relance_attente
    since = DateTimeField()
    at = DateTimeField(default=now)

    class Meta:
        indexes = ((("lead", "kind", "since"), True),)


class Resume(BaseModel):
    """The daily digest of one staff member for one French calendar day: the claim
    (unique), and when it was sent, from which the next digest's window starts."""

    utilisateur = ForeignKeyField(Utilisateur, backref="resumes", on_delete="CASCADE")
    jour = DateField()
    at = DateTimeField(default=now)
    leads = IntegerField(default=0)

    class Meta:
        indexes = ((("utilisateur", "jour"), True),)


class Binome(BaseModel):
    """A mentor–youth pair formed by an association."""

    jeune = ForeignKeyField(Lead, backref="binomes_jeune", on_delete="CASCADE")
    mentor = ForeignKeyField(Lead, backref="binomes_mentor", on_delete="CASCADE")
    association = ForeignKeyField(Association, backref="binomes")
    started_at = DateTimeField(default=now)
    ended_at = DateTimeField(null=True)


class Note(BaseModel):
    """A private note of an association's staff on a lead: never shown to another."""

    lead = ForeignKeyField(Lead, backref="notes", on_delete="CASCADE")
    association = ForeignKeyField(Association, backref="notes")
    author = ForeignKeyField(Utilisateur, null=True, backref="notes", on_delete="SET NULL")
    text = TextField()
    at = DateTimeField(default=now)


class Export(BaseModel):
    """Who exported how many leads, when, and with which filters."""

    utilisateur = ForeignKeyField(Utilisateur, backref="exports")
    association = ForeignKeyField(Association, backref="exports")
    rows = IntegerField()
    filters = JSONField(default=dict)
    at = DateTimeField(default=now)


class Statistique(BaseModel):
    """A figure computed by `tick` (statistiques.refresh), read by the pages and the matcher:
    "mois:2026-11" holds that month's counts by département, "reactivite" the associations'
    responsiveness. A month computed after it ended is never computed again, so what it
    counted stays counted when a person deletes their data."""

    cle = CharField(unique=True, max_length=20)
    data = JSONField(default=dict)
    computed_at = DateTimeField(default=now)


# --- Operations (migration 0012) ---------------------------------------------------------------
class CatalogueVersion(BaseModel):
    """One row (id 1), bumped by triggers in the transaction of every write to association
    or programme: the matcher's cache of every worker compares it, never a clock."""

    version = BigIntegerField(default=0)


class Effacement(BaseModel):
    """An erased lead's id and when (never its data): a restore erases it again."""

    lead_id = IntegerField(unique=True)
    at = DateTimeField(index=True)


class Battement(BaseModel):
    """When a job last succeeded ("tick"), for /healthz."""

    name = CharField(unique=True, max_length=20)
    at = DateTimeField()


class LoginCounter(BaseModel):
    """Login attempts counted per key (services/accounts.py: an (account, client address)
    pair, an account, a second-factor step), one row per key updated under a row lock, so
    parallel attempts are counted one by one on every worker and server."""

    key = CharField(max_length=160, unique=True)
    failures = IntegerField(default=0)
    window_start = DateTimeField()
    last_at = DateTimeField()


class SecurityEvent(BaseModel):
    """The security journal (services/journal.py): no personal data beyond account ids
    and the client address; kept JOURNAL_RETENTION_DAYS (jobs/journal.py)."""

    kind = CharField(max_length=32, index=True)
    at = DateTimeField(default=now, index=True)
    # Plain ids, not foreign keys: the journal outlives a deleted account.
    utilisateur_id = IntegerField(null=True, index=True)
    target_id = IntegerField(null=True)
    ip = CharField(max_length=64, default="")
    details = JSONField(default=dict)


class RecoveryCode(BaseModel):
    """A one-time recovery code of the second factor; only its sha256 is stored."""

    utilisateur = ForeignKeyField(Utilisateur, backref="recovery_codes", on_delete="CASCADE")
    code_hash = CharField(max_length=64)
    used_at = DateTimeField(null=True)


class LinkRequest(BaseModel):
    """A « mot de passe oublié » or « j'ai perdu mon lien » request, answered by `tick`
    (jobs/link_requests.py): the page does the same work, one insert, whether or not the
    address is known, so its time says nothing. Deleted once answered."""

    kind = CharField(max_length=20)  # "reinitialisation" | "lien_suivi"
    address = CharField(max_length=254)
    created_at = DateTimeField(default=now)


class ResumeOperateur(BaseModel):
    """The operator's daily digest (digest.send_operator_digest) for one French calendar
    day: the claim (unique), so two ticks at once send it once (migration 0014)."""

    jour = DateField(unique=True)
    at = DateTimeField(default=now)


MODELS = [
    Commune,
    Localite,
    Association,
    Programme,
    Lead,
    Draft,
    Orientation,
    Evenement,
    Utilisateur,
    AccountToken,
    Message,
    Binome,
    Note,
    Export,
    Relance,
    Resume,
    Statistique,
    CatalogueVersion,
    Effacement,
    Battement,
    LoginCounter,
    SecurityEvent,
    RecoveryCode,
    LinkRequest,
    ResumeOperateur,
]


def pooled(url):
    """The URL of peewee's pooled variant (sqlite+pool://, postgresql+pool://).

    Opening a connection costs more than a whole page (SQLite's pragmas, PostgreSQL's
    handshake), so each thread keeps one across requests: the request hooks only check
    it out and back in. On check-out the pool discards a connection that died (PostgreSQL
    pings it with SELECT 1), on check-in it rolls back a transaction left open, so the
    next request never inherits one. Connections are never shared across a fork
    (see forget_connections).
    """
    scheme, _, rest = url.partition("://")
    return url if scheme.endswith("+pool") else f"{scheme}+pool://{rest}"


def make_database(url):
    # One connection per thread, as many as the server has threads: no upper bound.
    # SQLite: a pooled connection may be handed to another thread, never to two at once.
    pool = {"max_connections": None}
    if url.startswith("sqlite"):
        database = connect(pooled(url), pragmas=SQLITE_PRAGMAS, check_same_thread=False, **pool)
        if database.database not in ("", ":memory:"):
            private_file(database.database)  # its -wal and -shm files take its mode
        return database
    if url.startswith("postgres"):  # postgresql://, postgres://, their +pool variants
        # Psycopg 3 (the pinned driver), even if psycopg2 happens to be installed too.
        return connect(pooled(url), prefer_psycopg3=True, **pool)
    return connect(pooled(url), **pool)


def private_directory(path):
    """`path`, a directory only its owner can enter (0700), created if missing: the
    instance directory holds the secret key, the database and the e-mails."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def private_file(path):
    """`path` readable by its owner only (0600), created empty if missing."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def init_db(url):
    db.initialize(make_database(url))
    return db


def forget_connections():
    """In a forked child (a gunicorn worker of a preloaded app), drop the parent's
    connections without closing them: closing would end the parent's PostgreSQL session,
    and an SQLite connection must not be used across a fork. The child opens its own."""
    if db.obj is not None:
        db.obj.dispose()


os.register_at_fork(after_in_child=forget_connections)


def migrate(target=None):
    """Apply pending migrations (up to `target`, a migration's name); returns their names.

    One process at a time (two `init-db` at once on a fresh database: one failed on the
    other's table): the other waits, then finds nothing left to apply."""
    with db.connection_context(), migration_lock():
        return Runner(db.obj, directory=str(MIGRATIONS_DIR)).up(target)


# Any fixed 64-bit number, the same in every process of this application.
MIGRATION_LOCK_KEY = 4_815_162_342


@contextlib.contextmanager
def migration_lock():
    """PostgreSQL: a session advisory lock. SQLite: an exclusive flock on a file beside
    the database (BEGIN IMMEDIATE cannot span the migrations' own transactions)."""
    if isinstance(db.obj, SqliteDatabase):
        with _lock_file(db.obj.database):
            yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        yield
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


@contextlib.contextmanager
def _lock_file(database):
    if database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def write_transaction(durable=False):
    """A write transaction that takes the SQLite write lock up front.

    A deferred read-then-write transaction fails at once with "database is
    locked" under concurrency, whatever the busy timeout.

    `durable`: what cannot be redone by the person (a sent demande, a status change)
    must survive a power cut, so its commit waits for the disk. Otherwise (a draft's
    step) the commit survives an app crash only, and skips the fsync that would cost
    more than the rest of the request. SQLite: synchronous=FULL for this commit, which
    in WAL mode fsyncs the whole WAL, earlier NORMAL commits included. PostgreSQL:
    synchronous_commit on for this commit, off for the others (a crash of the server may
    lose the last of those, the database stays consistent).
    """
    if db.in_transaction():
        # Nested (demandes.hand_over inside a tick's claim): a savepoint, the outer
        # transaction's durability untouched (SQLite's pragma would be reset before the
        # outer commit, PostgreSQL's SET LOCAL would override it).
        with db.atomic():
            yield
        return
    if not isinstance(db.obj, SqliteDatabase):
        with db.atomic():
            # Said either way: the server's own default may be off.
            db.execute_sql(f"SET LOCAL synchronous_commit TO {'ON' if durable else 'OFF'}")
            yield
        return
    if db.in_transaction():
        # Called inside another write (demandes.change_status from suivi.erase): a
        # savepoint of it; the outer transaction took the lock and decides durability
        # (SQLite refuses to change `synchronous` inside a transaction).
        with db.atomic():
            yield
        return
    if durable:
        db.pragma("synchronous", "full")
    try:
        with db.atomic("IMMEDIATE"):
            yield
    finally:
        if durable:
            db.pragma("synchronous", SQLITE_PRAGMAS["synchronous"])


def locked(query):
    """`query` (a SELECT) locking its rows until the end of the write_transaction():
    FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already locks the whole database."""
    return query.for_update() if db.obj.for_update else query
