"""The health check (/healthz) for an uptime monitor: the database answers, and the last
successful `tick` is recent (it sends the e-mails and the reminders). No personal data."""

import datetime as dt

import models
from models import Battement

TICK = "tick"


def record_tick(now=None):
    """Called when every duty of a tick succeeded."""
    at = now or models.now()
    with models.write_transaction():
        Battement.insert(name=TICK, at=at).on_conflict(
            conflict_target=[Battement.name], update={Battement.at: at}
        ).execute()


def check(max_tick_minutes, now=None):
    """(True, "ok") or (False, the reason in French)."""
    try:
        with models.db.connection_context():
            last = Battement.select(Battement.at).where(Battement.name == TICK).scalar()
    except Exception:  # a server stopped, a file gone: whatever the driver raises, a 503
        return False, "base de données injoignable"
    if last is None:
        return False, "aucun tick réussi enregistré"
    age = (now or models.now()) - last
    if age > dt.timedelta(minutes=max_tick_minutes):
        return False, f"dernier tick réussi il y a {int(age.total_seconds() // 60)} min"
    return True, "ok"
