"""Reminders and digests (scheduler's duties): what was sent, claimed by a unique key so two
`tick` processes at once send each one once; each staff member's choice of e-mails.

Models are a frozen copy, independent of models.py, as playhouse.migrations asks.
"""

import datetime as dt

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, Model


def now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class BaseModel(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Lead(BaseModel):
        reference = CharField(unique=True, max_length=10)

    class Utilisateur(BaseModel):
        email = CharField(unique=True)

    class Relance(BaseModel):
        lead = ForeignKeyField(Lead, on_delete="CASCADE")
        kind = CharField(max_length=20)
        since = DateTimeField()
        at = DateTimeField(default=now)

        class Meta:
            indexes = ((("lead", "kind", "since"), True),)

    class Resume(BaseModel):
        utilisateur = ForeignKeyField(Utilisateur, on_delete="CASCADE")
        jour = DateField()
        at = DateTimeField(default=now)
        leads = IntegerField(default=0)

        class Meta:
            indexes = ((("utilisateur", "jour"), True),)

    db.create_tables([Relance, Resume])
    migrator.migrate(
        migrator.add_column(
            "utilisateur", "notifications", CharField(max_length=20, default="chaque_demande")
        )
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("utilisateur", "notifications"))
    for table in ("resume", "relance"):
        db.execute_sql(f"DROP TABLE {table}")
