"""`make load`: the full youth and mentor journeys (with CSRF) at a fixed arrival rate, by
locust (headless, scripts/locustfile.py), against gunicorn as `make run` starts it
(gunicorn.conf.py, 2 workers), on SQLite, then on PostgreSQL when a server is given
(`scripts/test-postgres.sh` passes one as TEST_DATABASE_URL, as for the tests).

Prints, per backend: journeys per second (the rate asked, the rate served), p50/p95/p99
per kind of request, the failures, and the CPU per journey of the gunicorn workers (and of
PostgreSQL's processes), read from /proc. Not a test: figures for the operator's sizing.

Usage: python scripts/load.py [--seconds 30] [--rate 6] [--profile DIR]
--profile: py-spy records the workers (collapsed stacks per worker in DIR, summarised).
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench_steps import free_port, prepare_database, wait_ready  # noqa: E402

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
PACING = 4  # seconds between two journeys of one simulated person


def cpu_seconds(pid, children_done=False):
    """User + system CPU of a process (and of its children already reaped)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12])
    if children_done:
        used += int(fields[13]) + int(fields[14])
    return used / TICKS


def children(pid):
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def workers_cpu(master):
    return sum(cpu_seconds(pid) for pid in children(master))


def postgres_cpu(url):
    """The postmaster, its live processes and the backends already gone (its children)."""
    if not url:
        return 0.0
    host = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["host"][0]
    postmaster = int((Path(host) / "data" / "postmaster.pid").read_text().split()[0])
    return cpu_seconds(postmaster, children_done=True) + sum(
        cpu_seconds(pid) for pid in children(postmaster)
    )


def postgres_database(server_url):
    name = f"load_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlsplit(server_url)._replace(path=f"/{name}").geturl()


def run(backend, database_url, server_url, args, work):
    prepare_database(database_url)
    port = free_port()
    env = dict(
        os.environ,
        SECRET_KEY="load-secret",
        DATABASE_URL=database_url,
        SESSION_COOKIE_SECURE="0",
    )
    log = open(work / f"gunicorn-{backend}.log", "wb")  # noqa: SIM115
    command = [
        str(BIN / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        # No access log: the figures are the app's (issue 14 §5).
        "--access-logfile",
        "/dev/null",
        "app:create_app()",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    spies = []
    try:
        wait_ready(port, server)
        time.sleep(1)  # the workers booted
        users = max(1, round(args.rate * PACING))
        before = workers_cpu(server.pid), postgres_cpu(server_url), time.monotonic()
        if args.profile:
            for pid in children(server.pid):
                out = Path(args.profile) / f"{backend}-{pid}.txt"
                spies.append(
                    subprocess.Popen(
                        [
                            str(BIN / "py-spy"),
                            "record",
                            "-p",
                            str(pid),
                            "-o",
                            str(out),
                            "--format",
                            "raw",
                            "-d",
                            str(args.seconds),
                            "-r",
                            "50",
                            "--nonblocking",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        result = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "scripts" / "locustfile.py"),
                "--headless",
                "--host",
                f"http://127.0.0.1:{port}",
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{args.seconds}s",
                "--csv",
                str(work / backend),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--loglevel",
                "WARNING",
            ],
            env=dict(os.environ, LOAD_PACING=str(PACING)),
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        after = workers_cpu(server.pid), postgres_cpu(server_url), time.monotonic()
    finally:
        server.terminate()
        server.wait()
        for spy in spies:
            spy.wait()
        log.close()
    journeys = [line for line in result.stdout.splitlines() if line.startswith("JOURNEYS")]
    youth, mentor = map(int, journeys[-1].split()[1:]) if journeys else (0, 0)
    report(backend, args, work, youth, mentor, before, after)
    if args.profile:
        profile_summary(sorted(Path(args.profile).glob(f"{backend}-*.txt")))


def profile_summary(files, top=25):
    """Where the workers' time goes: the share of samples under each function (inclusive)
    and at the top of the stack (self), from py-spy's collapsed stacks."""
    inclusive, own, total = {}, {}, 0
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = [
                frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0]
                for frame in stack.split(";")
                if frame
            ]
            count = int(count)
            total += count
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + count
            if frames:
                own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        return
    print(f"profil ({total} échantillons) : part du temps sous chaque fonction")
    for frame, count in sorted(inclusive.items(), key=lambda item: -item[1])[:top]:
        print(f"  {100 * count / total:5.1f} %  {frame}")
    print("en haut de la pile (temps propre) :")
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:15]:
        print(f"  {100 * count / total:5.1f} %  {frame}")


def report(backend, args, work, youth, mentor, before, after):
    done = youth + mentor
    seconds = after[2] - before[2]
    print(f"\n== {backend} : {args.seconds} s à {args.rate} parcours/s demandés ==")
    print(
        f"parcours terminés : {done} ({youth} jeunes, {mentor} mentors), "
        f"{done / seconds:.1f} parcours/s servis"
    )
    if done:
        app_ms = 1000 * (after[0] - before[0]) / done
        line = f"CPU par parcours : {app_ms:.0f} ms (gunicorn)"
        if after[1]:
            line += f" + {1000 * (after[1] - before[1]) / done:.0f} ms (PostgreSQL)"
        print(line)
    print(f"{'requête':32} {'nombre':>7} {'échecs':>7} {'p50':>6} {'p95':>6} {'p99':>6} (ms)")
    with open(work / f"{backend}_failures.csv") as failures:
        for row in csv.DictReader(failures):
            print(f"échec : {row['Name']} {row['Error']} ({row['Occurrences']})")
    with open(work / f"{backend}_stats.csv") as stats:
        for row in csv.DictReader(stats):
            print(
                f"{row['Name']:32} {row['Request Count']:>7} "
                f"{row['Failure Count']:>7} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rate", type=float, default=6.0, help="parcours par seconde")
    parser.add_argument("--profile", help="dossier des profils py-spy (un par worker)")
    args = parser.parse_args()
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        run("SQLite", f"sqlite:///{work / 'load.db'}", "", args, work)
        server_url = os.environ.get("TEST_DATABASE_URL", "")
        if server_url.startswith("postgres"):
            run("PostgreSQL", postgres_database(server_url), server_url, args, work)
        else:
            print("\nPostgreSQL : pas de serveur (make load le démarre, scripts/test-postgres.sh).")


if __name__ == "__main__":
    main()
