"""The questionnaires' honeypot and time trap: a robot gets an ordinary-looking page and
nothing is created or e-mailed; a person, however fast, is not refused."""

import datetime as dt
import re
from pathlib import Path

from helpers import MENTOR_STEPS, YOUTH_STEPS, csrf_token, make_app, post, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from forms.questionnaire import TRAP_FIELD

STEPS = {"jeune": YOUTH_STEPS, "mentor": MENTOR_STEPS}


def counts():
    with models.db.connection_context():
        return models.Lead.select().count(), models.Message.select().count()


def send(client, parcours, **extra):
    return post(client, f"/{parcours}/verifier", {"consentement": "y", **extra})


def started(seconds_ago):
    """The draft as if its first step had been saved `seconds_ago`, its last one now."""
    with models.db.connection_context():
        Draft = models.Draft
        start = models.now() - dt.timedelta(seconds=seconds_ago)
        Draft.update(created_at=start).execute()


def test_the_honeypot_filled_creates_nothing(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    for parcours in ("jeune", "mentor"):
        client = app.test_client()
        walk(client, parcours, STEPS[parcours])
        response = send(client, parcours, **{TRAP_FIELD: "https://spam.example"})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/{parcours}/envoyee"
        page = client.get(response.headers["Location"])
        assert page.status_code == 200 and "bien envoyée" in page.get_data(as_text=True)
    assert counts() == (0, 0)


def test_a_sending_faster_than_the_minimum_creates_nothing(database_url, tmp_path):
    app = make_app(database_url, tmp_path, MIN_FILL_SECONDS=30)
    client = app.test_client()
    walk(client, "jeune", YOUTH_STEPS)
    started(seconds_ago=10)
    assert send(client, "jeune").headers["Location"] == "/jeune/envoyee"
    assert counts() == (0, 0)


def test_a_fast_person_is_counted_from_the_first_step(database_url, tmp_path):
    """Every page answered in a second or two, the last one just now: the whole journey
    took longer than the minimum, so the demande is sent."""
    app = make_app(database_url, tmp_path, MIN_FILL_SECONDS=30)
    client = app.test_client()
    walk(client, "jeune", YOUTH_STEPS)
    started(seconds_ago=31)
    response = send(client, "jeune")
    assert response.headers["Location"].startswith("/jeune/resultat/")
    leads, messages = counts()
    assert leads == 1 and messages > 0


def test_the_default_minimum_lets_a_person_through(app):
    assert 0 < create_default_minimum() <= 10


def create_default_minimum():
    from app import create_app

    return create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"}).config["MIN_FILL_SECONDS"]


def test_the_honeypot_is_hidden_from_people(client):
    walk(client, "jeune", YOUTH_STEPS)
    html = client.get("/jeune/verifier").get_data(as_text=True)
    trap = re.search(r'<div class="trap" aria-hidden="true">(.*?)</div>', html, re.S)
    assert trap, "the honeypot's wrapper: a CSS class (CSP: no inline style), aria-hidden"
    field = re.search(r"<input[^>]*>", trap.group(1)).group(0)
    assert f'name="{TRAP_FIELD}"' in field
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field
    assert "style=" not in field
    assert "Laissez ce champ vide" in trap.group(1)
    css = Path("static/css/app.css").read_text()
    assert re.search(r"\.trap \{[^}]*left: -10000px", css)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(junk=st.text(min_size=1, max_size=300).filter(str.strip))
def test_junk_in_the_honeypot_never_errs(client, junk):
    walk(client, "jeune", YOUTH_STEPS)
    token = csrf_token(client, "/jeune/verifier")
    response = client.post(
        "/jeune/verifier", data={"csrf_token": token, "consentement": "y", TRAP_FIELD: junk}
    )
    assert response.status_code in (303, 400, 422)
    with models.db.connection_context():
        assert models.Lead.select().count() == 0
