import datetime as dt

import pytest

from domain.workdays import add_working_days, is_working_day, late_cutoff, working_days_between

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


def test_late_cutoff_agrees_with_the_due_day():
    for today in (D(2026, 5, 4), D(2026, 5, 15), D(2026, 12, 28), D(2027, 1, 2)):
        for n in (0, 1, 3, 5, 10):
            cutoff = late_cutoff(today, n)
            for offset in range(0, 40):
                arrival = today - dt.timedelta(days=offset)
                late = add_working_days(arrival, n) < today
                assert late == (arrival < cutoff), (today, n, arrival)
