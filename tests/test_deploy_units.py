"""deploy/'s systemd units pass `systemd-analyze verify` (Debian's systemd; `make systemd`
installs it), with their ExecStart binaries pointed at files this test creates, and keep
the hardening the deploy guide promises."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["unjeuneunmentor@.service", "tick.service", "tick.timer"]
INSTALL_DIR = "/opt/unjeuneunmentor"


def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if path is None:
        message = "systemd-analyze absent (`make systemd` l'installe, en root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI=true : la vérification est obligatoire.", pytrace=False)
        pytest.skip(message)
    return path


def installed_units(tmp_path):
    """The units as installed, the app's directory moved under tmp_path, with its binaries."""
    app_dir = tmp_path / "app"
    (app_dir / ".venv" / "bin").mkdir(parents=True)
    for name in ("gunicorn", "flask"):
        binary = app_dir / ".venv" / "bin" / name
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace(INSTALL_DIR, str(app_dir))
        # A template is verified through an instance of it: port 8000.
        (units / name.replace("@.", "@8000.")).write_text(text)
    return sorted(units.iterdir())


def verify(paths):
    return subprocess.run(
        [systemd_analyze(), "verify", "--man=no", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=paths[0].parent,
        timeout=60,
    )


def test_units_verify_without_a_warning(tmp_path):
    result = verify(installed_units(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are only warned about


def test_verify_catches_a_broken_unit(tmp_path):
    """The check can fail: a typo in a key, or a binary that is not there."""
    paths = installed_units(tmp_path)
    web = next(path for path in paths if path.name.startswith("unjeuneunmentor@"))
    web.write_text(web.read_text().replace("NoNewPrivileges", "NoNewPrivilege"))
    assert "Unknown key" in verify(paths).stderr
    (tmp_path / "app" / ".venv" / "bin" / "gunicorn").unlink()
    assert verify(paths).returncode != 0


def settings(name):
    lines = (DEPLOY / name).read_text().splitlines()
    return {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in lines
        if "=" in line and not line.startswith("#")
    }


def test_web_unit_is_hardened_and_local():
    unit = settings("unjeuneunmentor@.service")
    assert unit["User"] == "unjeuneunmentor"
    assert unit["EnvironmentFile"] == "/etc/unjeuneunmentor/unjeuneunmentor.env"
    for key, value in {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "true",
        "PrivateTmp": "true",
        "StateDirectory": "unjeuneunmentor",
        "Restart": "on-failure",
        "ExecReload": "/bin/kill -HUP $MAINPID",
    }.items():
        assert unit[key] == value, key
    start = (DEPLOY / "unjeuneunmentor@.service").read_text()
    # gunicorn only where the proxy reaches it; one control socket per instance.
    assert "--bind 127.0.0.1:%i" in start
    assert "--control-socket /run/unjeuneunmentor-%i/" in start


def test_tick_every_minute():
    assert settings("tick.timer")["OnCalendar"] == "*-*-* *:*:00"
    assert settings("tick.service")["ExecStart"].endswith("flask --app app tick")
    assert settings("tick.service")["ProtectSystem"] == "strict"


def test_env_example_has_every_environment_setting():
    """Each setting app.py reads from the environment is in the template, with the
    production values of a site behind Caddy."""
    app_py = (ROOT / "app.py").read_text()
    read = set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', app_py))
    example = settings("unjeuneunmentor.env.example")
    assert read <= set(example), read - set(example)
    assert example["SESSION_COOKIE_SECURE"] == "1"
    assert example["TRUSTED_PROXIES"] == "1"
    assert example["PUBLIC_URL"].startswith("https://")
