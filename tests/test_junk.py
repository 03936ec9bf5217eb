"""Junk at every page and endpoint, as a hostile client sends it: never a 5xx, and nothing
stored that an honest form could not have produced.

Each case runs JUNK_EXAMPLES examples (default 8); the total is printed at the end of
the run. By hand, many more: `JUNK_EXAMPLES=300 pytest tests/test_junk.py`.
"""

import http.client
import os
import socket
from collections import Counter
from urllib.parse import quote, urlencode

import flask
import pytest
from flask_wtf.csrf import generate_csrf
from helpers import MENTOR_STEPS, PARENT_STEP, YOUTH_STEPS, csrf_token, gunicorn, submit, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

import models
from domain.journeys import CHECK, PARCOURS, Journey
from forms.questionnaire import FORMS, TRANCHES_AGE
from services import drafts, territory

EXAMPLES = int(os.environ.get("JUNK_EXAMPLES") or 8)
RUN = Counter()  # examples run, by test
STATUSES = Counter()  # statuses answered to junk

JUNK = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class ExamplesSummary:
    def pytest_terminal_summary(self, terminalreporter):
        if RUN:
            detail = ", ".join(f"{name} {n}" for name, n in sorted(RUN.items()))
            terminalreporter.write_sep("-", f"junk examples run: {sum(RUN.values())}")
            terminalreporter.write_line(detail)
            terminalreporter.write_line(
                "statuses: " + ", ".join(f"{s} ×{n}" for s, n in sorted(STATUSES.items()))
            )


@pytest.fixture(scope="module", autouse=True)
def examples_summary(request):
    request.config.pluginmanager.register(ExamplesSummary(), "junk-examples-summary")


# --- what an honest client sends ---------------------------------------------------

VALID = {
    "jeune": dict(YOUTH_STEPS + [PARENT_STEP]),
    "mentor": dict(MENTOR_STEPS),
}
# The steps walked before each page (and the page itself for the check page).
BEFORE = {"jeune": {"parent": [("age", {"age": "13"})] + YOUTH_STEPS[1:]}, "mentor": {}}
BEFORE["jeune"]["plus-de-30-ans"] = [("age", {"age": "35"})]
BEFORE["jeune"]["moins-de-11-ans"] = [("age", {"age": "9"})]
for _parcours, _steps in (("jeune", YOUTH_STEPS), ("mentor", MENTOR_STEPS)):
    for _index, (_name, _) in enumerate(_steps):
        BEFORE[_parcours][_name] = _steps[:_index]
    BEFORE[_parcours][CHECK] = _steps


def field_choices(form_class):
    """{field name: values an honest client may send}, from the form's own fields."""
    fields = {}
    for name in dir(form_class):
        unbound = getattr(form_class, name)
        if isinstance(unbound, UnboundField):
            choices = unbound.kwargs.get("choices")
            fields[name] = [c.value for c in choices] if choices else []
    return fields


def fields_of(parcours, page):
    if page == CHECK:
        return {"consentement": ["y"]}
    form_class = FORMS[parcours].get(page)
    if form_class is None:  # an exit page: no form
        return {}
    fields = field_choices(form_class)
    for name, value in VALID[parcours].get(page, {}).items():
        values = value if isinstance(value, list) else [value]
        fields[name] = sorted(set(fields.get(name, []) + values))
    for name in fields:
        if name in ("accord_sensible", "parent_accord"):
            fields[name] = ["y"]
    if page == "age" and parcours == "jeune":
        fields["age"] = ["9", "11", "13", "14", "15", "17", "29", "30", "35", " 17 ", "017"]
    return fields


# --- junk ----------------------------------------------------------------------------

SPECIAL = [
    "",
    " ",
    "0",
    "-1",
    "+1",
    "1e9",
    "NaN",
    "١٧",
    "Ⅻ",
    "y",
    "Y",
    "false",
    "on",
    "\x00",
    "\r\n",
    "%00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "😀",
    "\u202e",
    "\ufeff",
    "Lyon (69003)",
    "Saint-Denis (93)",
    "verifier",
]
junk_text = st.one_of(
    st.text(max_size=40),  # any unicode but lone surrogates, control characters included
    st.text(st.characters(max_codepoint=0x1F), max_size=8),
    st.integers(1, 6000).map(lambda n: "9" * n),  # past int()'s 4,300 digits
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from([101, 255, 4301, 70_000]).map(lambda n: "é" * n),  # 70,000: past 64 KB
    st.sampled_from(SPECIAL),
)
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
)
METHODS = ["POST"] * 6 + ["GET", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]


@st.composite
def junk_form(draw, fields):
    """Each known field missing, once or repeated, with honest or junk values; unknown
    fields too."""
    data = MultiDict()
    for name, honest in fields.items():
        value = st.one_of(st.sampled_from(honest), junk_text) if honest else junk_text
        for item in draw(st.lists(value, max_size=3)):
            data.add(name, item)
    for name in draw(
        st.lists(st.one_of(st.text(max_size=12), st.sampled_from(["", "_"])), max_size=2)
    ):
        data.add(name, draw(junk_text))
    return data


junk_headers = st.fixed_dictionaries(
    {},
    optional={
        "HX-Request": st.one_of(st.just("true"), header_text),
        "HX-Request-Type": st.one_of(st.sampled_from(["partial", "full"]), header_text),
        "HX-History-Restore-Request": st.one_of(st.just("true"), header_text),
        "HX-Current-URL": header_text,
        "HX-Target": header_text,
        "Referer": st.one_of(st.sampled_from(["http://[", "https://localhost/"]), header_text),
    },
)
junk_query = st.one_of(
    st.just(""),
    st.just("retour=verifier"),
    st.lists(st.tuples(st.sampled_from(["retour", "commune", "x", ""]), junk_text), max_size=3).map(
        urlencode
    ),
    st.binary(max_size=30).map(lambda raw: raw.decode("latin-1")),  # raw, invalid UTF-8 too
)


@st.composite
def junk_request(draw, url, fields, token):
    """(url, keyword arguments for client.open()): method, headers, query, scheme, body."""
    form = draw(junk_form(fields))
    csrf = draw(st.sampled_from(["token"] * 6 + ["missing", "junk"]))
    if csrf == "token":
        form.add("csrf_token", token)
    elif csrf == "junk":
        form.add("csrf_token", draw(junk_text))
    kwargs = {
        "method": draw(st.sampled_from(METHODS)),
        "headers": draw(junk_headers),
        "environ_overrides": {"QUERY_STRING": draw(junk_query)},
        "base_url": draw(st.sampled_from(["http://localhost", "https://localhost"])),
    }
    body = draw(st.sampled_from(["form"] * 4 + ["multipart", "raw"]))
    if body == "form":
        kwargs["data"] = form
    elif body == "multipart":
        kwargs["data"] = form
        kwargs["content_type"] = "multipart/form-data"
    else:  # bytes as sent, invalid UTF-8 included, the token kept
        raw = draw(st.binary(max_size=200)) + b"&csrf_token=" + token.encode()
        kwargs["data"] = raw
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    return url, kwargs


def send(client, url, kwargs):
    response = client.open(url, **kwargs)
    check_response(response, kwargs["method"])
    return response


def check_response(response, method):
    STATUSES[response.status_code] += 1
    assert response.status_code < 500, response.get_data(as_text=True)[:3000]
    for name, value in response.headers.items():
        assert value.isascii() and value.isprintable(), (name, value)
    body = response.get_data(as_text=True)
    if method == "HEAD":
        assert body == ""
    elif response.status_code >= 400 and method != "OPTIONS":
        assert 'lang="fr"' in body or '<main id="main"' in body, body[:500]


# --- the allow-lists -----------------------------------------------------------------


def revalidated(parcours, step, answers):
    """The stored answers of one step, rebuilt into its form: valid, and giving back
    exactly what is stored (only that form's keys, values from its choices)."""
    form = FORMS[parcours][step].from_answers(answers)
    assert form.validate(), (parcours, step, answers, form.errors)
    assert form.designates(answers), (parcours, step, answers)
    assert form.answers() == answers, (parcours, step, answers)


def assert_only_honest_data_stored(app):
    with app.test_request_context(), models.db.connection_context():
        for draft in models.Draft.select():
            assert draft.parcours in PARCOURS
            journey = Journey(PARCOURS[draft.parcours], draft.answers)
            assert not journey.inapplicable(), draft.answers
            for step, answers in draft.answers.items():
                assert step in FORMS[draft.parcours], step
                revalidated(draft.parcours, step, answers)
        for lead in models.Lead.select():
            assert_lead_is_honest(lead)


STEP_KEYS = {}  # {(parcours, step): keys of its answers}


def step_keys(parcours, step):
    """The keys one step stores, from its honest answer (inside a request context)."""
    if (parcours, step) not in STEP_KEYS:
        formdata = MultiDict(VALID[parcours][step])
        form = FORMS[parcours][step](formdata=formdata, meta={"csrf": False})
        assert form.validate(), form.errors
        STEP_KEYS[parcours, step] = set(form.answers())
    return STEP_KEYS[parcours, step]


def assert_lead_is_honest(lead):
    assert lead.kind in PARCOURS
    assert lead.status == "nouvelle"
    parcours = PARCOURS[lead.kind]
    by_step = {}
    for step in parcours.steps:
        keys = not step.exit and step_keys(lead.kind, step.name)
        if keys and keys <= set(lead.answers):
            by_step[step.name] = {key: lead.answers[key] for key in keys}
    journey = Journey(parcours, by_step)
    assert journey.is_complete and journey.relevant_answers() == lead.answers, lead.answers
    for step in journey.completed:
        revalidated(lead.kind, step.name, by_step[step.name])
    answers = lead.answers
    place = territory.place(answers["commune"], answers["code_postal"])
    assert place is not None and lead.commune_id == place.insee
    assert lead.departement == place.departement
    assert lead.situation == answers["situation"]
    assert (lead.prenom, lead.nom) == (answers["prenom"], answers["nom"])
    assert (lead.email, lead.telephone) == (answers.get("email", ""), answers["telephone"])
    if lead.kind == "jeune":
        assert 11 <= lead.age < 30 and lead.age == answers["age"]
        assert lead.besoin == answers["besoin"]
        assert lead.contact_pref == answers["contact_pref"]
    else:
        assert lead.age is None and answers["tranche_age"] in dict(TRANCHES_AGE)
        assert lead.besoin == ",".join(answers["besoins"])
        assert lead.contact_pref == "email"
    changes = lead.evenements.where(models.Evenement.kind == drafts.CHANGE_EVENT).count()
    assert changes <= drafts.MAX_CHANGES


# --- setting the scene ---------------------------------------------------------------

SNAPSHOTS = {}  # {(parcours, page): draft answers of an honest walk up to that page}


CSRF_SECRET = "5" * 40  # the session's form-token secret, fixed so one token serves


def fresh_person(app, client, **values):
    """A new browser session holding `values`; returns its form token."""
    with client.session_transaction() as session:
        session.clear()
        session.update(values, csrf_token=CSRF_SECRET)
        session.permanent = True
    with app.test_request_context():
        flask.session["csrf_token"] = CSRF_SECRET
        return generate_csrf()


def forget_everyone(app, client):
    """Nobody has answered anything yet (one transaction: one write to the disk)."""
    with models.db.connection_context(), models.db.atomic():
        for model in (models.Evenement, models.Orientation, models.Draft, models.Lead):
            model.delete().execute()
    return fresh_person(app, client)


def stand_before(app, client, parcours, page):
    """A fresh person whose draft holds honest answers up to `page` (every answer for
    the check page); returns a form token."""
    key = (parcours, page)
    if key not in SNAPSHOTS:
        forget_everyone(app, client)
        walk(client, parcours, BEFORE[parcours][page])
        with models.db.connection_context():
            draft = models.Draft.get_or_none()
            SNAPSHOTS[key] = draft.answers if draft else {}
    token = forget_everyone(app, client)
    if not SNAPSHOTS[key]:
        return token
    with models.db.connection_context():
        draft = models.Draft.create(
            token=drafts.new_token(), parcours=parcours, answers=SNAPSHOTS[key]
        )
    return fresh_person(app, client, drafts={parcours: draft.token})


def pages():
    for parcours in PARCOURS.values():
        for step in parcours.steps:
            yield pytest.param(parcours.name, step.name, id=f"{parcours.name}-{step.name}")
        yield pytest.param(parcours.name, CHECK, id=f"{parcours.name}-{CHECK}")


# --- the tests -----------------------------------------------------------------------


@pytest.mark.parametrize(("parcours", "page"), list(pages()))
@JUNK
@given(data=st.data())
def test_junk_at_every_page(app, client, parcours, page, data):
    RUN["pages"] += 1
    # Coming to the page for the first time, or back to it with every answer given.
    complete = data.draw(st.booleans())
    token = stand_before(app, client, parcours, CHECK if complete else page)
    url = f"/{parcours}/{page}"
    send(client, *data.draw(junk_request(url, fields_of(parcours, page), token)))
    assert_only_honest_data_stored(app)


@pytest.fixture
def result_url(client):
    walk(client, "jeune", YOUTH_STEPS)
    return submit(client, "jeune").headers["Location"]


@JUNK
@given(data=st.data())
def test_junk_on_the_result_page_and_its_choice(app, client, result_url, data):
    RUN["resultat"] += 1
    with models.db.connection_context():
        ids = [str(o.id) for o in models.Orientation.select()]
    token = csrf_token(client, result_url)
    url = data.draw(st.sampled_from([result_url + "/choisir"] * 3 + [result_url]))
    send(client, *data.draw(junk_request(url, {"orientation": ids}, token)))
    assert client.get(result_url).status_code == 200  # the person still sees their result
    assert_only_honest_data_stored(app)


junk_path = st.one_of(
    st.tuples(
        st.sampled_from(["/jeune/", "/mentor/", "/", "/communes/", "/static/", "/jeune/resultat/"]),
        st.one_of(st.text(max_size=30), st.text(max_size=30).map(quote)),
        st.sampled_from(["", "/", "/choisir", "/..", "/verifier"]),
    ).map("".join),
    st.sampled_from(["/jeune/age", "/mentor/verifier", "/communes/suggestions", "/jeune"]),
)
raw_path = st.binary(min_size=1, max_size=30).map(lambda raw: "/" + raw.decode("latin-1"))


@JUNK
@given(data=st.data())
def test_junk_paths_suggestions_and_cookies(app, client, data):
    RUN["paths"] += 1
    token = fresh_person(app, client)
    suggestions = data.draw(st.booleans())
    url = "/communes/suggestions" if suggestions else data.draw(junk_path)
    fields = {"commune": ["Lyon", "69003", "st denis", "a"]} if suggestions else {"age": ["17"]}
    url, kwargs = data.draw(junk_request(url, fields, token))
    if suggestions and data.draw(st.booleans()):  # the combobox's own GET, junk in its query
        kwargs.update(method="GET", data=None, content_type=None)
        pairs = st.tuples(st.sampled_from(["commune", "x", ""]), junk_text)
        kwargs["environ_overrides"]["QUERY_STRING"] = urlencode(data.draw(st.lists(pairs)))
    elif not suggestions and data.draw(st.booleans()):  # bytes as sent, invalid UTF-8 too
        kwargs["environ_overrides"]["PATH_INFO"] = data.draw(raw_path)
    if data.draw(st.booleans()):
        client.set_cookie("session", data.draw(header_text))
    send(client, url, kwargs)
    assert_only_honest_data_stored(app)


@pytest.mark.parametrize("parcours", PARCOURS)
@JUNK
@given(data=st.data())
def test_one_junk_step_in_a_whole_walk(app, client, parcours, data):
    """Honest answers with junk at one page; junk the form accepted stays, so it reaches
    the lead whenever it can."""
    RUN["walks"] += 1
    token = forget_everyone(app, client)
    pages_with_a_form = [s.name for s in PARCOURS[parcours].steps if not s.exit] + [CHECK]
    junk_page = data.draw(st.sampled_from(pages_with_a_form))
    headers = data.draw(junk_headers)
    url = f"/{parcours}/{PARCOURS[parcours].steps[0].name}"
    sent = False
    for _ in range(20):
        page = url.split("/")[2].split("?")[0]
        if (
            page == "resultat"
            or PARCOURS[parcours].step(page)
            and PARCOURS[parcours].step(page).exit
        ):
            break
        sending = dict(headers)
        if page == junk_page and not sent:
            form = data.draw(junk_form(fields_of(parcours, page)))
            sent = True
        else:
            form = MultiDict(VALID[parcours].get(page, {"consentement": "y"}))
            # Over HTTPS a junk Referer is refused (CSRF) wherever it is: honest pages
            # carry the browser's own.
            sending.pop("Referer", None)
        form.setlist("csrf_token", [token])
        response = client.post(url, data=form, headers=sending)
        check_response(response, "POST")
        if response.status_code == 303:
            url = response.headers["Location"]
    else:
        pytest.fail(f"the walk never ended: {url}")
    if url.startswith(f"/{parcours}/resultat/"):
        assert client.get(url).status_code == 200
        with models.db.connection_context():
            assert models.Lead.select().count() == 1
    assert_only_honest_data_stored(app)


# --- under a real server -------------------------------------------------------------

RAW_PATHS = [
    b"/jeune/%F0%9F%98%80",
    b"/jeune/\xf0\x9f\x98\x80",  # raw UTF-8 in the request line
    b"/jeune/%0Aevil",
    b"/jeune/%0D%0ASet-Cookie:%20x=1",
    b"/jeune/%00",
    b"/jeune/%FF",
    b"/jeune/age?retour=%0A%00%F0%9F%98%80",
    b"/%F0%9F%98%80",
    b"/jeune/age?\x80=\xff",  # raw bytes that are not UTF-8 in the query
]


@pytest.fixture
def gunicorn_server(app, tmp_path):
    """The app under gunicorn (helpers.gunicorn); its logs in a file."""
    log = tmp_path / "gunicorn.log"
    with gunicorn(
        app.config["DATABASE_URL"], "--log-file", log, "--access-logfile", log
    ) as address:
        yield address


def raw_get(address, path, headers):
    """One request as bytes, exactly as written; the status, or None when dropped."""
    lines = [b"GET " + path + b" HTTP/1.1", b"Host: localhost", b"Connection: close"]
    lines += [f"{name}: {value}".encode() for name, value in headers.items()]
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        response = http.client.HTTPResponse(connection)
        try:
            response.begin()
            response.read()
        except (http.client.HTTPException, OSError):  # closed, reset or never answered
            return None, {}
        return response.status, dict(response.getheaders())


def test_odd_paths_with_history_restore_under_gunicorn(gunicorn_server):
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    for path in RAW_PATHS:
        for headers in ({}, restore):
            status, answer_headers = raw_get(gunicorn_server, path, headers)
            assert status is not None and status < 500, (path, headers, status)
            for value in answer_headers.values():
                assert value.isascii() and value.isprintable(), (path, value)
    status, headers = raw_get(gunicorn_server, b"/jeune/age?retour=%0A", restore)
    assert status == 200 and headers["HX-Replace-Url"] == "/jeune/age?retour=%0A"
