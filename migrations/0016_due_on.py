"""The day a lead is due (Lead.due_on): fixed when it reaches an association, so that a later
change of the association's delay does not move a date promised to the person. Filled for
the leads already routed, from their routing day and their association's delay today."""

import datetime as dt
import zoneinfo

from peewee import DateField

from domain import workdays

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("lead", "due_on", DateField(null=True)),
        migrator.add_index("lead", ("status", "due_on"), False),
    )
    rows = db.execute_sql(
        "SELECT lead.id, lead.routed_at, association.delai_recontact FROM lead "
        "JOIN association ON association.id = lead.association_id "
        "WHERE lead.routed_at IS NOT NULL"
    ).fetchall()
    for lead_id, routed_at, delai in rows:
        if isinstance(routed_at, str):  # SQLite hands the stored text back
            routed_at = dt.datetime.fromisoformat(routed_at)
        due = workdays.due_day(routed_at, delai)
        db.execute_sql(f"UPDATE lead SET due_on = {db.param} WHERE id = {db.param}", (due, lead_id))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("lead", "lead_status_due_on"),
        migrator.drop_column("lead", "due_on"),
    )
