"""Drafts nobody can resume any more, and leads inactive for LEAD_RETENTION_YEARS
(moved out of relances.py as is)."""

import models
from domain import lifecycle
from jobs.relances import AUTHOR
from mail import outbox
from models import Lead
from services import drafts, suivi


# --- Drafts and retention --------------------------------------------------------------------
def purge_drafts(app, now=None):
    with models.write_transaction():
        count = drafts.purge_drafts(app.config["DRAFT_MAX_AGE_HOURS"], now)
    return f"Brouillons : {count} supprimé(s)."


RETENTION_BATCH = 200  # leads erased per tick: a long backlog is spread over ticks


def retention_cutoff(now, years):
    """`years` years before `now` (29 February: the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def apply_retention(app, now=None):
    """Leads inactive for LEAD_RETENTION_YEARS (no change of status or association, no
    staff note) are anonymised by suivi.erase, the same erasure as the person's own:
    personal data gone, the anonymous row kept for the statistics. A pair still running
    is activity: its leads are kept. Idempotent: an erased lead is never selected again,
    and erase locks the row and stops when another tick erased it first."""
    now = now or models.now()
    years = app.config["LEAD_RETENTION_YEARS"]
    cutoff = retention_cutoff(now, years)
    recent_note = models.Note.select(models.Note.lead).where(models.Note.at >= cutoff)
    stale = list(
        Lead.select(Lead.id)
        .where(
            (Lead.updated_at < cutoff)
            & ~Lead.suivi_token.startswith(suivi.ERASED_PREFIX)
            & ~(Lead.status << list(lifecycle.PAIR_STATUSES))
            & ~(Lead.id << recent_note)
        )
        .order_by(Lead.updated_at, Lead.id)
        .limit(RETENTION_BATCH)
    )
    mail_dir = outbox.settings_from(app.config, app.instance_path).mail_dir
    erased = sum(
        suivi.erase(lead, mail_dir, by=AUTHOR, kind="anonymisation", tell_staff=False)
        for lead in stale
    )
    return f"Conservation : {erased} demande(s) inactive(s) depuis {years} ans anonymisée(s)."
