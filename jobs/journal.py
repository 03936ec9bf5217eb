"""The security journal's retention (JOURNAL_RETENTION_DAYS, a year by default) and the
login counters whose window has ended."""

import models
from services import accounts, journal


def purge_journal(app, now=None):
    now = now or models.now()
    entries = journal.purge(now, app.config["JOURNAL_RETENTION_DAYS"])
    counters = accounts.purge_counters(now)
    return (
        f"Journal de sécurité : {entries} entrée(s) supprimée(s), "
        f"{counters} compteur(s) de connexion expiré(s)."
    )
