"""Accounts: failed logins (throttling across workers) and single-use account links
(password reset, invitation), stored hashed.

Models are a frozen copy, independent of models.py, as playhouse.migrations asks.
"""

import datetime as dt

from peewee import CharField, DateTimeField, ForeignKeyField, Model


def now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class BaseModel(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Utilisateur(BaseModel):
        email = CharField(unique=True)

    class LoginFailure(BaseModel):
        account_key = CharField(max_length=64, index=True)
        ip = CharField(max_length=64, index=True)
        at = DateTimeField(default=now, index=True)

    class AccountToken(BaseModel):
        utilisateur = ForeignKeyField(Utilisateur, backref="tokens", on_delete="CASCADE")
        purpose = CharField(max_length=16)
        token_hash = CharField(max_length=64, unique=True)
        created_at = DateTimeField(default=now)
        expires_at = DateTimeField(index=True)
        used_at = DateTimeField(null=True)

    db.create_tables([LoginFailure, AccountToken])


def down(migrator, db):
    for table in ("account_token", "login_failure"):
        db.execute_sql(f"DROP TABLE {table}")
