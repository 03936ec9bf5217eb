"""Benchmark a questionnaire step against a bare Flask "hello" page, side by side.

Budget (DESIGN §11, issue 5 §5): GET of a step ≥ 0.4× and POST ≥ 0.3× the hello page's
requests per second, p99 < 50 ms at 32 connections, a worker under 80 MB RSS after
10,000 requests. Not a test: both servers run in the same run on the same machine with
the same gunicorn settings (gunicorn.conf.py, as `make run`), and the scenarios are
interleaved over a few rounds, so the ratios (medians) hold on a busy machine where the
absolute figures do not.

The real app serves a fresh SQLite database in a temporary directory; the session
cookies hold real drafts, made by answering the first steps over HTTP.

Usage: python scripts/bench_steps.py [--rounds 3] [--seconds 4]
"""

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
WRK = "/usr/bin/wrk"
HOST = "127.0.0.1"
CONNECTIONS = 32
BUDGET = {"GET": 0.4, "POST": 0.3}
BUDGET_P99_MS = 50
BUDGET_RSS_MB = 80
RSS_AFTER_REQUESTS = 10_000
RSS_TOP_UP_RUNS = 3

# The first steps of the youth questionnaire; the bench then reads and answers "besoin".
FIRST_STEPS = [("age", {"age": "17"}), ("situation", {"situation": "lycee_general"})]
STEP = "/jeune/besoin"
STEP_ANSWER = {"besoin": "orientation"}

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# The bare page the steps are compared with, served by the same gunicorn settings.
hello = Flask("hello")


@hello.get("/")
def hello_page():
    return "hello"


# wrk prints one JSON line at the end; `request` is set per scenario.
WRK_SCRIPT = """
%s
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "p99_us": %%d, "errors": %%d, "bad_status": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def prepare_database(url):
    """A fresh database with the communes and the demo catalogue, as `make db` does."""
    sys.path.insert(0, str(ROOT))
    import models
    from services import catalogue, territory

    models.init_db(url)
    models.migrate()
    with models.db.connection_context():
        territory.load_file(ROOT / "data" / "communes.csv.gz")
        catalogue.load_file(ROOT / "data" / "catalogue-demo.csv")
    models.db.close()


def start_gunicorn(target, port, env, log, chdir=ROOT):
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"{HOST}:{port}",
        "--chdir",
        str(chdir),
        target,
    ]
    return subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=chdir)


def wait_ready(port, server, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} stopped (exit {server.returncode})")
        try:
            request(port, "GET", "/")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} not ready after {deadline} s")


def request(port, method, path, cookie=None, form=None):
    """(status, body, session cookie) of one HTTP request."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    set_cookie = response.getheader("Set-Cookie")
    connection.close()
    return response.status, text, set_cookie.split(";")[0] if set_cookie else cookie


def draft_cookie(port):
    """A session cookie holding a real draft (first steps answered) and its CSRF token."""
    status, page, cookie = request(port, "GET", "/jeune/age")
    assert status == 200, status
    token = CSRF_RE.search(page).group(1)
    for name, answer in FIRST_STEPS:
        status, _, cookie = request(
            port, "POST", f"/jeune/{name}", cookie, dict(answer, csrf_token=token)
        )
        assert status == 303, (name, status)
    status, page, cookie = request(port, "GET", STEP, cookie)
    assert status == 200 and 'name="besoin"' in page, status
    return cookie, CSRF_RE.search(page).group(1)


def lua_request(method, cookie=None, body=None):
    lines = [f'wrk.method = "{method}"']
    if cookie:
        lines.append(f'wrk.headers["Cookie"] = "{cookie}"')
    if body:
        lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
        lines.append(f'wrk.body = "{body}"')
    return "\n".join(lines)


def run_wrk(url, script, seconds):
    command = [WRK, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    result["p99_ms"] = result["p99_us"] / 1000
    if result["bad_status"]:
        raise SystemExit(f"{url}: {result['bad_status']} answers neither 2xx nor 3xx")
    return result


def worker_rss_mb(master_pid):
    """Largest resident set of the master's workers, in MB."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return max(sizes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-steps-") as tmp:
        tmp = Path(tmp)
        url = f"sqlite:///{tmp / 'bench.db'}"
        prepare_database(url)
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secrets.token_hex(32))
        app_port, hello_port = free_port(), free_port()
        with open(tmp / "gunicorn.log", "w") as log:
            servers = [
                start_gunicorn("app:create_app()", app_port, env, log),
                start_gunicorn("bench_steps:hello", hello_port, env, log, ROOT / "scripts"),
            ]
            try:
                for port, server in zip((app_port, hello_port), servers, strict=True):
                    wait_ready(port, server)
                results = bench(tmp, app_port, hello_port, args)
                rss = worker_rss_mb(servers[0].pid)
            finally:
                for server in servers:
                    server.terminate()
                for server in servers:
                    server.wait(timeout=30)
    report(results, rss, args)


def bench(tmp, app_port, hello_port, args):
    get_cookie, _ = draft_cookie(app_port)
    post_cookie, token = draft_cookie(app_port)
    body = urllib.parse.urlencode(dict(STEP_ANSWER, csrf_token=token))
    scenarios = {
        "hello": (f"http://{HOST}:{hello_port}/", lua_request("GET")),
        "GET": (f"http://{HOST}:{app_port}{STEP}", lua_request("GET", get_cookie)),
        "POST": (f"http://{HOST}:{app_port}{STEP}", lua_request("POST", post_cookie, body)),
    }
    scripts = {}
    for name, (_, lua) in scenarios.items():
        scripts[name] = tmp / f"{name}.lua"
        scripts[name].write_text(WRK_SCRIPT % lua)
    for name, (url, _) in scenarios.items():  # warm-up: imports, templates, connections
        run_wrk(url, scripts[name], 1)
    results = {name: [] for name in scenarios}
    for _ in range(args.rounds):
        for name, (url, _) in scenarios.items():
            results[name].append(run_wrk(url, scripts[name], args.seconds))
    app_requests = sum(r["requests"] for name in ("GET", "POST") for r in results[name])
    for _ in range(RSS_TOP_UP_RUNS):  # bounded: a slow app reports fewer requests
        if app_requests >= RSS_AFTER_REQUESTS:
            break
        app_requests += run_wrk(scenarios["GET"][0], scripts["GET"], args.seconds)["requests"]
    results["app_requests"] = app_requests
    return results


def report(results, rss, args):
    print(
        f"{args.rounds} rounds × {args.seconds} s per scenario, {CONNECTIONS} connections, "
        f"gunicorn.conf.py ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})"
    )
    hello_rps = [r["rps"] for r in results["hello"]]
    print(
        f"{'hello':>6}: {statistics.median(hello_rps):7.0f} req/s "
        f"(rounds {', '.join(f'{x:.0f}' for x in hello_rps)}), "
        f"p99 {statistics.median(r['p99_ms'] for r in results['hello']):5.1f} ms"
    )
    verdicts = []
    for name, budget in BUDGET.items():
        runs = results[name]
        ratios = [run["rps"] / base for run, base in zip(runs, hello_rps, strict=True)]
        ratio = statistics.median(ratios)
        p99 = statistics.median(run["p99_ms"] for run in runs)
        verdict = ratio >= budget and p99 < BUDGET_P99_MS
        verdicts.append(verdict)
        print(
            f"{name:>6}: {statistics.median(r['rps'] for r in runs):7.0f} req/s, "
            f"ratio {ratio:.2f}× (rounds {', '.join(f'{x:.2f}' for x in ratios)}, "
            f"budget {budget}×), p99 {p99:5.1f} ms (budget {BUDGET_P99_MS}), "
            f"{sum(r['errors'] for r in runs)} socket errors: {'OK' if verdict else 'OVER BUDGET'}"
        )
    print(
        f"worker RSS after {results['app_requests']} requests: {rss:.0f} MB "
        f"(budget {BUDGET_RSS_MB}): {'OK' if rss < BUDGET_RSS_MB else 'OVER BUDGET'}"
    )


if __name__ == "__main__":
    main()
