"""Access control, swept over the URL map: every rule under /espace/ and /admin/, every
method it takes. A route added later without its guard fails here.

- Anonymous visitors are sent to the login page (never a 200, never a 500), except on
  the pages meant for them (PUBLIC: login, lost password, e-mailed links, logout).
- Staff of association B, on the URLs of association A's lead (and A's programme and
  staff member): 404, as for something that does not exist; nothing of A changes.
- Staff (membre or responsable) on the operator's /admin/ pages: 404.
"""

import io
import re

import openpyxl
import pytest
from helpers import csrf_token, log_in
from werkzeug.routing import AnyConverter

import models

PUBLIC = {
    "espace.connexion",
    "espace.deconnexion",
    "espace.mot_de_passe_oublie",
    "espace.reinitialisation",
    "espace.invitation",
    "espace.rejoindre",  # an association's claim link (a signed secret, test_sans_compte.py)
}
PREFIXES = ("/espace/", "/admin/")
LOGIN = "/espace/connexion"


@pytest.fixture
def world(app):
    with models.db.connection_context():
        a, b = list(models.Association.select().order_by(models.Association.id).limit(2))
        lead = models.Lead.create(
            reference="J-SWEEP1",
            kind="jeune",
            suivi_token="sweep",
            answers={},
            association=a,
            prenom="Inès",
            nom="Martin",
            besoin="orientation",
            departement="69",
        )
        return {
            "lead": lead,
            "programme": models.Programme.get(models.Programme.association == a),
            "staff_a": models.Utilisateur.create(
                email="a@example.org", role="responsable", association=a
            ),
            "staff_b": models.Utilisateur.create(
                email="b@example.org", role="responsable", association=b
            ),
            "membre_b": models.Utilisateur.create(
                email="mb@example.org", role="membre", association=b
            ),
        }


def rules(app, prefixes=PREFIXES):
    """(endpoint, rule, methods) of every rule under `prefixes`; there must be some."""
    found = [
        (rule.endpoint, rule, sorted(rule.methods & {"GET", "POST"}))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefixes)
    ]
    for prefix in prefixes:
        assert any(rule.rule.startswith(prefix) for _, rule, _ in found), prefix
    return found


def url_of(app, rule, world, **overrides):
    """The rule's URL with A's objects in its arguments (A's lead, programme, staff
    member, association); a choice of words (`any(...)`), its first word."""
    known = {
        "reference": world["lead"].reference,
        "code": "contacter",
        "token": "inconnu",
        "slug": world["lead"].association.slug,
        "programme_id": world["programme"].id,
        "user_id": world["staff_a"].id,
        **overrides,
    }
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = known.get(name, 1)
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def concerns_a(rule):
    return bool(rule.arguments & {"reference", "programme_id", "user_id"})


def request(client, method, url, token):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token, "version": "0", "text": "x"})


def a_unchanged(world):
    lead = models.Lead.get_by_id(world["lead"].id)
    assert (lead.status, lead.version, lead.association_id) == (
        "nouvelle",
        0,
        world["lead"].association_id,
    )
    assert models.Note.select().count() == 0
    assert models.Evenement.select().count() == 0
    assert models.Utilisateur.get_by_id(world["staff_a"].id).actif


def test_anonymous_visitors_are_sent_to_the_login_page(app, client, world):
    token = csrf_token(client)
    checked = 0
    for endpoint, rule, methods in rules(app):
        url = url_of(app, rule, world)
        for method in methods:
            response = request(client, method, url, token)
            where = (method, url, response.status_code)
            assert response.status_code < 500, where
            if endpoint in PUBLIC:
                continue
            assert response.status_code in (302, 303), where
            assert response.headers["Location"].startswith(LOGIN), where
            checked += 1
    assert checked >= 30  # the espace's and the operator's
    a_unchanged(world)


@pytest.mark.parametrize("who", ["staff_b", "membre_b"])
def test_staff_of_another_association_get_404_on_a_s_urls(app, client, world, who):
    log_in(client, world[who])
    token = csrf_token(client)
    checked = 0
    for endpoint, rule, methods in rules(app):
        if endpoint in PUBLIC:
            continue
        url = url_of(app, rule, world)
        for method in methods:
            response = request(client, method, url, token)
            where = (method, url, response.status_code)
            assert response.status_code < 500, where
            if concerns_a(rule) or rule.rule.startswith("/admin/"):
                assert response.status_code == 404, where
                checked += 1
            else:  # B's own pages: never anything of A
                assert world["lead"].reference.encode() not in response.get_data(), where
                if response.mimetype.endswith(".sheet"):  # the XLSX export: a zip, opened
                    assert world["lead"].reference not in xlsx_text(response), where
    assert checked >= 8
    a_unchanged(world)


def xlsx_text(response):
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    return " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)


def test_staff_of_a_reach_the_same_urls(app, client, world):
    """The sweep's URLs are real: A's own staff are not refused on A's lead pages."""
    log_in(client, world["staff_a"])
    lead_url = f"/espace/demandes/{world['lead'].reference}"
    for path in ("", "/binome", "/confier"):
        assert client.get(lead_url + path).status_code == 200, path


TITLE_RE = re.compile(r"<title>(.*?)</title>", re.S)
# What a refused form gets in each field it reads: nothing valid anywhere.
JUNK = {"version": "x", "text": "", "email": "pas-une-adresse", "nom": "", "slug": "?", "kind": "?"}


def titles_of_refusals(app, client, world, token, prefixes):
    """{url: <title>} of every 422 answered to a junk POST (or GET with junk
    arguments) on a rule under `prefixes`."""
    found = {}
    # Logging out (and deactivating oneself) ends the session the sweep goes on with.
    ending = {"espace.deconnexion", "espace.reglages_desactiver"}
    for endpoint, rule, methods in rules(app, prefixes):
        if endpoint in ending:
            continue
        # The youth journey's first step, the lead's own follow-up link.
        url = url_of(app, rule, world, etape="age", token=world["lead"].suivi_token)
        for method in methods:
            if method == "POST":
                response = client.post(url, data=dict(JUNK, csrf_token=token))
            else:
                response = client.get(url, query_string=JUNK)
            assert response.status_code < 500, (method, url)
            if response.status_code == 422:
                match = TITLE_RE.search(response.get_data(as_text=True))
                found[f"{method} {url}"] = match.group(1) if match else ""
    return found


@pytest.mark.parametrize(
    ("who", "prefixes", "at_least"),
    [
        (None, ("/<any(jeune, mentor):parcours>/", "/suivi/", "/espace/"), 4),
        ("staff_a", ("/espace/",), 3),
        ("admin", ("/admin/",), 5),
    ],
)
def test_every_refused_form_has_a_title_starting_with_erreur(
    app, client, world, who, prefixes, at_least
):
    """WCAG 3.3.1: a page that shows errors says so first, in its <title>; the titles
    come from one helper (views/rendering.py page_title), one separator, the site last."""
    if who == "admin":
        log_in(client, models.Utilisateur.create(email="op@example.org", role="admin"))
    elif who:
        log_in(client, world[who])
    titles = titles_of_refusals(app, client, world, csrf_token(client), prefixes)
    assert len(titles) >= at_least, sorted(titles)
    for where, title in titles.items():
        assert title.startswith("Erreur : "), (where, title)
        assert title.endswith(" — 1 jeune, 1 mentor"), (where, title)
        assert " · " not in title and " – " not in title, (where, title)
