"""The SMS channel: SMS share the outbox (Message) with e-mails, told apart by `channel`
("email" or "sms"), so each sender claims only its own rows (mail/outbox.py, mail/sms.py)."""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("message", "channel", CharField(default="email", max_length=5))
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("message", "channel"))
