"""French dates as a person reads them: one set of formatters, always in Paris time.

Stored moments are naive UTC (models.now); a `datetime.date` is already a French
calendar day. Three styles, each for one use:

- `day`: « 8 décembre 2026 », « 1er décembre 2026 » — in a sentence (a promised date,
  the follow-up page, an e-mail);
- `short`: « 08/12/2026 » — a day in a table or a compact line;
- `with_time`: « 08/12/2026 à 14 h 05 » — when something happened, to the minute
  (timelines, notes, last login, failed e-mails).

`month` names a month: « décembre 2026 ». Templates use them as filters (`jour`,
`date_courte`, `date_fr`), registered in app.py. Machine formats (ISO in `<time
datetime>`, the CSV export) stay UTC and are not written here.
"""

import datetime as dt

from domain import workdays

MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def local(value: dt.datetime) -> dt.datetime:
    """A stored moment (naive UTC) or an aware one, as French local time."""
    if value.tzinfo is None:  # as workdays.to_paris
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(workdays.PARIS)


def calendar_day(value: dt.date | dt.datetime) -> dt.date:
    """The French calendar day of a moment; a date is one already."""
    return local(value).date() if isinstance(value, dt.datetime) else value


def day(value: dt.date | dt.datetime | None) -> str:
    """« 8 décembre 2026 », « 1er décembre 2026 »; "" for None."""
    if value is None:
        return ""
    value = calendar_day(value)
    number = "1er" if value.day == 1 else str(value.day)
    return f"{number} {MOIS[value.month - 1]} {value.year}"


def short(value: dt.date | dt.datetime | None) -> str:
    """« 08/12/2026 »; "" for None."""
    if value is None:
        return ""
    return calendar_day(value).strftime("%d/%m/%Y")


def with_time(value: dt.datetime | None) -> str:
    """« 08/12/2026 à 14 h 05 » (« 0 h 30 » after midnight); "" for None."""
    if value is None:
        return ""
    moment = local(value)
    return f"{moment:%d/%m/%Y} à {moment.hour} h {moment.minute:02d}"


def month(year: int, number: int) -> str:
    """« décembre 2026 »."""
    return f"{MOIS[number - 1]} {year}"
