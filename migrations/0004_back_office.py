"""The back office: staff accounts, the e-mail outbox, pairs, private notes, exports;
a lead's first contact time and version.

Models are a frozen copy, independent of models.py, as playhouse.migrations asks.
"""

import datetime as dt
import json

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)


def now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


def up(migrator, db):
    class BaseModel(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Association(BaseModel):
        slug = CharField(unique=True)

    class Lead(BaseModel):
        reference = CharField(unique=True, max_length=10)

    class Utilisateur(BaseModel):
        email = CharField(unique=True)
        password_hash = CharField(default="")
        role = CharField(max_length=12)
        association = ForeignKeyField(Association, null=True, backref="utilisateurs")
        actif = BooleanField(default=True)
        session_epoch = IntegerField(default=0)
        created_at = DateTimeField(default=now)
        last_login_at = DateTimeField(null=True)

    class Message(BaseModel):
        to = CharField()
        subject = CharField()
        body = TextField()
        kind = CharField(default="")
        lead = ForeignKeyField(Lead, null=True, backref="messages", on_delete="SET NULL")
        status = CharField(default="a_envoyer", index=True)
        attempts = SmallIntegerField(default=0)
        next_attempt_at = DateTimeField(default=now, index=True)
        claimed_by = CharField(default="")
        claimed_until = DateTimeField(null=True)
        last_error = TextField(default="")
        created_at = DateTimeField(default=now)
        sent_at = DateTimeField(null=True)

    class Binome(BaseModel):
        jeune = ForeignKeyField(Lead, backref="binomes_jeune", on_delete="CASCADE")
        mentor = ForeignKeyField(Lead, backref="binomes_mentor", on_delete="CASCADE")
        association = ForeignKeyField(Association, backref="binomes")
        started_at = DateTimeField(default=now)
        ended_at = DateTimeField(null=True)

    class Note(BaseModel):
        lead = ForeignKeyField(Lead, backref="notes", on_delete="CASCADE")
        association = ForeignKeyField(Association, backref="notes")
        author = ForeignKeyField(Utilisateur, null=True, backref="notes", on_delete="SET NULL")
        text = TextField()
        at = DateTimeField(default=now)

    class Export(BaseModel):
        utilisateur = ForeignKeyField(Utilisateur, backref="exports")
        association = ForeignKeyField(Association, backref="exports")
        rows = IntegerField()
        filters = JSONField(default=dict)
        at = DateTimeField(default=now)

    migrator.migrate(
        migrator.add_column("lead", "first_contact_at", DateTimeField(null=True)),
        migrator.add_column("lead", "version", IntegerField(default=0)),
        # The inbox lists an association's leads by status, oldest first.
        migrator.add_index("lead", ("association_id", "status", "created_at")),
    )
    db.create_tables([Utilisateur, Message, Binome, Note, Export])


def down(migrator, db):
    for table in ("export", "note", "binome", "message", "utilisateur"):
        db.execute_sql(f"DROP TABLE {table}")
    migrator.migrate(
        migrator.drop_column("lead", "version"),
        migrator.drop_column("lead", "first_contact_at"),
        migrator.drop_index("lead", "lead_association_id_status_created_at"),
    )
