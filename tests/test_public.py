"""Home page, mandatory pages, error pages, page vs htmx fragment, security headers.

These pages need no seeded data, so this file brings its own `app` and `client` fixtures
(an empty database per test) instead of the seeded ones from conftest.py."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import request

import models
from app import create_app

ROOT = Path(__file__).resolve().parent.parent
MANDATORY_PAGES = {
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/accessibilite": "Déclaration d'accessibilité",
    "/plan-du-site": "Plan du site",
}
ALL_PAGES = ["/", *MANDATORY_PAGES]


def make_app(database_url, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            **config,
        }
    )


@pytest.fixture
def app(empty_database_url):
    return make_app(empty_database_url)


@pytest.fixture
def client(app):
    return app.test_client()


class Outline(HTMLParser):
    """Headings (level, text) and the text of every element, for structural assertions."""

    def __init__(self):
        super().__init__()
        self.headings = []
        self._heading = None
        self.attrs_seen = []

    def handle_starttag(self, tag, attrs):
        self.attrs_seen.extend(name for name, _ in attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]

    def handle_endtag(self, tag):
        if self._heading and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None

    def handle_data(self, data):
        if self._heading:
            self._heading[1] += data


def outline(html):
    parser = Outline()
    parser.feed(html)
    return parser


def text(response):
    return response.get_data(as_text=True).replace("\xa0", " ")


def link(href, label):
    return re.compile(rf'<a [^>]*href="{re.escape(href)}"[^>]*>\s*{re.escape(label)}\s*</a>')


# --- Home ----------------------------------------------------------------------------------


def test_home_has_title_subtitle_and_both_entries(client):
    response = client.get("/")
    html = text(response)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert outline(html).headings[0] == (1, "1 jeune, 1 mentor")
    assert "Faites la rencontre qui change tout !" in html
    assert link("/jeune/age", "Je trouve un mentor").search(html)
    assert link("/mentor/situation", "Je deviens mentor").search(html)


def test_home_entries_come_before_any_other_section(client):
    html = text(client.get("/"))
    first_h2 = html.index("<h2")
    assert html.index('href="/jeune/age"') < first_h2
    assert html.index('href="/mentor/situation"') < first_h2


def test_home_explains_mentoring_and_how_it_works(client):
    html = text(client.get("/"))
    headings = [title for _, title in outline(html).headings]
    assert "Pourquoi participer à l'aventure du mentorat ?" in headings
    assert "Comment ça marche ?" in headings
    for reason in (
        "J'ai des difficultés à l'école",
        "Je ne sais pas quelle orientation choisir",
        "Je cherche un stage, une alternance, un premier emploi",
        "Je souhaite partager mon expérience",
        "Je favorise l'égalité des chances",
        "Je continue à apprendre",
    ):
        assert reason in html
    assert "pendant au moins 6 mois" in html
    steps = re.search(r'<ol class="steps"[^>]*>(.*?)</ol>', html, re.S)
    assert steps and steps.group(1).count("<li") == 3


# --- Every public page -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ALL_PAGES)
def test_one_h1_and_no_skipped_heading_level(client, url):
    headings = outline(text(client.get(url))).headings
    levels = [level for level, _ in headings]
    assert levels.count(1) == 1 and levels[0] == 1
    for previous, current in zip(levels, levels[1:], strict=False):
        assert current <= previous + 1, headings


@pytest.mark.parametrize("url", ALL_PAGES)
def test_no_inline_style_or_script(client, url):
    html = text(client.get(url))
    assert "style" not in outline(html).attrs_seen
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.parametrize(("url", "title"), MANDATORY_PAGES.items())
def test_mandatory_page(client, url, title):
    response = client.get(url)
    html = text(response)
    assert response.status_code == 200
    assert outline(html).headings[0] == (1, title)
    assert f"<title>{title} — 1 jeune, 1 mentor</title>" in html.replace("&#39;", "'")


@pytest.mark.parametrize("url", ALL_PAGES)
def test_footer_links_to_every_mandatory_page(client, url):
    html = text(client.get(url))
    for page in MANDATORY_PAGES:
        assert f'href="{page}"' in html


def test_site_map_links_to_home_both_journeys_and_mandatory_pages(client):
    html = text(client.get("/plan-du-site"))
    main = html[html.index("<main") : html.index("</main>")]
    for href in ["/", "/jeune/age", "/mentor/situation", *MANDATORY_PAGES]:
        assert f'href="{href}"' in main


def test_demo_instance_says_no_operator_is_declared(client):
    for url in ("/", "/mentions-legales", "/donnees-personnelles", "/accessibilite"):
        assert "aucun opérateur n'est encore déclaré" in text(client.get(url))


def test_a_declared_operator_removes_the_demo_notice_from_the_home_page(empty_database_url):
    client = make_app(empty_database_url, OPERATOR_NAME="Association Exemple").test_client()
    assert "Instance de démonstration" not in text(client.get("/"))


def test_operator_facts_come_from_configuration(empty_database_url):
    app = make_app(
        empty_database_url,
        OPERATOR_NAME="Association Exemple",
        OPERATOR_EMAIL="contact@example.org",
        OPERATOR_ADDRESS="1 rue de l'Exemple, 75000 Paris",
        OPERATOR_PUBLICATION_DIRECTOR="Camille Exemple",
        OPERATOR_HOSTING="Hébergeur Exemple, 2 rue du Serveur, 59000 Lille",
        SOURCE_CODE_URL="https://example.org/code",
        ACCESSIBILITY_STATEMENT_DATE="1er janvier 2026",
    )
    client = app.test_client()
    legal = text(client.get("/mentions-legales"))
    assert "aucun opérateur n'est encore déclaré" not in legal
    for fact in (
        "Association Exemple",
        "contact@example.org",
        "Camille Exemple",
        "Hébergeur Exemple",
    ):
        assert fact in legal
    assert 'href="https://example.org/code"' in legal
    assert 'href="mailto:contact@example.org"' in text(client.get("/donnees-personnelles"))
    accessibility = text(client.get("/accessibilite"))
    assert "1er janvier 2026" in accessibility
    assert 'href="mailto:contact@example.org"' in accessibility


def test_personal_data_page_states_basis_retention_rights_and_cookies(client):
    html = text(client.get("/donnees-personnelles"))
    for fact in (
        "consentement",
        "moins de 15 ans",
        "24 heures au plus",
        "3 ans au plus après votre dernier échange",
        "CNIL",
        "aucun cookie de mesure d'audience",
        "« session »",
    ):
        assert fact in html


def test_retention_periods_follow_configuration(empty_database_url):
    app = make_app(empty_database_url, DRAFT_MAX_AGE_HOURS=48, LEAD_RETENTION_YEARS=2)
    html = text(app.test_client().get("/donnees-personnelles"))
    assert "48 heures au plus" in html
    assert "expire 48 heures après votre dernière" in html
    assert "2 ans au plus" in html
    # The cookie and the form's token last as long as the draft they lead to.
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 48 * 3600
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 48 * 3600


def test_accessibility_statement_is_honest(client):
    html = text(client.get("/accessibilite"))
    assert "RGAA" in html and "4.1" in html
    assert "<strong>non conforme</strong>" in html
    assert "axe-core" in html
    assert "Défenseur des droits" in html


# --- Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/page-qui-nexiste-pas", "/pages/mentions-legales", "/_demo-notice"]
)
def test_unknown_page_is_a_french_404(client, url):
    response = client.get(url)
    html = text(response)
    assert response.status_code == 404
    assert outline(html).headings[0] == (1, "Page introuvable")
    assert '<html lang="fr">' in html
    assert 'href="/"' in html


def test_wrong_method_gets_the_french_page(client):
    response = client.post("/")
    assert response.status_code == 405
    assert "Votre envoi n'a pas pu être traité" in text(response)


def test_too_large_request_gets_the_french_400_page(empty_database_url):
    app = make_app(empty_database_url, MAX_CONTENT_LENGTH=100)

    @app.post("/_upload")
    def upload():
        return str(len(request.form))

    response = app.test_client().post("/_upload", data={"x": "y" * 1000})
    html = text(response)
    assert response.status_code == 413
    assert outline(html).headings[0] == (1, "Votre envoi n'a pas pu être traité")
    assert 'href="/"' in html


def test_server_error_page_renders_without_the_database(empty_database_url, monkeypatch):
    app = make_app(empty_database_url, PROPAGATE_EXCEPTIONS=False)

    def database_down(*args, **kwargs):
        raise OSError("database down")

    # The database cannot even be opened: the error page must not care. A draft to
    # look up makes the step query it (a page without a query opens no connection).
    monkeypatch.setattr(models.db.obj, "connect", database_down)
    client = app.test_client()
    with client.session_transaction() as session:
        session["drafts"] = {"jeune": "a-draft-token"}
    response = client.get("/jeune/age")
    html = text(response)
    assert response.status_code == 500
    assert outline(html).headings[0] == (1, "Désolé, le service rencontre un problème")
    assert 'href="/"' in html


# --- Full page vs htmx fragment ------------------------------------------------------------


@pytest.mark.parametrize("url", ALL_PAGES)
def test_full_page(client, url):
    html = text(client.get(url))
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert '<html lang="fr">' in html
    assert 'class="site-footer"' in html
    assert html.count('<main id="main"') == 1


@pytest.mark.parametrize("url", ALL_PAGES)
def test_htmx_fragment_has_title_and_main_only(client, url):
    response = client.get(url, headers={"HX-Request": "true"})
    html = text(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert "<title>" in html
    assert html.count('<main id="main"') == 1
    assert "site-footer" not in html


def test_htmx_full_request_gets_the_whole_page(client):
    html = text(client.get("/", headers={"HX-Request": "true", "HX-Request-Type": "full"}))
    assert '<html lang="fr">' in html


@pytest.mark.parametrize("url", ALL_PAGES)
def test_vary_on_htmx_headers(client, url):
    vary = client.get(url).headers.get("Vary", "")
    assert "HX-Request" in vary
    assert "HX-Request-Type" in vary


# --- Headers and static files ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/plan-du-site", "/nexiste-pas"])
def test_security_headers(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_stylesheet_and_favicon_are_served(client):
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    css.close()
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    icon.close()


def test_staff_styles_are_downloaded_by_staff_pages_only(client):
    staff_css = re.compile(r'href="/static/css/espace\.[0-9a-f]+\.css"')
    assert staff_css.search(client.get("/espace/connexion").get_data(as_text=True))
    for public in ("/", "/jeune/age", "/mentor/situation"):
        assert not staff_css.search(client.get(public).get_data(as_text=True)), public


def test_stylesheet_is_small_self_contained_and_defines_the_shared_classes():
    css = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
    assert len(css.encode()) < 16_000
    assert "@import" not in css and "url(http" not in css and "@font-face" not in css
    assert "prefers-reduced-motion" in css
    for name in (
        "container", "skip-link", "site-header", "site-name", "site-footer", "footer-links",
        "back-link", "button", "button--secondary", "link-button", "hint", "field",
        "field--error", "error-message", "error-summary", "error-summary__title",
        "error-summary__list", "label", "label--page", "legend--page", "input", "input--short",
        "radios", "radio", "checkboxes", "checkbox", "checkbox--exclusive", "progress",
        "progress__bar", "summary-list", "panel", "card", "reasons", "notice",
        "visually-hidden", "fieldset", "inset",
    ):  # fmt: skip
        assert re.search(rf"\.{re.escape(name)}(?![\w-])", css), name


def test_every_class_in_public_templates_is_styled():
    css = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
    templates = ROOT / "templates"
    files = [templates / "base.html", templates / "accueil.html"]
    files += sorted((templates / "pages").glob("*.html")) + sorted(
        (templates / "errors").glob("*.html")
    )
    for path in files:
        source = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " ", path.read_text(encoding="utf-8"))
        for attribute in re.findall(r'class="([^"]*)"', source):
            for name in attribute.split():
                assert re.search(rf"\.{re.escape(name)}(?![\w-])", css), (path.name, name)


# --- What browsers and crawlers ask for at the root ---------------------------------------


def test_robots_txt_allows_the_pages_and_keeps_results_out(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = text(response).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/jeune/resultat/", "/mentor/resultat/", "/communes/"):
        assert f"Disallow: {path}" in lines
    assert "Allow: /" in lines


def test_favicon_ico_is_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data == (ROOT / "static" / "favicon.svg").read_bytes()
    assert "max-age=86400" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("url", "first"),
    [
        ("/jeune", "/jeune/age"),
        ("/jeune/", "/jeune/age"),
        ("/mentor", "/mentor/situation"),
        ("/mentor/", "/mentor/situation"),
    ],
)
def test_parcours_root_leads_to_the_first_step(client, url, first):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"] == first
