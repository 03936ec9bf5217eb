"""French working days (jours ouvrés): Monday to Friday, public holidays excluded.

Pure: the `holidays` library's calendar for metropolitan France (Easter Monday, Ascension,
Whit Monday included). An association promises to call back within N working days.

The one due rule: a lead is due on `due_day(routed_at, n)`, n working days after the day,
in France, it reached the association; that day is fixed then (Lead.due_on), so a later
change of the association's delay does not move a date already promised to the person.
The lead is late once that day is over (`is_late`). The inbox, the reminders, the
operator's late list, the statistics and the follow-up page all read it so.
"""

import datetime as dt
import functools
import zoneinfo

import holidays

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def to_paris(moment):
    """A stored moment (naive UTC, models.now) as French local time."""
    return moment.replace(tzinfo=dt.UTC).astimezone(PARIS)


def paris_day(moment):
    """The French calendar day of a stored moment: a promised date is a day in France."""
    return to_paris(moment).date()


@functools.lru_cache(maxsize=64)
def _holidays(year):
    return frozenset(holidays.France(years=year))


def _day(value):
    return value.date() if isinstance(value, dt.datetime) else value


def is_working_day(day):
    day = _day(day)
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start, n):
    """The day `n` working days after `start` (`start` itself not counted; n = 0 gives
    `start`): a lead received on Friday with 1 day's delay is due on Monday."""
    if n < 0:
        raise ValueError("n must be positive or zero")
    day = _day(start)
    while n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start, end):
    """Working days after `start` up to `end` included; negative when `end` is before:
    working_days_between(d, add_working_days(d, n)) == n."""
    start, end = _day(start), _day(end)
    if end < start:
        return -working_days_between(end, start)
    # Whole weeks at once: a lead may have waited for months.
    weeks, rest = divmod((end - start).days, 7)
    count = weeks * 5 - sum(
        1
        for year in range(start.year, end.year + 1)
        for holiday in _holidays(year)
        if start < holiday <= start + dt.timedelta(weeks=weeks) and holiday.weekday() < 5
    )
    day = start + dt.timedelta(weeks=weeks)
    for _ in range(rest):
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


def due_day(routed_at, n):
    """The day an association promising `n` working days must have called back by, for a
    lead that reached it at `routed_at` (a stored moment, naive UTC)."""
    return add_working_days(paris_day(routed_at), n)


def promised_delay(routed_at, due_on):
    """The `n` of due_day(routed_at, n) == due_on: the delay promised when the lead came."""
    return working_days_between(paris_day(routed_at), due_on)


def is_late(due_on, today):
    """Past its due day (a French calendar day); None (no association): never late."""
    return due_on is not None and today > due_on
