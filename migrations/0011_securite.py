"""Security (issue 12): login counters kept atomically per (account, client address) and
per account (replacing login_failure, one row per failure), the security journal, the
TOTP second factor (secret, last step used, hashed recovery codes), the association's
« double authentification obligatoire », and the link requests `tick` answers.

Models are a frozen copy, independent of models.py, as playhouse.migrations asks.
"""

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class BaseModel(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Utilisateur(BaseModel):
        email = CharField(unique=True)

    class LoginCounter(BaseModel):
        key = CharField(max_length=160, unique=True)
        failures = IntegerField(default=0)
        window_start = DateTimeField()
        last_at = DateTimeField()

    class SecurityEvent(BaseModel):
        kind = CharField(max_length=32, index=True)
        at = DateTimeField(index=True)
        utilisateur_id = IntegerField(null=True, index=True)
        target_id = IntegerField(null=True)
        ip = CharField(max_length=64, default="")
        details = TextField(default="{}")

    class RecoveryCode(BaseModel):
        utilisateur = ForeignKeyField(Utilisateur, backref="recovery_codes", on_delete="CASCADE")
        code_hash = CharField(max_length=64)
        used_at = DateTimeField(null=True)

    class LinkRequest(BaseModel):
        kind = CharField(max_length=20)
        address = CharField(max_length=254)
        created_at = DateTimeField()

    db.create_tables([LoginCounter, SecurityEvent, RecoveryCode, LinkRequest])
    migrator.migrate(
        migrator.add_column("utilisateur", "totp_secret", CharField(default="")),
        migrator.add_column("utilisateur", "totp_last_step", IntegerField(default=0)),
        migrator.add_column("association", "double_authentification", BooleanField(default=False)),
    )
    db.execute_sql("DROP TABLE login_failure")


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("association", "double_authentification"),
        migrator.drop_column("utilisateur", "totp_last_step"),
        migrator.drop_column("utilisateur", "totp_secret"),
    )
    for table in ("link_request", "recovery_code", "security_event", "login_counter"):
        db.execute_sql(f"DROP TABLE {table}")
    db.execute_sql(
        "CREATE TABLE login_failure (id INTEGER PRIMARY KEY, account_key VARCHAR(64) NOT NULL,"
        " ip VARCHAR(64) NOT NULL, at TIMESTAMP NOT NULL)"
    )
