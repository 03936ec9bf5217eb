"""Scheduled work: `flask --app app tick`, called by cron or a systemd timer (README).

`tick(app, now)` runs each duty of DUTIES in order, each with the app context and a
database connection of its own. A duty is a function (app, now) -> one line of report
in French; it must be idempotent and safe to run twice at once (two ticks overlapping):
claims, not checks (the outbox's compare-and-set on each message; relances.py's unique
Relance and Resume rows, inserted in the transaction that queues their e-mails). To add
a duty, write it and append it to DUTIES: the order matters when a duty queues e-mails
(put it before send_outbox, so they leave in the same tick).
"""

import logging
import traceback

import models
from jobs import digest, journal, link_requests, relances, retention
from mail import outbox, sms
from services import accounts, health, statistiques

log = logging.getLogger(__name__)


def send_outbox(app, now):
    settings = outbox.settings_from(app.config, app.instance_path)
    return str(outbox.send_due(settings, now))


def send_sms(app, now):
    settings = sms.settings_from(app.config, app.instance_path)
    return str(sms.send_due(settings, now))


def refresh_statistics(app, now):
    """The associations' responsiveness (the matcher's) and /statistiques' figures."""
    return "Statistiques : " + statistiques.refresh(now)


def expire_invitations(app, now):
    count = accounts.expire_invitations(now or models.now())
    return f"Invitations : {count} compte(s) jamais activé(s) supprimé(s)."


DUTIES = [
    expire_invitations,
    retention.purge_drafts,
    # Before the reminders: no reminder about a lead about to be anonymised.
    retention.apply_retention,
    journal.purge_journal,
    relances.remind_late_leads,
    relances.nudge_waiting_leads,
    digest.send_digests,
    link_requests.answer_link_requests,
    digest.send_operator_digest,
    send_outbox,
    send_sms,
    refresh_statistics,
]


def tick(app, now=None):
    """Run every duty; returns [(duty name, report line or None, error or None)].

    A duty that raises does not stop the next ones (its error is returned and logged).
    `now` (naive UTC, as models.now()) lets tests move the clock.
    """
    results = []
    for duty in DUTIES:
        try:
            with app.app_context(), models.db.connection_context():
                results.append((duty.__name__, duty(app, now), None))
        except Exception as error:
            # The class and the frames, not the message: a database error may quote
            # the values of a row (an e-mail address).
            frames = "".join(traceback.format_tb(error.__traceback__))
            log.error("tick : %s a échoué (%s)\n%s", duty.__name__, type(error).__name__, frames)
            results.append((duty.__name__, None, error))
    if all(error is None for _, _, error in results):
        try:  # for /healthz; the duties' work is done either way
            with models.db.connection_context():
                health.record_tick(now)
        except Exception as error:
            log.error("tick : enregistrement du battement échoué (%s)", type(error).__name__)
    return results
