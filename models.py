"""Peewee models and the database handle.

The handle is a proxy initialised by `init_db` (SQLite file by default,
any playhouse.db_url URL otherwise, e.g. postgresql://user:pass@host:5432/db through
psycopg 3), so modules can import models without Flask.
"""

import datetime as dt
import json
from pathlib import Path

from peewee import (
    BooleanField,
    CharField,
    DatabaseProxy,
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

# WAL for concurrent readers, FULL so a confirmed lead survives a power cut.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 5000,
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
    """catalogue.snapshot() re-reads the catalogue when max(updated_at) moves, so every
    save moves it (a bulk Model.update(...) must set updated_at=now() too)."""

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
    outcome = CharField(default="proposee")  # proposee | acceptee | refusee | expiree
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
    note = TextField(default="")
    at = DateTimeField(default=now)


MODELS = [Commune, Localite, Association, Programme, Lead, Draft, Orientation, Evenement]


def make_database(url):
    if url.startswith("sqlite"):
        return connect(url, pragmas=SQLITE_PRAGMAS)
    if url.startswith("postgres"):  # postgresql://, postgres://, their +pool variants
        # Psycopg 3 (the pinned driver), even if psycopg2 happens to be installed too.
        return connect(url, prefer_psycopg3=True)
    return connect(url)


def init_db(url):
    db.initialize(make_database(url))
    return db


def migrate():
    """Apply pending migrations; returns their names."""
    with db.connection_context():
        return Runner(db.obj, directory=str(MIGRATIONS_DIR)).up()


def write_transaction():
    """A write transaction that takes the SQLite write lock up front.

    A deferred read-then-write transaction fails at once with "database is
    locked" under concurrency, whatever the busy timeout.
    """
    if isinstance(db.obj, SqliteDatabase):
        return db.atomic("IMMEDIATE")
    return db.atomic()


def locked(query):
    """`query` (a SELECT) locking its rows until the end of the write_transaction():
    FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already locks the whole database."""
    return query.for_update() if db.obj.for_update else query
