"""Another app instance on the same database: a real gunicorn process on loopback (plain
HTTP), with its own workers and caches, as a second server would be; and a tiny HTTP client
that walks the questionnaire against it with its CSRF token and cookies."""

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from helpers import CSRF_RE

ROOT = Path(__file__).resolve().parent.parent

# The app built from APP_CONFIG (JSON), never from instance/config.py.
WSGI = (
    "import json, os\nfrom app import create_app\n"
    "app = create_app(json.loads(os.environ['APP_CONFIG']))"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_module(database_url, directory, **config):
    """The environment that makes `instance_wsgi:app`, in `directory`, this test's app
    (no time trap, no link to a first demande, as conftest's `app`)."""
    config = {
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "SMTP_URL": "",
        "MAIL_DIR": str(Path(directory) / "mail"),
        "MIN_FILL_SECONDS": 0,
        "SENT_AGAIN_HOURS": 0,
        **config,
    }
    (Path(directory) / "instance_wsgi.py").write_text(WSGI + "\n")
    return dict(os.environ, APP_CONFIG=json.dumps(config), PYTHONPATH=f"{directory}:{ROOT}")


def flask_command(database_url, directory, *args, **config):
    """`flask --app … ARGS` in its own process (started, not waited for)."""
    env = app_module(database_url, directory, **config)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "instance_wsgi:app", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Instance:
    def __init__(self, database_url, instance_path, workers=1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = app_module(database_url, instance_path)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(instance_path),
                "--no-control-socket",
                "instance_wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait()

    def _wait(self):
        for _ in range(600):  # up to a minute on a loaded machine: not a timed assertion
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode()[-3000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn n'a pas démarré")

    def stop(self):
        self.process.terminate()
        self.process.wait(30)

    def browser(self):
        return Browser(self.url)


class Browser:
    """Cookies and the CSRF token of one visitor, over plain HTTP (no Referer check)."""

    def __init__(self, base):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect()
        )

    def get(self, path):
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path, data):
        body = urllib.parse.urlencode(data, doseq=True).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request):
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def walk(self, parcours, steps):
        """Answer `steps` then send the demande; returns the final status."""
        status, page = self.get(f"/{parcours}/{steps[0][0]}")
        token = CSRF_RE.search(page).group(1)
        for name, data in steps:
            status, page = self.post(f"/{parcours}/{name}", dict(data, csrf_token=token))
            assert status == 303, (name, status, page[:500])
        status, page = self.post(
            f"/{parcours}/verifier", {"consentement": "y", "csrf_token": token}
        )
        return status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class ThrowawayPostgres:
    """A PostgreSQL server of our own (scripts/test-postgres.sh), to stop while the app
    runs. `url` is None without Debian's server binaries."""

    def __init__(self):
        self.process = subprocess.Popen(
            [
                str(ROOT / "scripts" / "test-postgres.sh"),
                "sh",
                "-c",
                'echo "$TEST_DATABASE_URL"; read _',
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip() or None

    def stop(self):
        """Stop the server (pg_ctl stop -m immediate) and remove its files."""
        if self.process.poll() is None:
            self.process.stdin.close()
        self.process.wait(60)
