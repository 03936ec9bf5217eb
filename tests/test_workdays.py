import datetime as dt

import pytest

from domain.workdays import (
    add_working_days,
    due_day,
    is_late,
    is_working_day,
    promised_delay,
    working_days_between,
)

D = dt.date


def test_weekends_are_skipped():
    friday = D(2026, 3, 6)
    assert add_working_days(friday, 1) == D(2026, 3, 9)  # Monday
    assert add_working_days(friday, 5) == D(2026, 3, 13)
    assert working_days_between(friday, D(2026, 3, 8)) == 0  # the weekend
    assert working_days_between(friday, D(2026, 3, 9)) == 1


def test_first_of_may_and_ascension_are_not_working_days():
    # 2026: 1 May is a Friday, 8 May a Friday, Ascension Thursday 14 May.
    assert not is_working_day(D(2026, 5, 1))
    assert not is_working_day(D(2026, 5, 14))
    assert is_working_day(D(2026, 5, 13))
    thursday = D(2026, 4, 30)
    assert add_working_days(thursday, 1) == D(2026, 5, 4)  # over 1 May and the weekend
    assert add_working_days(D(2026, 5, 13), 1) == D(2026, 5, 15)  # over Ascension
    # 4 May to 15 May: 10 weekdays, minus 8 May and Ascension.
    assert working_days_between(D(2026, 5, 3), D(2026, 5, 15)) == 8


def test_easter_monday_moves_every_year():
    assert not is_working_day(D(2026, 4, 6))
    assert not is_working_day(D(2027, 3, 29))
    assert is_working_day(D(2026, 3, 30))


def test_zero_days_and_datetimes():
    at = dt.datetime(2026, 5, 13, 17, 30)
    assert add_working_days(at, 0) == D(2026, 5, 13)
    assert working_days_between(at, at) == 0
    with pytest.raises(ValueError):
        add_working_days(at, -1)


def test_between_is_the_inverse_of_add_over_years():
    start = D(2025, 12, 19)
    for n in range(0, 400, 7):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert working_days_between(end, start) == -n
        assert is_working_day(end) or n == 0


def test_between_counts_day_by_day():
    start = D(2026, 4, 1)
    for length in range(0, 60):
        end = start + dt.timedelta(days=length)
        by_day = sum(is_working_day(start + dt.timedelta(days=i)) for i in range(1, length + 1))
        assert working_days_between(start, end) == by_day


def test_the_due_day_is_a_day_in_france():
    # Routed on Friday 4 December 2026 at 23:30 in Paris (22:30 UTC): a Friday arrival,
    # due on Monday with 1 day; at 23:30 UTC it is already Saturday in Paris.
    friday_evening = dt.datetime(2026, 12, 4, 22, 30)
    assert due_day(friday_evening, 1) == D(2026, 12, 7)
    saturday_night = dt.datetime(2026, 12, 4, 23, 30)
    assert due_day(saturday_night, 1) == D(2026, 12, 7)
    assert due_day(dt.datetime(2026, 12, 3, 23, 30), 1) == D(2026, 12, 7)  # Friday in Paris
    assert due_day(dt.datetime(2026, 12, 23, 12), 1) == D(2026, 12, 24)
    assert due_day(dt.datetime(2026, 12, 24, 12), 1) == D(2026, 12, 28)  # Christmas


def test_the_promised_delay_is_read_back_from_the_due_day():
    start = dt.datetime(2026, 4, 1, 21, 45)  # Easter Monday, May holidays, Ascension
    for offset in range(0, 80):
        routed = start + dt.timedelta(days=offset, hours=offset % 5)
        for n in (0, 1, 2, 5, 10, 15):
            assert promised_delay(routed, due_day(routed, n)) == n, (routed, n)


def test_late_once_the_due_day_is_over():
    due = D(2026, 12, 7)
    assert not is_late(due, D(2026, 12, 7))  # the day itself is still on time
    assert is_late(due, D(2026, 12, 8))
    assert not is_late(None, D(2030, 1, 1))  # no association: nobody is late
