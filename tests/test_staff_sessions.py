"""Staff sessions: idle timeout and absolute lifetime (configurable), the CSRF token
rotated at login, `__Host-` cookie names over HTTPS, Clear-Site-Data on logout."""

import pytest
from helpers import csrf_token
from test_comptes import LOGIN, PASSWORD, login, make_user, post

from app import create_app
from web import staff_session


def shift_clock(client, **seconds_ago):
    """Move the session's times back, as if that long had passed."""
    with client.session_transaction() as session:
        for key, seconds in seconds_ago.items():
            session[key] -= seconds


def test_a_session_ends_after_30_idle_minutes(app, client):
    make_user()
    assert login(client, "staff@example.org", PASSWORD).status_code == 303
    shift_clock(client, seen_at=29 * 60, login_at=29 * 60)
    assert client.get("/espace/compte").status_code == 200
    # That request moved seen_at: another 29 minutes are allowed.
    shift_clock(client, seen_at=29 * 60)
    assert client.get("/espace/compte").status_code == 200
    shift_clock(client, seen_at=31 * 60)
    response = client.get("/espace/compte")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{LOGIN}?next=/espace/compte")
    assert staff_session.EXPIRED in client.get(LOGIN).get_data(as_text=True)
    assert client.get("/espace/compte").status_code == 302  # really logged out


def test_a_session_ends_12_hours_after_the_login_however_busy(app, client):
    make_user()
    login(client, "staff@example.org", PASSWORD)
    shift_clock(client, login_at=12 * 3600 - 60)
    assert client.get("/espace/compte").status_code == 200
    shift_clock(client, login_at=120)
    assert client.get("/espace/compte").status_code == 302


def test_the_limits_are_configurable(app, client):
    app.config.update(STAFF_IDLE_MINUTES=5, STAFF_SESSION_HOURS=1)
    make_user()
    login(client, "staff@example.org", PASSWORD)
    shift_clock(client, seen_at=6 * 60)
    assert client.get("/espace/compte").status_code == 302
    login(client, "staff@example.org", PASSWORD)
    shift_clock(client, login_at=3601)
    assert client.get("/espace/compte").status_code == 302


def test_a_session_without_its_times_has_ended(app, client):
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_epoch}"
    assert client.get("/espace/compte").status_code == 302


def test_the_csrf_token_changes_at_login(app, client):
    make_user()
    before = csrf_token(client, LOGIN)
    with client.session_transaction() as session:
        raw_before = session["csrf_token"]
    login(client, "staff@example.org", PASSWORD)
    with client.session_transaction() as session:
        assert session.get("csrf_token") != raw_before
    # The token of the login page is worthless once logged in.
    response = client.post("/espace/deconnexion", data={"csrf_token": before})
    assert response.status_code == 400
    assert csrf_token(client, "/espace/compte") != before


def test_logout_clears_the_site_data(app, client):
    make_user()
    login(client, "staff@example.org", PASSWORD)
    response = post(client, "/espace/deconnexion")
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


@pytest.mark.parametrize("secure", [True, False])
def test_cookie_names_are_host_prefixed_over_https(database_url, secure):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": secure,
            "PREFERRED_URL_SCHEME": "https",
        }
    )
    expected = "__Host-session" if secure else "session"
    assert app.config["SESSION_COOKIE_NAME"] == expected
    assert app.config.get("REMEMBER_COOKIE_NAME", "remember_token") == (
        "__Host-remember_token" if secure else "remember_token"
    )
    client = app.test_client()
    response = client.get(LOGIN, base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{expected}=")
    if secure:
        assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
