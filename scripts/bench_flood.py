"""One client flooding the youth questionnaire for a minute: how many leads it creates.

Against a real gunicorn on loopback (gunicorn.conf.py, as `make run`), a fresh SQLite
database and, when Debian's redis-server is installed, a Redis of its own as the limits'
store (RATELIMIT_STORAGE_URI: the workers then count together; without it, one worker
and `memory://`). The client walks the questionnaire for real (CSRF token, every step,
the check page) as fast as it can, a different person each time (so that neither the
"sent again" link nor the confirmation cap stops it: only the rate limits do), with the
time trap off (MIN_FILL_SECONDS=0; at its default every such walk is a robot's and none
is created). Twice: from one address, then rotating a spoofed X-Forwarded-For. The goal:
LIMIT_DEMANDES leads each time (30 by default), not the 675 of issue 12.

Usage: python scripts/bench_flood.py [--seconds 60]
"""

import argparse
import http.client
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_steps import (  # noqa: E402
    CSRF_RE,
    HOST,
    ROOT,
    free_port,
    prepare_database,
    wait_ready,
)

STEPS = [
    ("age", {"age": "17"}),
    ("situation", {"situation": "lycee_general"}),
    ("besoin", {"besoin": "orientation"}),
    ("commune", {"commune": "Lyon (69003)"}),
    ("situation-particuliere", {"situations": "aucune"}),
    ("rencontre", {"rencontre": "les_deux"}),
]


def person(number):
    return {
        "prenom": "Inès",
        "nom": "Martin",
        "email": f"flood{number}@example.org",
        "telephone": f"06 12 {number // 10000 % 100:02d} {number // 100 % 100:02d} "
        f"{number % 100:02d}",
        "contact_pref": "email",
    }


class Client:
    """One browser: a keep-alive connection, its session cookie, its headers."""

    def __init__(self, port, spoof):
        self.port, self.spoof, self.cookie, self.sent = port, spoof, None, 0
        self.statuses = {}
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(self, method, path, form=None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if self.spoof:
            headers["X-Forwarded-For"] = f"10.{self.sent % 250}.{secrets.randbelow(250)}.7"
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        self.sent += 1
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        return response.status, text

    def walk(self, number):
        """One demande, from the first question to the check page's POST."""
        status, page = self.request("GET", "/jeune/age")
        token = CSRF_RE.search(page).group(1)
        for name, answer in [*STEPS, ("coordonnees", person(number))]:
            self.request("POST", f"/jeune/{name}", dict(answer, csrf_token=token))
        return self.request("POST", "/jeune/verifier", {"consentement": "y", "csrf_token": token})


def flood(port, seconds, spoof):
    client = Client(port, spoof)
    end = time.monotonic() + seconds
    walks = 0
    while time.monotonic() < end:
        client.walk(walks)
        walks += 1
    return walks, client


def leads(db_file):
    with sqlite3.connect(db_file) as connection:
        return connection.execute("SELECT count(*) FROM lead").fetchone()[0]


def start_redis(tmp):
    binary = shutil.which("redis-server")
    if binary is None:
        return None, None
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return server, f"redis://{HOST}:{port}/0"


def start_gunicorn(port, env, log, workers):
    """gunicorn as bench_steps starts it, with this many workers (memory:// counts per
    worker: one only, for the figure to be the limit's)."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("--config", str(ROOT / "gunicorn.conf.py"), "--workers", str(workers)),
        *("--bind", f"{HOST}:{port}", "--chdir", str(ROOT), "app:create_app()"),
    ]
    return subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)


def run(tmp, name, seconds, spoof):
    """One flood against a fresh database and a fresh Redis (no count carried over)."""
    redis, redis_url = start_redis(tmp)
    try:
        return (*flood_server(tmp, name, seconds, spoof, redis_url), bool(redis_url))
    finally:
        if redis:
            redis.terminate()
            redis.wait(timeout=10)


def flood_server(tmp, name, seconds, spoof, redis_url):
    db_file = tmp / f"{name}.db"
    prepare_database(f"sqlite:///{db_file}")
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{db_file}",
        SECRET_KEY=secrets.token_hex(32),
        MIN_FILL_SECONDS="0",
        RATELIMIT_STORAGE_URI=redis_url or "memory://",
    )
    env.pop("TRUSTED_PROXIES", None)  # the default: 0, no proxy believed
    port = free_port()
    with open(tmp / f"{name}.log", "w") as log:
        server = start_gunicorn(port, env, log, workers=2 if redis_url else 1)
        try:
            wait_ready(port, server)
            walks, client = flood(port, seconds, spoof)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return walks, client, leads(db_file)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
        tmp = Path(tmp)
        for name, spoof in (("one-address", False), ("rotating-xff", True)):
            walks, client, created, on_redis = run(tmp, name, args.seconds, spoof)
            store = "Redis (2 workers)" if on_redis else "memory:// (1 worker)"
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(client.statuses.items()))
            print(
                f"{name:>13}: {created} leads created in {args.seconds} s "
                f"({walks} walks, {client.sent} requests — {statuses}), store {store}"
            )


if __name__ == "__main__":
    main()
