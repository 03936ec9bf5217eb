"""The associations' responsiveness and the public statistics, computed by `tick`.

A *stint* is the time a lead spends at one association: from its routing there
(Lead.routed_at, or the orientation's creation for an association that handed it over)
to its first move out of "nouvelle" there (Lead.first_contact_at, or the first such event
before the hand-over). Time to first contact is counted in working days (jours ouvrés,
workdays.py): 0 when the person was contacted on the day the lead arrived. A stint is
*in time* when the first contact falls on or before the promised day (workdays.due_day, the
one due rule, in French days: Lead.due_on for the current stint, the association's delay
for a stint handed over); it is *late* from the next day on, contacted or not. A stint
handed over while still on time is neither.

refresh(now) computes everything and stores it in models.Statistique: the matcher reads
the responsiveness (last 90 days) through catalogue.stats() and the page /statistiques
reads the monthly rows, so neither queries the leads. Dates are the database's naive UTC.

Pure functions first (tested without a database), then the queries, then the storage.
"""

import datetime as dt
import time
from collections import Counter, defaultdict
from typing import NamedTuple

import models
from domain import lifecycle, matcher, workdays
from domain import vocabulary as V
from domain.geo_names import DEPARTEMENTS
from models import Association, Binome, Evenement, Lead, Orientation, Programme, Statistique

# Responsiveness is measured on the leads routed in this window.
WINDOW = dt.timedelta(days=90)
# catalogue.DELAI_MAX (30 working days) in calendar days, holidays included, and more: a
# stint routed this long before a month can still be decided (late) in it.
LONGEST_DELAY = dt.timedelta(days=62)
# The page shows this many months, the current one included.
PAGE_MONTHS = 12
# The matcher's cached copy of the responsiveness is re-read after this long (seconds):
# tick rewrites it every few minutes, a submit must not query it every time.
CACHE_SECONDS = 300
# tick may run every minute: the figures move slowly, computing them again sooner is waste.
REFRESH_EVERY = dt.timedelta(minutes=10)
REACTIVITE = "reactivite"
UTC = dt.UTC
MONTH_PREFIX = "mois:"
COUNTS = ("jeunes", "mentors", "orientations", "transferts", "binomes")
HAND_OVER = lifecycle.HAND_OVER.code


# --- Stints (pure) ------------------------------------------------------------------------------
class Stint(NamedTuple):
    association_id: int
    departement: str
    delai: int  # working days promised
    routed_at: dt.datetime
    contacted_at: dt.datetime | None = None  # first move out of "nouvelle" there
    handed_over_at: dt.datetime | None = None  # left for another association uncontacted


class Outcome(NamedTuple):
    day: dt.date  # when it was decided: the contact's day, or the first day late
    in_time: bool
    working_days: int | None  # to the first contact; None: not contacted


def outcome(stint, now):
    """How the stint turned out as of `now`, or None while it is still undecided (not
    contacted and not late yet, or handed over before being late). Days in France."""
    due = workdays.due_day(stint.routed_at, stint.delai)
    if stint.contacted_at is not None:
        contacted = workdays.paris_day(stint.contacted_at)
        days = max(0, workdays.working_days_between(workdays.paris_day(stint.routed_at), contacted))
        return Outcome(contacted, contacted <= due, days)
    late = due + dt.timedelta(days=1)
    left = stint.handed_over_at
    if late > _day(now) or (left is not None and workdays.paris_day(left) <= due):
        return None
    return Outcome(late, False, None)


def _day(value):
    return workdays.paris_day(value) if isinstance(value, dt.datetime) else value


def median(values):
    """The median of numbers, None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def median_of_counts(counts):
    """The median of a histogram {value: how many} (values as ints or numeric strings)."""
    pairs = sorted((int(value), n) for value, n in counts.items() if n > 0)
    total = sum(n for _, n in pairs)
    if not total:
        return None

    def nth(rank):  # 0-based
        seen = 0
        for value, n in pairs:
            seen += n
            if rank < seen:
                return value
        raise AssertionError("rank beyond the histogram")

    if total % 2:
        return nth(total // 2)
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def responsiveness(stints, now):
    """association id -> matcher.Reactivite over the stints routed in the last WINDOW:
    decided stints, those in time, and the median working days to first contact (None:
    nobody contacted yet)."""
    since = now - WINDOW
    decided = Counter()
    in_time = Counter()
    days = defaultdict(list)
    for stint in stints:
        if not since <= stint.routed_at <= now:
            continue
        result = outcome(stint, now)
        if result is None:
            continue
        decided[stint.association_id] += 1
        in_time[stint.association_id] += result.in_time
        if result.working_days is not None:
            days[stint.association_id].append(result.working_days)
    return {
        association: matcher.Reactivite(n, in_time[association], median(days[association]))
        for association, n in decided.items()
    }


def past_stint(association_id, departement, delai, routed_at, events):
    """The stint of an association that handed the lead over, from the lead's events
    (kind, from_status, at) in time order: it ends at the first hand-over since its
    routing; its contact is the first move out of "nouvelle" before that."""
    contacted = handed_over = None
    for kind, from_status, at in events:
        if at < routed_at:
            continue
        if kind == HAND_OVER:
            handed_over = at
            break
        if from_status == lifecycle.INITIAL and contacted is None:
            contacted = at
    if handed_over is None:
        return None  # its hand-over is not recorded: nothing to measure
    return Stint(
        association_id,
        departement,
        delai,
        routed_at,
        contacted,
        None if contacted else handed_over,
    )


# --- Monthly figures (pure) ---------------------------------------------------------------------
def month_of(value):
    return f"{value.year:04d}-{value.month:02d}"


def month_start(month):
    year, number = map(int, month.split("-"))
    return dt.datetime(year, number, 1)


def next_month(month):
    start = month_start(month)
    return month_of((start + dt.timedelta(days=32)).replace(day=1))


def months_between(first, last):
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
    return months


def empty_month():
    return {
        **{name: {} for name in COUNTS},
        "delais": {},  # departement -> {working days: contacts}
        "dans_le_delai": {},  # departement -> [in time, decided]
    }


def monthly_figures(events, stints, months, now):
    """month -> figures (empty_month()'s shape) for each of `months`.

    `events`: (name of COUNTS, when, departement) for each lead received, orientation,
    hand-over and pair formed; `stints`: Stint, counted in the month they were decided.
    """
    figures = {month: empty_month() for month in months}
    for name, at, departement in events:
        month = figures.get(month_of(at))
        if month is not None:
            counts = month[name]
            counts[departement] = counts.get(departement, 0) + 1
    for stint in stints:
        result = outcome(stint, now)
        month = figures.get(month_of(result.day)) if result else None
        if month is None:
            continue
        share = month["dans_le_delai"].setdefault(stint.departement, [0, 0])
        share[0] += result.in_time
        share[1] += 1
        if result.working_days is not None:
            days = month["delais"].setdefault(stint.departement, {})
            key = str(result.working_days)
            days[key] = days.get(key, 0) + 1
    return figures


# --- The page's figures (pure) ------------------------------------------------------------------


def month_label(month):
    year, number = map(int, month.split("-"))
    return f"{V.MOIS[number - 1]} {year}"


class Figures(NamedTuple):
    """One line of the page's tables: a month, a département, or the whole period."""

    key: str
    label: str
    counts: dict  # name of COUNTS -> number
    median_days: float | None
    in_time: int
    decided: int

    @property
    def share(self):
        return self.in_time / self.decided if self.decided else None


class Page(NamedTuple):
    months: tuple  # of Figures, oldest first
    departements: tuple  # of Figures, by code, those with something counted
    total: Figures
    computed_at: dt.datetime | None


def _combine(key, label, parts):
    """Figures from some (month figures, département codes or None for all) parts."""
    counts = Counter()
    days = Counter()
    in_time = decided = 0
    for figures, codes in parts:
        for name in COUNTS:
            counts[name] += sum(n for code, n in figures[name].items() if _among(code, codes))
        for code, histogram in figures["delais"].items():
            if _among(code, codes):
                days.update({int(value): n for value, n in histogram.items()})
        for code, (ok, n) in figures["dans_le_delai"].items():
            if _among(code, codes):
                in_time += ok
                decided += n
    return Figures(key, label, dict(counts), median_of_counts(days), in_time, decided)


def _among(code, codes):
    return codes is None or code in codes


def departement_label(code):
    if not code:
        return "Non renseigné"
    departement = DEPARTEMENTS.get(code)
    return f"{departement.nom} ({code})" if departement else code


def page_figures(rows, now, months=PAGE_MONTHS):
    """The page's tables from the stored monthly rows {month: figures} (missing months
    count nothing): the last `months` months, and the same period by département."""
    last = month_of(now)
    first = month_of(month_start(last) - dt.timedelta(days=31 * (months - 1)))
    period = months_between(first, last)[-months:]
    stored = [rows.get(month) or empty_month() for month in period]
    by_month = tuple(
        _combine(month, month_label(month), [(figures, None)])
        for month, figures in zip(period, stored, strict=True)
    )
    codes = set()
    for figures in stored:
        for name in (*COUNTS, "delais", "dans_le_delai"):
            codes.update(figures[name])
    by_departement = tuple(
        _combine(code, departement_label(code), [(figures, {code}) for figures in stored])
        for code in sorted(codes, key=lambda code: (code == "", code))
    )
    total = _combine("total", "Total", [(figures, None) for figures in stored])
    return by_month, by_departement, total


# --- SVG charts (pure) --------------------------------------------------------------------------
class Bar(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


class Chart(NamedTuple):
    width: int
    height: int
    bars: tuple
    baseline: float
    ticks: tuple  # (y, text) of the value axis


CHART_WIDTH, CHART_HEIGHT = 560, 260
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 52, 32, 24
FONT_SIZE = 15


def bar_chart(points, scale_max=None, formatter=None):
    """The geometry of a vertical bar chart of (label, value or None) points: the
    template draws it as inline SVG. `scale_max`: the top of the axis (e.g. 1 for a
    share), else the largest value rounded up."""
    formatter = formatter or format_number
    values = [value for _, value in points if value is not None]
    top = scale_max or _nice_top(max(values, default=0))
    plot_height = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = (CHART_WIDTH - MARGIN_LEFT) / max(1, len(points))
    baseline = CHART_HEIGHT - MARGIN_BOTTOM
    bars = []
    for i, (label, value) in enumerate(points):
        height = 0 if value is None else plot_height * min(value, top) / top
        bars.append(
            Bar(
                round(MARGIN_LEFT + i * slot + slot * 0.15, 1),
                round(baseline - height, 1),
                round(slot * 0.7, 1),
                round(height, 1),
                label,
                "—" if value is None else formatter(value),
            )
        )
    ticks = tuple(
        (round(baseline - plot_height * step / 4, 1), formatter(top * step / 4))
        for step in range(5)
    )
    return Chart(CHART_WIDTH, CHART_HEIGHT, tuple(bars), baseline, ticks)


def _nice_top(value):
    """The smallest of 4, 8, 20, 40, 80, 200… (1, 2, 5 × 10^n, times the 4 ticks) at
    or above `value`: round ticks."""
    if value <= 0:
        return 4
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude * 4 >= value:
                return step * magnitude * 4
        magnitude *= 10


def format_number(value):
    """French decimals, one at most: 2, 1,5."""
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


format_days = format_number


def format_share(value):
    if value is None:
        return "—"
    return f"{round(value * 100)} %"


# --- Queries ------------------------------------------------------------------------------------
def _current_stints(since):
    """The stint of every lead at its current association."""
    query = (
        Lead.select(
            Lead.association,
            Lead.departement,
            Lead.due_on,
            Lead.routed_at,
            Lead.first_contact_at,
        )
        .join(Association)
        .where(Lead.routed_at.is_null(False) & Lead.due_on.is_null(False))
    )
    if since is not None:
        query = query.where(
            (Lead.routed_at >= since - LONGEST_DELAY) | (Lead.first_contact_at >= since)
        )
    return [
        Stint(association, departement, workdays.promised_delay(routed, due), routed, contacted)
        for association, departement, due, routed, contacted in query.tuples()
    ]


def _past_stints(since):
    """The stint of every association that handed a lead over (its orientation is
    "transferee"), from the lead's events. Two queries."""
    handed = Orientation.outcome == "transferee"
    if since is not None:
        handed &= Orientation.created_at >= since - LONGEST_DELAY
    query = (
        Orientation.select(
            Orientation.lead,
            Programme.association,
            Lead.departement,
            Association.delai_recontact,
            Orientation.created_at,
        )
        .join(Programme)
        .join(Association)
        .switch(Orientation)
        .join(Lead)
        .where(handed)
    )
    orientations = list(query.tuples())
    events = defaultdict(list)
    leads = Orientation.select(Orientation.lead).where(handed)
    rows = (
        Evenement.select(Evenement.lead, Evenement.kind, Evenement.from_status, Evenement.at)
        .where(Evenement.lead.in_(leads))
        .order_by(Evenement.at, Evenement.id)
    )
    for lead, kind, from_status, at in rows.tuples():
        events[lead].append((kind, from_status, at))
    stints = (
        past_stint(association, departement, delai, routed, events[lead])
        for lead, association, departement, delai, routed in orientations
    )
    return [stint for stint in stints if stint is not None]


def stints(since=None):
    """Every stint that may be decided at or after `since` (None: all of them)."""
    return _current_stints(since) + _past_stints(since)


def counted_events(since=None):
    """(name of COUNTS, when, departement) since `since`: leads received (by kind),
    orientations and hand-overs (timeline events), pairs formed (the youth's département).
    Nothing personal is read: a person who deleted their data is still counted, as long
    as their lead's row is kept."""
    leads = Lead.select(Lead.kind, Lead.created_at, Lead.departement)
    events = Evenement.select(Evenement.kind, Evenement.at, Lead.departement).join(Lead)
    events = events.where(Evenement.kind.in_(("orientation", HAND_OVER)))
    pairs = Binome.select(Binome.started_at, Lead.departement).join(
        Lead, on=(Binome.jeune == Lead.id)
    )
    if since is not None:
        leads = leads.where(Lead.created_at >= since)
        events = events.where(Evenement.at >= since)
        pairs = pairs.where(Binome.started_at >= since)
    names = {"jeune": "jeunes", "mentor": "mentors", "orientation": "orientations"}
    names[HAND_OVER] = "transferts"
    found = [(names[kind], at, departement) for kind, at, departement in leads.tuples()]
    found += [(names[kind], at, departement) for kind, at, departement in events.tuples()]
    found += [("binomes", at, departement) for at, departement in pairs.tuples()]
    return found


def _first_month():
    first = Lead.select(Lead.created_at).order_by(Lead.created_at).first()
    return month_of(first.created_at) if first else None


# --- Storage ------------------------------------------------------------------------------------
def _frozen_months():
    """Months computed after they ended: never computed again."""
    frozen = set()
    stored = set()
    query = Statistique.select(Statistique.cle, Statistique.computed_at).where(
        Statistique.cle.startswith(MONTH_PREFIX)
    )
    for cle, computed_at in query.tuples():
        month = cle.removeprefix(MONTH_PREFIX)
        stored.add(month)
        if computed_at >= month_start(next_month(month)):
            frozen.add(month)
    return frozen, stored


def _fresh(now):
    """Computed less than REFRESH_EVERY before `now` (a clock moved back computes again)."""
    row = Statistique.select(Statistique.computed_at).where(Statistique.cle == REACTIVITE)
    row = row.first()
    return row is not None and dt.timedelta(0) <= now - row.computed_at < REFRESH_EVERY


def refresh(now=None):
    """Compute the responsiveness and the months not yet final, and store them, unless
    done less than REFRESH_EVERY ago; returns a line for tick's report. Idempotent; two
    at once write the same rows."""
    now = now or models.now()
    if _fresh(now):
        return "à jour"
    frozen, stored = _frozen_months()
    current = month_of(now)
    open_months = sorted(stored - frozen)
    if frozen:
        first = min([next_month(max(frozen)), *open_months, current])
    else:
        first = min(filter(None, [_first_month(), current]))
    months = [month for month in months_between(first, current) if month not in frozen]
    since = month_start(months[0])
    window = now - WINDOW
    all_stints = stints(min(since, window))
    figures = monthly_figures(counted_events(since), all_stints, months, now)
    measured = responsiveness(all_stints, now)
    rows = [(MONTH_PREFIX + month, data) for month, data in figures.items()]
    rows.append((REACTIVITE, {str(a): list(r) for a, r in measured.items()}))
    with models.write_transaction():
        for cle, data in rows:
            Statistique.insert(cle=cle, data=data, computed_at=now).on_conflict(
                conflict_target=[Statistique.cle],
                update={Statistique.data: data, Statistique.computed_at: now},
            ).execute()
    _remember(measured)
    return f"{len(months)} mois calculés, {len(measured)} associations mesurées"


# (database, monotonic time, responsiveness): one tuple, replaced at once.
_cache = None


def _remember(measured):
    global _cache
    _cache = (id(models.db.obj), time.monotonic(), measured)


def invalidate():
    global _cache
    _cache = None


def reactivite():
    """association id -> matcher.Reactivite, as tick last stored it ({} before its first
    run); read from the database at most every CACHE_SECONDS per process."""
    cached = _cache
    database = id(models.db.obj)
    if cached and cached[0] == database and time.monotonic() - cached[1] < CACHE_SECONDS:
        return cached[2]
    row = Statistique.select(Statistique.data).where(Statistique.cle == REACTIVITE).first()
    measured = {
        int(association): matcher.Reactivite(*values)
        for association, values in (row.data if row else {}).items()
    }
    _remember(measured)
    return measured


def page():
    """What /statistiques shows: (by month, by département, total, computed_at) — one query."""
    rows = {}
    computed_at = None
    query = Statistique.select().where(Statistique.cle.startswith(MONTH_PREFIX))
    for row in query:
        rows[row.cle.removeprefix(MONTH_PREFIX)] = row.data
        computed_at = max(filter(None, [computed_at, row.computed_at]))
    if computed_at is None:
        return None
    by_month, by_departement, total = page_figures(rows, computed_at)
    return Page(by_month, by_departement, total, computed_at)
