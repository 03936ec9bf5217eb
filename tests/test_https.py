"""The suite runs as production does, over HTTPS (tests/conftest.py's HttpsClient): a
form's POST needs its own origin as Referer, and behind a proxy the app believes
X-Forwarded-* only from the TRUSTED_PROXIES it was told of."""

import pytest
from flask import request
from helpers import csrf_token

from app import create_app

STEP = "/jeune/age"


def test_the_suite_posts_over_https_with_the_browser_s_referer(client):
    token = csrf_token(client)
    ok = client.post(STEP, data={"age": "17", "csrf_token": token})
    assert ok.status_code == 303
    # Without a Referer, or from another site, an HTTPS form is refused (Flask-WTF).
    for referer in (None, "https://ailleurs.example/", "http://localhost/"):
        refused = client.post(
            STEP, data={"age": "17", "csrf_token": token}, headers={"Referer": referer}
        )
        assert refused.status_code == 400, referer
        assert "Cette page a expiré" in refused.get_data(as_text=True)


def proxied_app(database_url, hops):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            "TRUSTED_PROXIES": hops,
        }
    )

    @app.get("/_vu")
    def seen():
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "mentorat.example",
}


def test_behind_one_trusted_proxy_the_app_sees_the_client_and_https(database_url):
    client = proxied_app(database_url, "1").test_client()
    seen = client.get("/_vu", headers=FORWARDED, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen.get_data(as_text=True) == "203.0.113.7 https mentorat.example"
    # A client spoofing a hop before the proxy's: only the proxy's own value counts.
    spoofed = dict(FORWARDED, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    assert client.get("/_vu", headers=spoofed).get_data(as_text=True).startswith("203.0.113.7 ")
    # HTTPS as the proxy saw it: the form's POST is checked as HTTPS (Referer needed).
    token = csrf_token(client, STEP)
    data = {"age": "17", "csrf_token": token}
    assert client.post(STEP, data=data, headers=FORWARDED).status_code == 400
    referer = dict(FORWARDED, Referer="https://mentorat.example/jeune/age")
    assert client.post(STEP, data=data, headers=referer).status_code == 303


def test_without_trusted_proxies_forwarded_headers_are_ignored(database_url):
    client = proxied_app(database_url, "0").test_client()
    seen = client.get("/_vu", headers=FORWARDED, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert seen.get_data(as_text=True) == "192.0.2.9 http localhost"


@pytest.mark.parametrize("value", ["un", "-1", "1.5"])
def test_trusted_proxies_must_be_a_count(database_url, value):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        proxied_app(database_url, value)
