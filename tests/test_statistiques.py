"""statistiques.py: the pure computations (medians, in time or late, working days and
holidays), then the figures on a seeded database with chosen dates (SQLite, and
PostgreSQL with scripts/test-postgres.sh), then the real flows of demandes.py."""

import datetime as dt
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import models
from domain import matcher, workdays
from models import Association, Binome, Evenement, Lead, Orientation, Programme, Statistique
from services import catalogue, demandes
from services import statistiques as S
from services.statistiques import Stint

D = dt.datetime


# --- Pure ---------------------------------------------------------------------------------------
def test_median():
    assert S.median([]) is None
    assert S.median([3]) == 3
    assert S.median([5, 1, 3]) == 3
    assert S.median([4, 1, 3, 2]) == 2.5


def test_median_of_counts_agrees_with_the_values():
    assert S.median_of_counts({}) is None
    assert S.median_of_counts({"3": 0}) is None
    assert S.median_of_counts({"2": 1, "0": 1, "4": 1}) == 2
    assert S.median_of_counts({"1": 2, "7": 2}) == 4
    values = [0, 0, 1, 1, 1, 2, 5, 9]
    counts = {str(v): values.count(v) for v in set(values)}
    assert S.median_of_counts(counts) == S.median(values) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=30))
def test_median_of_counts_is_the_median_of_the_values(values):
    counts = {str(v): values.count(v) for v in set(values)}
    assert S.median_of_counts(counts) == S.median(values)


@settings(max_examples=60, deadline=None)
@given(
    routed=st.datetimes(D(2026, 1, 1), D(2026, 12, 31)),
    delai=st.integers(1, 30),
    wait=st.one_of(st.none(), st.timedeltas(dt.timedelta(0), dt.timedelta(days=60))),
)
def test_in_time_means_contacted_by_the_promised_day(routed, delai, wait):
    stint = Stint(1, "69", delai, routed, None if wait is None else routed + wait)
    now = routed + dt.timedelta(days=90)
    result = S.outcome(stint, now)
    due = workdays.due_day(routed, delai)  # days in France, as everywhere
    if wait is None:
        assert result == S.Outcome(due + dt.timedelta(days=1), False, None)
    else:
        contacted = workdays.paris_day(routed + wait)
        assert result.in_time == (contacted <= due)
        days = workdays.working_days_between(workdays.paris_day(routed), contacted)
        assert result.working_days == days
        # A contact on the weekend after the last day is late with no working day more.
        if result.in_time:
            assert result.working_days <= delai
        if result.working_days > delai:
            assert not result.in_time


def test_contacted_within_the_delay_counts_working_days_and_holidays():
    # Monday 9 November 2026; Wednesday 11 is a holiday: 2 working days end on Thursday.
    stint = Stint(1, "69", 2, D(2026, 11, 9, 9), contacted_at=D(2026, 11, 12, 18))
    assert workdays.due_day(stint.routed_at, stint.delai) == dt.date(2026, 11, 12)
    assert S.outcome(stint, D(2026, 11, 20)) == S.Outcome(dt.date(2026, 11, 12), True, 2)
    late = stint._replace(contacted_at=D(2026, 11, 13, 8))
    assert S.outcome(late, D(2026, 11, 20)) == S.Outcome(dt.date(2026, 11, 13), False, 3)
    same_day = stint._replace(contacted_at=D(2026, 11, 9, 17))
    assert S.outcome(same_day, D(2026, 11, 9, 18)).working_days == 0


def test_not_contacted_is_undecided_until_late_then_late():
    stint = Stint(1, "69", 2, D(2026, 11, 9, 9))
    # Stored times are UTC; the days are French: 22:59 UTC is 23:59 in Paris.
    assert S.outcome(stint, D(2026, 11, 12, 22, 59)) is None  # its last day
    assert S.outcome(stint, D(2026, 11, 12, 23, 0)) == S.Outcome(dt.date(2026, 11, 13), False, None)
    # Handed over while on time: neither; once late: late.
    on_time = stint._replace(handed_over_at=D(2026, 11, 12, 10))
    assert S.outcome(on_time, D(2026, 12, 1)) is None
    too_late = stint._replace(handed_over_at=D(2026, 11, 16, 10))
    assert S.outcome(too_late, D(2026, 12, 1)).in_time is False


def test_responsiveness_over_the_last_90_days():
    now = D(2026, 11, 20, 12)
    stints = [
        Stint(1, "69", 2, D(2026, 11, 9), D(2026, 11, 10)),  # in time, 1 day
        Stint(1, "69", 2, D(2026, 11, 2)),  # late, never contacted
        Stint(1, "75", 2, D(2026, 10, 1), D(2026, 10, 9)),  # late, 6 days
        Stint(1, "75", 2, D(2026, 8, 1), D(2026, 8, 3)),  # more than 90 days ago
        Stint(2, "13", 5, D(2026, 11, 19)),  # not late yet
    ]
    assert S.responsiveness(stints, now) == {1: matcher.Reactivite(3, 1, 3.5)}
    assert S.responsiveness([], now) == {}


def test_past_stint_from_the_events():
    routed = D(2026, 10, 5, 9)
    before = ("contacter", "nouvelle", D(2026, 10, 1))  # at an earlier association
    contact = ("contacter", "nouvelle", D(2026, 10, 6))
    hand_over = ("transfert", "contactee", D(2026, 10, 8))
    after = ("contacter", "nouvelle", D(2026, 10, 9))  # at the next association
    stint = S.past_stint(7, "13", 3, routed, [before, contact, hand_over, after])
    assert stint == Stint(7, "13", 3, routed, D(2026, 10, 6), None)
    silent = S.past_stint(7, "13", 3, routed, [("transfert", "nouvelle", D(2026, 10, 7))])
    assert silent == Stint(7, "13", 3, routed, None, D(2026, 10, 7))
    assert S.past_stint(7, "13", 3, routed, [contact]) is None


def test_bar_chart_geometry():
    chart = S.bar_chart([("a", 0), ("b", 5), ("c", None), ("d", 10)])
    assert chart.ticks[-1][1] == "20" and chart.ticks[0][1] == "0"
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == 0 and heights[3] == 2 * heights[1] > 0
    assert [bar.value for bar in chart.bars] == ["0", "5", "—", "10"]
    assert all(bar.y + bar.height == pytest.approx(chart.baseline) for bar in chart.bars)
    share = S.bar_chart([("a", 0.5)], scale_max=1, formatter=S.format_share)
    assert share.ticks[-1][1] == "100 %" and share.bars[0].value == "50 %"
    assert S.format_days(1.5) == "1,5" and S.format_days(2) == "2"


def test_month_labels():
    assert S.month_label("2026-08") == "août 2026"
    assert S.months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


# --- A seeded database with chosen dates -------------------------------------------------------
NOW = D(2026, 11, 20, 12)  # a Friday
_numbers = itertools.count(1)


def association(slug, delai):
    row = Association.create(slug=slug, nom=slug.title(), delai_recontact=delai)
    Programme.create(association=row, slug=f"{slug}-p", nom=f"Programme {slug}")
    return row


def programme_of(association):
    return Programme.get(Programme.association == association)


def lead(kind, departement, at, where, contacted=None, **fields):
    number = next(_numbers)
    row = Lead.create(
        reference=f"T-{number:05d}",
        kind=kind,
        suivi_token=f"token-{number}",
        answers={"prenom": "Inès"},
        departement=departement,
        prenom="Inès",
        email=f"ines{number}@example.org",
        created_at=at,
        routed_at=at,
        due_on=workdays.due_day(at, where.delai_recontact) if where else None,
        association=where,
        first_contact_at=contacted,
        status="contactee" if contacted else "nouvelle",
        **fields,
    )
    orientation(row, where, at)
    if contacted:
        event(row, "contacter", contacted, "nouvelle", "contactee")
    return row


def orientation(row, where, at, outcome="proposee"):
    Orientation.create(
        lead=row,
        programme=programme_of(where),
        rank=1,
        score=50,
        matcher_version=matcher.MATCHER_VERSION,
        outcome=outcome,
        created_at=at,
    )
    event(row, "orientation", at, "", "nouvelle")


def event(row, kind, at, from_status="", to_status=""):
    Evenement.create(lead=row, kind=kind, from_status=from_status, to_status=to_status, at=at)


@pytest.fixture
def seeded(db):
    a, b = association("assoc-a", 2), association("assoc-b", 5)
    one = lead("jeune", "69", D(2026, 11, 9, 9), a, contacted=D(2026, 11, 12, 10))
    lead("jeune", "69", D(2026, 11, 2, 9), a)  # never contacted: late from the 5th
    three = lead("mentor", "75", D(2026, 10, 28, 9), a, contacted=D(2026, 11, 3, 9))
    lead("jeune", "75", D(2026, 11, 19, 9), b)  # not late yet
    # Received at B, handed over the next day to A, contacted there the same day.
    five = Lead.create(
        reference="T-HAND",
        kind="jeune",
        suivi_token="token-hand",
        answers={},
        departement="13",
        created_at=D(2026, 10, 5, 9),
        routed_at=D(2026, 10, 6, 10),
        due_on=workdays.due_day(D(2026, 10, 6, 10), a.delai_recontact),
        association=a,
        first_contact_at=D(2026, 10, 6, 15),
        status="contactee",
    )
    orientation(five, b, D(2026, 10, 5, 9), outcome="transferee")
    event(five, "transfert", D(2026, 10, 6, 9, 59), "nouvelle", "nouvelle")
    orientation(five, a, D(2026, 10, 6, 10))
    event(five, "contacter", D(2026, 10, 6, 15), "nouvelle", "contactee")
    Binome.create(jeune=one, mentor=three, association=a, started_at=D(2026, 11, 15))
    return a, b


OCTOBER = {
    "jeunes": {"13": 1},
    "mentors": {"75": 1},
    "orientations": {"75": 1, "13": 2},
    "transferts": {"13": 1},
    "binomes": {},
    "delais": {"13": {"0": 1}},
    "dans_le_delai": {"13": [1, 1]},
}
NOVEMBER = {
    "jeunes": {"69": 2, "75": 1},
    "mentors": {},
    "orientations": {"69": 2, "75": 1},
    "transferts": {},
    "binomes": {"69": 1},
    "delais": {"69": {"2": 1}, "75": {"4": 1}},
    "dans_le_delai": {"69": [1, 2], "75": [0, 1]},
}


def stored(cle):
    return Statistique.get(Statistique.cle == cle).data


def test_every_figure_of_a_seeded_database(seeded):
    a, b = seeded
    assert S.refresh(NOW) == "2 mois calculés, 1 associations mesurées"
    assert stored("mois:2026-10") == OCTOBER
    assert stored("mois:2026-11") == NOVEMBER
    # A: lead one in time (2 days, the 11th a holiday), two late uncontacted, three late
    # (4 days), five in time at A (0 days); B handed five over in time and four is not
    # late yet: B is not measured.
    assert S.reactivite() == {a.id: matcher.Reactivite(4, 2, 2)}
    page = S.page()
    assert [m.key for m in page.months][-2:] == ["2026-10", "2026-11"]
    assert len(page.months) == S.PAGE_MONTHS
    november = page.months[-1]
    assert november.counts == {
        "jeunes": 3,
        "mentors": 0,
        "orientations": 3,
        "transferts": 0,
        "binomes": 1,
    }
    assert (november.median_days, november.in_time, november.decided) == (3, 1, 3)
    assert [d.key for d in page.departements] == ["13", "69", "75"]
    rhone = page.departements[1]
    assert rhone.label == "Rhône (69)"
    assert rhone.counts["jeunes"] == 2 and rhone.share == 0.5 and rhone.median_days == 2
    assert page.total.counts["orientations"] == 6 and page.total.median_days == 2
    assert (page.total.in_time, page.total.decided) == (2, 4)


def test_refresh_is_idempotent_and_the_matcher_reads_the_cache(seeded):
    a, _ = seeded
    S.refresh(NOW)
    assert S.refresh(NOW + dt.timedelta(minutes=9)) == "à jour"
    assert S.refresh(NOW + dt.timedelta(minutes=10)) == "1 mois calculés, 1 associations mesurées"
    assert S.refresh(NOW - dt.timedelta(days=1)).endswith("associations mesurées")
    assert Statistique.select().count() == 3  # two months and the responsiveness
    S.invalidate()
    assert catalogue.stats(now=NOW).reactivite == {a.id: matcher.Reactivite(4, 2, 2)}


def test_a_deleted_or_anonymised_lead_still_counts_once_its_month_is_over(seeded):
    S.refresh(D(2026, 12, 1, 0, 5))  # October and November are over: final
    october, november = stored("mois:2026-10"), stored("mois:2026-11")
    Lead.update(prenom="", email="", answers={}).execute()  # anonymised
    Lead.delete().where(Lead.reference == "T-HAND").execute()  # or gone
    S.refresh(D(2026, 12, 1, 0, 10))
    assert stored("mois:2026-10") == october == OCTOBER
    assert stored("mois:2026-11") == november
    assert november["jeunes"] == NOVEMBER["jeunes"]


def test_a_month_computed_before_its_end_is_computed_again(seeded):
    S.refresh(NOW)  # October is over: final; November is not
    Lead.delete().where((Lead.kind == "jeune") & (Lead.departement != "69")).execute()
    S.refresh(D(2026, 12, 1, 0, 5))
    assert stored("mois:2026-10")["jeunes"] == {"13": 1}
    assert stored("mois:2026-11")["jeunes"] == {"69": 2}


def test_nothing_yet(db):
    assert S.page() is None
    assert S.reactivite() == {}
    S.refresh(NOW)
    page = S.page()
    assert page.total.counts["jeunes"] == 0 and page.total.median_days is None
    assert page.total.share is None


# --- The real flows -----------------------------------------------------------------------------
def test_stints_of_the_real_hand_over_and_contact(db):
    from test_demandes import new_lead

    row = new_lead()
    first = row.association_id
    demandes.change_status(row, "contactee", "staff@example.org")
    row = demandes.hand_over(Lead.get_by_id(row.id), "staff@example.org", "hors_territoire")
    second = row.association_id
    assert second != first
    demandes.change_status(row, "contactee", "staff2@example.org")
    found = {s.association_id: s for s in S.stints()}
    assert set(found) == {first, second}
    now = models.now()
    for stint in found.values():
        assert stint.contacted_at is not None and stint.handed_over_at is None
        assert S.outcome(stint, now) == S.Outcome(now.date(), True, 0)
    S.refresh(now)
    measured = S.reactivite()
    assert measured[first] == measured[second] == matcher.Reactivite(1, 1, 0)
    month = stored(S.MONTH_PREFIX + S.month_of(now))
    assert month["transferts"] == {"69": 1} and month["orientations"] == {"69": 2}
    assert month["dans_le_delai"] == {"69": [2, 2]}


# --- The page -----------------------------------------------------------------------------------
def test_the_page_before_any_computation(client):
    response = client.get("/statistiques")
    assert response.status_code == 200
    assert "pas encore été calculées" in response.get_data(as_text=True)


def test_the_page_shows_every_figure_in_charts_and_tables_with_few_queries(app, client):
    from test_questionnaire import count_queries

    with models.db.connection_context():
        a, b = association("assoc-a", 2), association("assoc-b", 5)
        lead("jeune", "69", D(2026, 11, 9, 9), a, contacted=D(2026, 11, 12, 10))
        lead("jeune", "69", D(2026, 11, 2, 9), a)
        lead("mentor", "75", D(2026, 10, 28, 9), b, contacted=D(2026, 11, 3, 9))
        S.refresh(NOW)
    client.get("/statistiques")  # the connection's first use
    with count_queries() as queries:
        response = client.get("/statistiques")
    assert response.status_code == 200
    assert len(queries) == 1, queries
    html = response.get_data(as_text=True)
    assert html.count("<svg") == 8 and html.count('role="img"') == 8
    assert html.count("<table") == 9 and 'scope="row"' in html and "<caption>" in html
    assert "Ce qui est compté" in html and "jours ouvrés" in html
    assert 'style="' not in html
    # November: 2 youths; 2 in time of 3 decided (the mentor's 5 days end on the 4th);
    # median of 2 and 4 working days.
    flat = re.sub(r"\s+", " ", html)
    month = '<th scope="row">novembre 2026</th> '
    number = '<td class="data-table__number">{}</td>'
    assert month + number.format(2) in flat  # youths
    assert month + number.format(3) in flat  # median
    assert month + "".join(number.format(v) for v in (2, 3, "67 %")) in flat
    assert "Rhône (69)" in html and "Paris (75)" in html
    assert "novembre 2026" in html and "décembre 2025" in html


def test_the_footer_and_the_site_map_link_the_page(client):
    html = client.get("/plan-du-site").get_data(as_text=True)
    assert html.count('href="/statistiques"') == 2


# --- Computed by tick ---------------------------------------------------------------------------
def test_tick_computes_the_statistics(app, seeded):
    from jobs import scheduler

    results = dict((name, (report, error)) for name, report, error in scheduler.tick(app, NOW))
    assert results["refresh_statistics"] == (
        "Statistiques : 2 mois calculés, 1 associations mesurées",
        None,
    )
    assert stored("mois:2026-11") == NOVEMBER


def test_two_refreshes_at_once_in_two_processes(seeded, database_url):
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import app, models, datetime as dt; from services import statistiques;"
        f"a = app.create_app({{'SECRET_KEY': 'k', 'DATABASE_URL': {database_url!r}}});"
        "models.db.connect();"
        "print(statistiques.refresh(dt.datetime(2026, 11, 20, 12)))"
    )
    root = Path(__file__).resolve().parent.parent
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    # October, computed after its end, is final: a run that starts after the other has
    # stored it computes November only.
    done = {f"{n} mois calculés, 1 associations mesurées\n" for n in (1, 2)} | {"à jour\n"}
    assert set(outputs) <= done and "2 mois" in outputs[0] + outputs[1], outputs
    assert Statistique.select().count() == 3
    assert stored("mois:2026-10") == OCTOBER


def test_the_result_page_says_the_measured_responsiveness(client):
    from helpers import YOUTH_STEPS, submit, walk
    from markupsafe import escape
    from test_demandes import new_lead

    with models.db.connection_context():
        probe = new_lead()  # where this youth is sent
        where = Association.get_by_id(probe.association_id)
        for days in range(1, 11):  # ten leads, each contacted the day it arrived
            at = models.now() - dt.timedelta(days=days)
            lead("jeune", "69", at, where, contacted=at)
        S.refresh()
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    html = client.get(location).get_data(as_text=True)
    said = (
        f"Ces trois derniers mois, {where.nom} a recontacté 10 personnes sur 10 "
        "dans le délai promis."
    )
    assert str(escape(said)) in html
    with models.db.connection_context():
        sent = Lead.select().order_by(Lead.id.desc()).get()
        (first,) = [o for o in sent.orientations if o.rank == 1]
        assert first.matcher_version == matcher.MATCHER_VERSION == "2026.12-1"
        assert said in first.reasons


def test_a_contact_on_the_saturday_after_the_last_day_is_late():
    # Due Friday 13 March 2026 (30 working days after Sunday 1 February).
    stint = Stint(1, "69", 30, D(2026, 2, 1, 22), contacted_at=D(2026, 3, 14, 10))
    assert workdays.due_day(stint.routed_at, stint.delai) == dt.date(2026, 3, 13)
    assert S.outcome(stint, D(2026, 4, 1)) == S.Outcome(dt.date(2026, 3, 14), False, 30)
