"""Real servers for the deployment tests: gunicorn instances of the app and Debian's Caddy
with the repository's deploy/Caddyfile, on loopback high ports, and a small HTTP client that
keeps cookies and answers forms with their CSRF token as a browser does."""

import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CADDYFILE = ROOT / "deploy" / "Caddyfile"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 30  # seconds; only reached when something hangs


def caddy_binary():
    """Debian's caddy (`make caddy` installs it); missing: a skip, a failure with CI=true."""
    path = shutil.which("caddy")
    if path is None:
        message = "caddy absent (`make caddy` l'installe, en root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI=true : le test de Caddy est obligatoire.", pytrace=False)
        pytest.skip(message)
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, process, deadline=TIMEOUT):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args[0]} (port {port}) arrêté : code {process.returncode}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} fermé après {deadline} s")


def app_env(database_url, **extra):
    """The environment of a production server behind one proxy (deploy/*.env.example),
    without the time trap nor the link to a first demande, as conftest's `app`: these
    tests answer in milliseconds and send one person many times."""
    env = dict(os.environ)
    env.update(
        SECRET_KEY="deploy-test-secret",
        DATABASE_URL=database_url,
        SESSION_COOKIE_SECURE="1",
        TRUSTED_PROXIES="1",
        PUBLIC_URL="https://localhost",
        MIN_FILL_SECONDS="0",
        SENT_AGAIN_HOURS="0",
    )
    env.update(extra)
    return env


class Gunicorn:
    """One instance of the app, as deploy/unjeuneunmentor@.service runs it (gunicorn.conf.py,
    127.0.0.1 only, no control socket: several instances run side by side)."""

    def __init__(self, env, log_dir, workers=1):
        self.port = free_port()
        self.log_path = Path(log_dir) / f"gunicorn-{self.port}.log"
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--no-control-socket",
            "app:create_app()",
        ]
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self.log, stderr=self.log
        )
        wait_port(self.port, self.process)

    def stop(self, sig=signal.SIGTERM):
        """Stop as systemd does (SIGTERM: graceful) and wait for the end."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def text(self):
        return self.log_path.read_text(errors="replace")


class Caddy:
    """deploy/Caddyfile as is, its placeholders set for high ports: plain HTTP on one,
    `tls internal` on the other, admin endpoint off, storage and logs in `directory`."""

    def __init__(self, directory, upstreams):
        directory = Path(directory)
        self.http_port, self.https_port = free_port(), free_port()
        self.access_log = directory / "caddy-access.log"
        env = dict(
            os.environ,
            HOME=str(directory),
            XDG_DATA_HOME=str(directory / "data"),
            XDG_CONFIG_HOME=str(directory / "config"),
            CADDY_ADMIN="off",
            CADDY_HTTP_PORT=str(self.http_port),
            CADDY_HTTPS_PORT=str(self.https_port),
            SITE_ADDRESS=f"http://127.0.0.1:{self.http_port}, https://localhost:{self.https_port}",
            CADDY_TLS="internal",
            UPSTREAMS=" ".join(f"127.0.0.1:{port}" for port in upstreams),
            CADDY_ACCESS_LOG=str(self.access_log),
            CADDY_ERROR_ROOT=str(ROOT / "deploy"),
            # A loaded test machine (two suites on two cores) may answer a probe late:
            # a slow probe must not take a healthy server out of the rotation here.
            HEALTH_TIMEOUT="10s",
        )
        self.log_path = directory / "caddy.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        command = [caddy_binary(), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)
        wait_port(self.http_port, self.process)
        wait_port(self.https_port, self.process)
        self.root_ca = directory / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(TIMEOUT)
        self.log.close()

    def errors(self):
        """Caddy's own error lines (why it answered 502, for a failing test's message)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if '"level":"error"' in line]

    def https_context(self):
        """A client context trusting Caddy's CA, once Caddy serves its certificate (it is
        issued in the background after start-up)."""
        end = time.monotonic() + TIMEOUT
        while True:
            try:
                context = ssl.create_default_context(cafile=str(self.root_ca))
                address = ("127.0.0.1", self.https_port)
                with socket.create_connection(address, timeout=TIMEOUT) as sock:
                    context.wrap_socket(sock, server_hostname="localhost").close()
                return context
            except (OSError, ssl.SSLError):
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)


class Browser:
    """Cookies, a source address, and a form's POST with its CSRF token and the Referer a
    browser sends (the site's own origin)."""

    def __init__(self, origin, context=None, source="127.0.0.1"):
        self.origin = origin
        parts = urllib.parse.urlsplit(origin)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port
        self.context = context
        self.source = source
        self.cookies = {}
        self.token = None

    def request(self, method, path, form=None, headers=None):
        """(status, headers as a dict of lower-cased names, body bytes)."""
        if self.https:
            connection = http.client.HTTPSConnection(
                self.host,
                self.port,
                timeout=TIMEOUT,
                context=self.context,
                source_address=(self.source, 0),
            )
        else:
            connection = http.client.HTTPConnection(
                self.host, self.port, timeout=TIMEOUT, source_address=(self.source, 0)
            )
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.setdefault("Referer", self.origin + "/")
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    for morsel in SimpleCookie(value).values():
                        self.cookies[morsel.key] = morsel.value
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def get(self, path, headers=None):
        status, headers, body = self.request("GET", path, headers=headers)
        match = CSRF_RE.search(body.decode("utf-8", "replace"))
        if match:
            self.token = match.group(1)
        return status, headers, body

    def post(self, path, data, headers=None):
        if self.token is None:
            self.get(path)
        return self.request("POST", path, dict(data, csrf_token=self.token), headers)

    def walk(self, parcours, steps):
        for name, data in steps:
            status, _, body = self.post(f"/{parcours}/{name}", data)
            assert status == 303, (name, status, body[:500])

    def submit(self, parcours):
        return self.post(f"/{parcours}/verifier", {"consentement": "y"})
