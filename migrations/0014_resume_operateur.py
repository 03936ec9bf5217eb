"""The operator's daily digest (jobs/digest.py): one row per French day, the claim that
two `tick` processes at once send it once.

The model is a frozen copy, independent of models.py, as playhouse.migrations asks.
"""

from peewee import DateField, DateTimeField, Model


def up(migrator, db):
    class ResumeOperateur(Model):
        jour = DateField(unique=True)
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "resume_operateur"

    db.create_tables([ResumeOperateur])


def down(migrator, db):
    db.execute_sql("DROP TABLE resume_operateur")
