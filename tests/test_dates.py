"""French dates (domain/dates.py): three styles, always in Paris time. Fixed UTC moments
just before midnight, where UTC and Paris are on different days."""

import datetime as dt

import pytest

from domain import dates

# 23:30 UTC on 31 December is 00:30 on 1 January in Paris (UTC+1 in winter).
NEW_YEAR = dt.datetime(2026, 12, 31, 23, 30)
# 22:15 UTC on 30 June is 00:15 on 1 July in Paris (UTC+2 in summer).
SUMMER = dt.datetime(2026, 6, 30, 22, 15)


@pytest.mark.parametrize(
    ("moment", "day", "short", "with_time"),
    [
        (NEW_YEAR, "1er janvier 2027", "01/01/2027", "01/01/2027 à 0 h 30"),
        (SUMMER, "1er juillet 2026", "01/07/2026", "01/07/2026 à 0 h 15"),
        (dt.datetime(2026, 12, 8, 13, 5), "8 décembre 2026", "08/12/2026", "08/12/2026 à 14 h 05"),
    ],
)
def test_a_stored_utc_moment_is_read_in_paris_time(moment, day, short, with_time):
    assert dates.day(moment) == day
    assert dates.short(moment) == short
    assert dates.with_time(moment) == with_time


def test_a_calendar_day_is_not_moved_and_none_is_empty():
    assert dates.day(dt.date(2026, 12, 31)) == "31 décembre 2026"
    assert dates.short(dt.date(2026, 12, 31)) == "31/12/2026"
    assert dates.day(None) == dates.short(None) == dates.with_time(None) == ""
    assert dates.month(2026, 12) == "décembre 2026"


def test_an_aware_moment_is_converted_too():
    aware = NEW_YEAR.replace(tzinfo=dt.UTC)
    assert dates.with_time(aware) == "01/01/2027 à 0 h 30"
