"""Benchmark the matcher: time per person over a catalogue of 1,000 programmes.

Budget (DESIGN §11): well under 1 ms per person. Not a test: timings vary by machine, so
a baseline is measured side by side in the same run (iterating the catalogue with one
comparison per programme) and the ratio is printed too.

Usage: python scripts/bench_matcher.py [--programmes 1000] [--persons 500] [--seed 1]
"""

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain import matcher  # noqa: E402
from domain.geo_names import DEPARTEMENTS  # noqa: E402

BUDGET_US = 1000
ROUNDS = 3


def make_communes(rng, count):
    """Synthetic communes: (insee, departement, region, population)."""
    departements = sorted(DEPARTEMENTS)
    communes = []
    for number in range(count):
        departement = rng.choice(departements)
        insee = (departement + f"{number:05d}")[:5]
        population = rng.choice([300, 1500, 8000, 40000, 250000])
        communes.append((insee, departement, DEPARTEMENTS[departement].region, population))
    return communes


def pick(rng, codes, low, high):
    return frozenset(rng.sample(codes, rng.randint(low, high)))


def make_programme(rng, number, communes):
    """A random programme; zones spread like a real catalogue: mostly local ones."""
    zone = rng.choices(["national", "region", "departement", "commune"], [5, 25, 45, 25])[0]
    chosen = rng.sample(communes, 4)
    age_min = rng.choice([11, 11, 15, 16, 18])
    return matcher.ProgrammeInfo(
        id=number,
        slug=f"programme-{number}",
        nom=f"Programme {number}",
        association_id=number // 2,
        association_slug=f"association-{number // 2}",
        association_nom=f"Association {number // 2}",
        publics=rng.choice([frozenset({"jeunes"}), frozenset({"jeunes", "mentors"})]),
        besoins=pick(rng, matcher.BESOINS, 1, 3),
        age_min=age_min,
        age_max=rng.choice([18, 25, 29]) if age_min < 18 else 29,
        situations=rng.choice([frozenset(), pick(rng, matcher.SITUATIONS_JEUNE, 1, 4)]),
        zone_nationale=zone == "national",
        regions=frozenset(c[2] for c in chosen[:2]) if zone == "region" else frozenset(),
        departements=frozenset(c[1] for c in chosen[:3]) if zone == "departement" else frozenset(),
        communes=frozenset(c[0] for c in chosen) if zone == "commune" else frozenset(),
        a_distance=rng.random() < 0.2,
        publics_reserves=pick(rng, matcher.PUBLICS, 1, 1) if rng.random() < 0.1 else frozenset(),
        publics_prioritaires=pick(rng, matcher.PUBLICS, 0, 3),
        mentor_situations=pick(rng, matcher.SITUATIONS_MENTOR, 0, 2),
        mentor_tranches_age=pick(rng, matcher.TRANCHES_AGE, 0, 1),
        mentor_secteurs=pick(rng, matcher.SECTEURS, 0, 3),
        capacite_mensuelle=rng.choice([0, 5, 20, 100, 500]),
        en_pause=rng.random() < 0.03,
    )


def make_person(rng, communes):
    insee, departement, region, population = rng.choice(communes)
    common = dict(
        situation="",
        insee=insee,
        commune=f"Commune {insee}",
        departement=departement,
        region=region,
        rural=matcher.is_rural(population),
        accepte_distance=rng.random() < 0.6,
        distance_seulement=False,
    )
    if rng.random() < 0.75:
        common["situation"] = rng.choice(matcher.SITUATIONS_JEUNE)
        return matcher.Person(
            kind="jeune",
            besoins=frozenset({rng.choice(matcher.BESOINS)}),
            age=rng.randint(11, 29),
            publics=pick(rng, matcher.PUBLICS, 0, 2),
            **common,
        )
    common["situation"] = rng.choice(matcher.SITUATIONS_MENTOR)
    return matcher.Person(
        kind="mentor",
        besoins=pick(rng, matcher.BESOINS, 1, 4),
        tranche_age=rng.choice(matcher.TRANCHES_AGE),
        secteur=rng.choice(matcher.SECTEURS),
        publics_souhaites=pick(rng, matcher.PUBLICS_MENTOR, 0, 2),
        **common,
    )


def make_stats(rng, programmes):
    start = dt.datetime(2026, 11, 1)
    return matcher.Stats(
        last_proposed={
            p.id: start + dt.timedelta(minutes=rng.randint(0, 40000))
            for p in programmes
            if rng.random() < 0.7
        },
        proposed_this_month={p.id: rng.randint(0, 50) for p in programmes},
        jeunes_en_attente={p.id: rng.randint(0, 30) for p in programmes},
        mentors_disponibles={p.id: rng.randint(0, 30) for p in programmes},
        reactivite={
            p.association_id: matcher.Reactivite(n, rng.randint(0, n), rng.randint(0, 9))
            for p in programmes
            if rng.random() < 0.5
            for n in [rng.randint(0, 30)]
        },
    )


def timed(function, persons):
    """Microseconds per call, one timing per person and round."""
    timings = []
    for _ in range(ROUNDS):
        for person in persons:
            start = time.perf_counter_ns()
            function(person)
            timings.append((time.perf_counter_ns() - start) / 1000)
    return timings


def p99(timings):
    return statistics.quantiles(timings, n=100)[98]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programmes", type=int, default=1000)
    parser.add_argument("--persons", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    communes = make_communes(rng, 3000)
    programmes = [make_programme(rng, n, communes) for n in range(1, args.programmes + 1)]
    catalogue = matcher.build_catalogue(programmes)
    persons = [make_person(rng, communes) for _ in range(args.persons)]
    stats = make_stats(rng, programmes)

    def baseline(person):
        # The floor of any matcher that looks at every programme: one comparison each.
        return sum(1 for p in catalogue.programmes if p.age_min <= (person.age or 30))

    def run_matcher(person):
        return matcher.match(person, catalogue, stats)

    results = [run_matcher(person) for person in persons]  # warm-up, and the mix below
    base = timed(baseline, persons)
    timings = timed(run_matcher, persons)

    proposed = sum(1 for r in results if r.proposals)
    fallback = sum(1 for r in results if r.fallback)
    print(f"catalogue: {len(catalogue)} programmes, {len(persons)} persons × {ROUNDS} rounds")
    print(
        f"results: {proposed} with a proposal, {fallback} fallback, "
        f"{len(persons) - proposed} waiting list"
    )
    print(
        f"baseline (1 comparison per programme): mean {statistics.mean(base):7.1f} µs, "
        f"p99 {p99(base):7.1f} µs"
    )
    print(
        f"matcher:                               mean {statistics.mean(timings):7.1f} µs, "
        f"p99 {p99(timings):7.1f} µs"
    )
    ratio = statistics.mean(timings) / statistics.mean(base)
    print(f"ratio matcher / baseline (mean): {ratio:.2f}")
    verdict = "OK" if p99(timings) < BUDGET_US else "OVER BUDGET"
    print(f"budget {BUDGET_US} µs per person (p99): {verdict}")


if __name__ == "__main__":
    main()
