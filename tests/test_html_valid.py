"""Every page of both journeys is valid HTML for the Nu HTML Checker (vnu), JS off, error
states included, and so is every htmx fragment as served.

The pages are collected through the test client, written to a temporary folder and checked
in ONE run of vnu (its JVM takes seconds to start). The checker is the npm package vnu-jar,
installed by `make test` (package.json); it needs Java 17+. Without them the test is skipped,
except with CI=true, where it fails.
"""

import datetime as dt
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import (
    HX,
    MENTOR_STEPS,
    PARENT_STEP,
    YOUTH_STEPS,
    arrived,
    csrf_token,
    log_in,
    submit,
    walk,
)

import models
from services import accounts, catalogue, statistiques

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# --no-langdetect: every page is lang="fr"; guessing the language only adds warnings.
VNU_OPTIONS = ["--format", "json", "--stdout", "--errors-only", "--no-langdetect"]

# An htmx fragment is "<title>…</title><main>…</main>": after this prefix it parses as a
# whole document (the head and body tags are optional), so it is checked as it is sent.
FRAGMENT_PREFIX = '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
# The commune suggestions: options for the combobox's listbox, then an <hx-partial> that
# htmx takes out and swaps into the live region. Each is checked where it ends up.
SUGGESTIONS_DOCUMENT = (
    FRAGMENT_PREFIX + "<title>Suggestions</title></head><body>"
    '<ul role="listbox" aria-label="Communes suggérées">{options}</ul>'
    '<div role="status">{partial}</div></body></html>'
)
# Checked in the same run: proof that vnu really read the files and reported their errors.
CANARY = ("temoin-invalide.html", FRAGMENT_PREFIX + '<title>Témoin</title><p hx-get="/">x</p>')


def vnu_command():
    """The checker's command line, or skip (fail with CI=true) when it cannot run."""
    java = shutil.which("java")
    missing = []
    if java is None:
        missing.append("Java 17+ (apt-get install default-jre-headless)")
    if not VNU_JAR.is_file():
        missing.append(f"{VNU_JAR.relative_to(ROOT)} (`make html-checker`)")
    if missing:
        message = "Validateur HTML indisponible : " + ", ".join(missing) + " manquant."
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI=true : la validation HTML est obligatoire.", pytrace=False)
        pytest.skip(message)
    return [java, "-jar", str(VNU_JAR), *VNU_OPTIONS]


class Pages:
    """The HTML of each request, by file name; each request is made as a page and as the
    htmx fragment (same URL, same data), and its status is checked."""

    def __init__(self):
        self.documents = {}

    def add(self, name, html):
        assert name not in self.documents, name
        self.documents[name] = html

    def fetch(self, client, name, url, data=None, status=200):
        for suffix, headers in (("", {}), (".htmx", HX)):
            if data is None:
                response = client.get(url, headers=headers)
            else:
                response = client.post(url, data=data, headers=headers)
            html = response.get_data(as_text=True)
            assert response.status_code == status, (name + suffix, response.status_code, html)
            if suffix:
                assert "<html" not in html, name + suffix
                html = FRAGMENT_PREFIX + html
            self.add(name + suffix + ".html", html)

    def post(self, client, name, url, data, status=422):
        """An answer that must not be accepted: the page shown again, with its errors."""
        self.fetch(client, name, url, dict(data, csrf_token=csrf_token(client)), status)

    def write(self, folder):
        paths = []
        for name, html in self.documents.items():
            path = folder / name
            path.write_text(html, encoding="utf-8")
            paths.append(path)
        return paths


def steps_until(steps, name):
    return steps[: [n for n, _ in steps].index(name)]


def youth_pages(app, pages):
    """Every youth step, empty and in each error state; exits; check page; results."""
    client = app.test_client()
    coordonnees = YOUTH_STEPS[-1][1]
    invalid = {
        "age": [
            ("vide", {"age": ""}),
            ("non-numerique", {"age": "dix-sept"}),
            ("hors-limites", {"age": "0"}),
            ("trop-grand", {"age": "121"}),
        ],
        "situation": [("vide", {}), ("inconnue", {"situation": "astronaute"})],
        "besoin": [("vide", {}), ("inconnu", {"besoin": "<script>"})],
        "commune": [("vide", {"commune": ""}), ("inconnue", {"commune": "Atlantide"})],
        "situation-particuliere": [
            ("sans-accord", {"situations": ["handicap"]}),
            ("aucune-et-autre", {"situations": ["aucune", "qpv"]}),
            ("inconnue", {"situations": ["qpv", "astronaute"]}),
        ],
        "rencontre": [("vide", {})],
        "coordonnees": [
            ("vide", {}),
            ("sans-contact", dict(coordonnees, email="", telephone="")),
            ("email-invalide", dict(coordonnees, email="pas-une-adresse")),
            ("telephone-invalide", dict(coordonnees, telephone="12345")),
            ("noms-avec-chiffres", dict(coordonnees, prenom="R2", nom="D2")),
        ],
    }
    for name, _ in YOUTH_STEPS:
        walk(client, "jeune", steps_until(YOUTH_STEPS, name))
        url = f"/jeune/{name}"
        pages.fetch(client, f"jeune-{name}", url)
        for case, data in invalid[name]:
            pages.post(client, f"jeune-{name}-422-{case}", url, data)
    # The commune step without JS: several matches as radio buttons, then none picked.
    walk(client, "jeune", steps_until(YOUTH_STEPS, "commune"))
    pages.post(client, "jeune-commune-choix", "/jeune/commune", {"commune": "Saint-Denis"}, 200)
    pages.post(
        client,
        "jeune-commune-choix-422",
        "/jeune/commune",
        {"commune": "Saint-Denis", "choix_affiche": "1"},
    )

    walk(client, "jeune", YOUTH_STEPS)
    pages.fetch(client, "jeune-verifier", "/jeune/verifier")
    pages.fetch(client, "jeune-modifier-commune", "/jeune/commune?retour=verifier")
    pages.post(client, "jeune-verifier-422-sans-consentement", "/jeune/verifier", {})
    location = submit(client, "jeune").headers["Location"]
    pages.fetch(client, "jeune-resultat", location)
    # Its alternatives, each with a form to choose it instead.
    assert location + "/choisir" in pages.documents["jeune-resultat.html"]
    pages.post(client, "erreur-400-choix-inconnu", location + "/choisir", {"orientation": "x"}, 400)
    pages.fetch(client, "erreur-csrf", location + "/choisir", {"orientation": "1"}, 400)

    # Under 15: the parent step, empty and refused.
    client = app.test_client()
    walk(client, "jeune", [("age", {"age": "13"})] + YOUTH_STEPS[1:])
    pages.fetch(client, "jeune-parent", "/jeune/parent")
    pages.post(client, "jeune-parent-422-vide", "/jeune/parent", {})
    refused = {k: v for k, v in PARENT_STEP[1].items() if k != "parent_accord"}
    pages.post(client, "jeune-parent-422-sans-accord", "/jeune/parent", refused)

    for age, exit_page in (("35", "plus-de-30-ans"), ("9", "moins-de-11-ans")):
        client = app.test_client()
        walk(client, "jeune", [("age", {"age": age})])
        pages.fetch(client, f"jeune-sortie-{exit_page}", f"/jeune/{exit_page}")
        pages.post(client, "erreur-405-sortie-" + age, f"/jeune/{exit_page}", {}, 405)


def stale_check_page(app, pages):
    """The check page flagging an answer the communes file no longer confirms."""
    client = app.test_client()
    walk(client, "jeune", YOUTH_STEPS)
    with models.db.connection_context():
        models.Localite.update(code_postal="69999").where(
            models.Localite.code_postal == "69003"
        ).execute()
    pages.fetch(client, "jeune-verifier-reponse-perimee", "/jeune/verifier")
    assert 'class="error-summary"' in pages.documents["jeune-verifier-reponse-perimee.html"]


def waiting_list_page(app, pages):
    with models.db.connection_context():
        models.Programme.update(actif=False).execute()
    catalogue.invalidate()
    client = app.test_client()
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.reference == location.rsplit("/", 1)[1])
        assert lead.association_id is None  # on the waiting list
    pages.fetch(client, "jeune-resultat-liste-attente", location)


def mentor_pages(app, pages):
    client = app.test_client()
    coordonnees = MENTOR_STEPS[-1][1]
    invalid = {
        "situation": [("vide", {})],
        "age": [("vide", {})],
        "experience": [
            ("vide", {}),
            ("metier-trop-long", {"secteur": "numerique", "metier": "x" * 101}),
        ],
        "accompagnement": [("vide", {}), ("sans-besoin", {"publics": ["lyceens"]})],
        "disponibilite": [("vide", {})],
        "commune": [("vide", {"commune": ""}), ("inconnue", {"commune": "Atlantide"})],
        "coordonnees": [
            ("vide", {}),
            ("email-invalide", dict(coordonnees, email="pas-une-adresse")),
            ("telephone-invalide", dict(coordonnees, telephone="12345")),
            ("noms-avec-chiffres", dict(coordonnees, prenom="R2", nom="D2")),
        ],
    }
    for name, _ in MENTOR_STEPS:
        walk(client, "mentor", steps_until(MENTOR_STEPS, name))
        url = f"/mentor/{name}"
        pages.fetch(client, f"mentor-{name}", url)
        for case, data in invalid[name]:
            pages.post(client, f"mentor-{name}-422-{case}", url, data)
    walk(client, "mentor", MENTOR_STEPS)
    pages.fetch(client, "mentor-verifier", "/mentor/verifier")
    pages.post(client, "mentor-verifier-422-sans-consentement", "/mentor/verifier", {})
    pages.fetch(client, "mentor-resultat", submit(client, "mentor").headers["Location"])


def espace_demandes_pages(app, pages):
    """The espace association: inbox (filtered, in error, empty), a lead's page, a note
    refused; a staff member of the association the lead was sent to."""
    client = app.test_client()
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.reference == location.rsplit("/", 1)[1])
        user = models.Utilisateur.create(
            email="html@example.org", role="membre", association=lead.association_id
        )
        models.Note.create(lead=lead, association=lead.association_id, author=user, text="Note")
    log_in(client, user)
    pages.fetch(client, "espace-demandes", "/espace/")
    pages.fetch(client, "espace-demandes-filtrees", "/espace/?statut=toutes&type=jeune&retard=1")
    pages.fetch(client, "espace-demandes-recherche-vide", "/espace/?q=personne")
    pages.fetch(client, "espace-demandes-400", "/espace/?statut=perdu&page=x", status=400)
    pages.fetch(client, "espace-demandes-tri", "/espace/?statut=toutes&tri=-statut")
    pages.fetch(client, "espace-transmises", "/espace/transmises")
    pages.fetch(client, "espace-404", "/espace/nulle-part", status=404)
    url = f"/espace/demandes/{lead.reference}"
    pages.fetch(client, "espace-demande", url)
    pages.post(client, "espace-demande-note-422", url + "/notes", {"text": ""})
    lead_action_pages(client, pages, lead, user)


def lead_action_pages(client, pages, lead, user):
    """The lead page's actions: refused (422, 409), done (the page focused on its status),
    the binôme and hand-over pages, with their errors."""
    url = f"/espace/demandes/{lead.reference}"
    version = str(lead.version)
    pages.post(
        client, "espace-action-422-motif", url + "/actions/classer_sans_suite", {"version": version}
    )
    pages.post(
        client,
        "espace-action-409-perimee",
        url + "/actions/contacter",
        {"version": "999"},
        status=409,
    )
    pages.fetch(client, "espace-binome-pas-encore", url + "/binome")
    with models.db.connection_context():
        from services import demandes

        demandes.change_status(lead, "contactee", user)
        mentor = models.Lead.create(
            reference="M-HTML1",
            kind="mentor",
            status="en_attente",
            suivi_token="html-mentor",
            answers={
                "besoins": ["orientation"],
                "modalite": "les_deux",
                "publics": ["lyceens"],
                "disponibilite": "2_4h",
                "commune": "69123",
            },
            association=lead.association_id,
            prenom="Paul",
            nom="Durand",
            besoin="orientation",
            departement="69",
            commune="69123",
        )
        lead = models.Lead.get_by_id(lead.id)
    pages.fetch(client, "espace-demande-contactee", url + "?action=faite")
    pages.fetch(client, "espace-binome", url + "/binome")
    pages.post(client, "espace-binome-422", url + "/binome", {"version": str(lead.version)})
    pages.fetch(client, "espace-confier", url + "/confier")
    pages.post(client, "espace-confier-422", url + "/confier", {"version": str(lead.version)})
    with models.db.connection_context():
        demandes.form_pair(lead, mentor, user, lead.association_id)
    pages.fetch(client, "espace-demande-binome-mentor", "/espace/demandes/M-HTML1")
    pages.fetch(client, "espace-confier-impossible", url + "/confier")
    with models.db.connection_context():  # a lead handed over since the page was read
        programme = models.Programme.get(models.Programme.association == lead.association_id)
        gone = models.Lead.create(
            reference="J-HTMLX9", kind="jeune", suivi_token="html-gone", answers={}
        )
        models.Orientation.create(
            lead=gone,
            programme=programme,
            rank=1,
            score=1,
            matcher_version="t",
            outcome="transferee",
        )
    pages.post(
        client,
        "espace-action-409-confiee-ailleurs",
        "/espace/demandes/J-HTMLX9/actions/contacter",
        {"version": "0"},
        status=409,
    )


def public_pages(app, pages):
    client = app.test_client()
    for url in (
        "/",
        "/mentions-legales",
        "/donnees-personnelles",
        "/accessibilite",
        "/plan-du-site",
    ):
        pages.fetch(client, "page-" + (url.strip("/") or "accueil"), url)
    pages.fetch(client, "erreur-404", "/nulle-part", status=404)
    pages.fetch(client, "erreur-500", "/_panne", status=500)
    pages.fetch(client, "erreur-405", "/", data={}, status=405)
    pages.fetch(client, "erreur-csrf-etape", "/jeune/age", data={"age": "17"}, status=400)
    too_large = {"age": "1" * (app.config["MAX_CONTENT_LENGTH"] + 1)}
    pages.fetch(client, "erreur-413", "/jeune/age", data=too_large, status=413)
    response = client.get("/communes/suggestions?commune=saint-d")
    options, partial = response.get_data(as_text=True).split("<hx-partial", 1)
    assert 'role="option"' in options
    partial = partial.split(">", 1)[1].rsplit("</hx-partial>", 1)[0]
    pages.add(
        "communes-suggestions.html",
        SUGGESTIONS_DOCUMENT.format(options=options, partial=partial),
    )


def suivi_pages(app, pages):
    """The follow-up pages: the page, each action's confirmation and its refusals, the
    lost link (empty, refused, sent), the kind 404, the result page without e-mail."""
    client = app.test_client()
    contact = dict(YOUTH_STEPS[-1][1], email="", contact_pref="sms")
    walk(client, "jeune", [*YOUTH_STEPS[:-1], ("coordonnees", contact)])
    location = submit(client, "jeune").headers["Location"]
    pages.fetch(client, "jeune-resultat-sans-email", location)
    with models.db.connection_context():
        lead = models.Lead.get(models.Lead.reference == location.rsplit("/", 1)[1])
    base = f"/suivi/{lead.suivi_token}"
    token = csrf_token(client)
    pages.fetch(client, "suivi", base)
    pages.fetch(client, "suivi-pas-recontacte-trop-tot", base + "/pas-recontacte", status=409)
    pages.fetch(client, "suivi-arreter", base + "/arreter")
    pages.fetch(
        client,
        "suivi-arreter-422",
        base + "/arreter",
        {"csrf_token": token, "motif": "x"},
        status=422,
    )
    pages.fetch(client, "suivi-supprimer", base + "/supprimer")
    pages.fetch(client, "suivi-coordonnees", base + "/coordonnees")
    pages.fetch(
        client,
        "suivi-coordonnees-envoye",
        base + "/coordonnees",
        {"csrf_token": token, "email": "ines@gmial.com"},
    )
    pages.fetch(
        client, "suivi-coordonnees-422", base + "/coordonnees", {"csrf_token": token}, status=422
    )
    pages.fetch(client, "suivi-confirmer-coordonnees", "/suivi/coordonnees/x.y", status=409)
    pages.fetch(client, "suivi-lien-envoye-sms", "/suivi/lien-perdu/envoye?sms=1")
    with models.db.connection_context():
        late = models.now() - dt.timedelta(days=30)
        arrived(lead, late)
    pages.fetch(client, "suivi-en-retard", base)
    pages.fetch(client, "suivi-pas-recontacte", base + "/pas-recontacte")
    client.post(base + "/arreter", data={"csrf_token": token})
    pages.fetch(client, "suivi-close", base + "?fait=arret")
    pages.fetch(client, "suivi-lien-perdu", "/suivi/lien-perdu")
    pages.fetch(
        client, "suivi-lien-perdu-422", "/suivi/lien-perdu", {"csrf_token": token}, status=422
    )
    pages.fetch(client, "suivi-lien-envoye", "/suivi/lien-perdu/envoye")
    pages.fetch(client, "suivi-donnees-supprimees", "/suivi/donnees-supprimees")
    pages.fetch(client, "suivi-introuvable", "/suivi/" + "A" * 43, status=404)


def statistics_pages(app, pages):
    """/statistiques before tick computed anything, then with the leads sent so far."""
    client = app.test_client()
    pages.fetch(client, "statistiques-pas-encore", "/statistiques")
    with models.db.connection_context():
        statistiques.refresh()
    pages.fetch(client, "statistiques", "/statistiques")
    assert "<svg" in pages.documents["statistiques.html"]


def espace_pages(app, pages):
    """The espace association: login (empty, refused, throttled), lost password, links
    (valid, unknown), account and settings pages, with their error states."""
    with models.db.connection_context():
        association = models.Association.select().first()
        programme = association.programmes.first()
        user = models.Utilisateur.create(
            email="resp@example.org",
            role="responsable",
            association=association,
            password_hash=accounts.hash_password("une phrase de passe solide"),
        )
        with models.write_transaction():
            reset = accounts.new_token(user, accounts.RESET, models.now())
            invited = models.Utilisateur.create(
                email="invite@example.org", role="membre", association=association
            )
            invitation = accounts.new_token(invited, accounts.INVITATION, models.now())
    client = app.test_client()
    login = "/espace/connexion"
    pages.fetch(client, "espace-connexion", login)
    pages.post(client, "espace-connexion-422-vide", login, {})
    wrong = {"email": "resp@example.org", "password": "pas le bon mot de passe"}
    pages.post(client, "espace-connexion-422-incorrect", login, wrong)
    for _ in range(accounts.PAIR_LIMIT - 2):
        client.post(login, data=dict(wrong, csrf_token=csrf_token(client, login)))
    pages.post(client, "espace-connexion-429", login, wrong, status=429)
    forgot = "/espace/mot-de-passe-oublie"
    pages.fetch(client, "espace-mot-de-passe-oublie", forgot)
    pages.post(client, "espace-mot-de-passe-oublie-422", forgot, {"email": "x"})
    for name, url in (
        ("reinitialisation", f"/espace/reinitialisation/{reset}"),
        ("invitation", f"/espace/invitation/{invitation}"),
    ):
        pages.fetch(client, f"espace-{name}", url)
        pages.post(client, f"espace-{name}-422", url, {"nouveau": "court"})
        pages.fetch(client, f"espace-{name}-inconnu", url + "x", status=404)
    # An association without accounts: its claim link (issue 16 §1).
    with app.app_context(), models.db.connection_context():
        unread = models.Association.get(models.Association.id != association.id)
        unread.email = "contact@sans-compte.example.org"
        unread.save()
        claim = f"/espace/rejoindre/{accounts.claim_token(unread)}"
    pages.fetch(client, "espace-rejoindre", claim)
    pages.post(client, "espace-rejoindre-envoye", claim, {}, status=200)
    pages.fetch(client, "espace-rejoindre-inconnu", "/espace/rejoindre/x", status=404)

    client = app.test_client()
    log_in(client, user)
    pages.fetch(client, "espace-compte", "/espace/compte")
    # The second factor: its page, then with the QR code (inline SVG), a refused code.
    mfa = "/espace/compte/double-authentification"
    pages.fetch(client, "espace-double-authentification", mfa)
    client.post(mfa + "/commencer", data={"csrf_token": csrf_token(client)})
    pages.fetch(client, "espace-double-authentification-qr", mfa)
    pages.post(client, "espace-double-authentification-422", mfa + "/activer", {"code": "1"})
    pages.post(client, "espace-compte-422", "/espace/compte", {"actuel": "faux"})
    pages.post(
        client,
        "espace-compte-notifications-422",
        "/espace/compte/notifications",
        {"notifications": "jamais"},
    )
    pages.fetch(client, "espace-reglages", "/espace/reglages")
    pages.post(
        client, "espace-reglages-422-profil", "/espace/reglages/profil", {"profil-site": "x"}
    )
    pages.post(
        client,
        "espace-reglages-422-programme",
        f"/espace/reglages/programmes/{programme.id}",
        {f"programme-{programme.id}-capacite_mensuelle": "-3"},
    )
    pages.post(client, "espace-reglages-422-invitation", "/espace/reglages/equipe/inviter", {})
    pages.post(
        client,
        "espace-reglages-409-dernier-responsable",
        f"/espace/reglages/equipe/{user.id}/desactiver",
        {},
        status=409,
    )


def admin_pages(app, pages):
    """The operator's pages, with their error states and results."""
    with models.db.connection_context():
        admin = models.Utilisateur.create(email="admin@example.org", role="admin")
        association = models.Association.select().first()
        programme = association.programmes.first()
        models.Message.create(
            to="x@example.org", subject="Sujet", body="…", status="echec", last_error="refus"
        )
        models.Lead.create(
            reference="J-HTML2", kind="jeune", suivi_token="html", answers={}, waiting_list=True
        )
    client = app.test_client()
    log_in(client, admin)
    for name, url in (
        ("accueil", "/admin/"),
        ("associations", "/admin/associations"),
        ("association-nouvelle", "/admin/associations/nouvelle"),
        ("association", f"/admin/associations/{association.slug}"),
        ("programmes", "/admin/programmes"),
        ("programme-nouveau", "/admin/programmes/nouveau"),
        ("programme", f"/admin/programmes/{programme.slug}"),
        ("import", "/admin/import"),
        ("comptes", "/admin/comptes"),
        ("messages", "/admin/messages"),
        ("liste-attente", "/admin/liste-attente"),
        ("retards", "/admin/retards"),
        ("simulateur", "/admin/simulateur"),
        ("couverture", "/admin/couverture"),
        ("couverture-tout", "/admin/couverture?tout=1"),
        ("journal", "/admin/journal"),
    ):
        pages.fetch(client, f"admin-{name}", url)
    youth = (
        "kind=jeune&commune=Lyon+(69003)&rencontre=les_deux&age=17"
        "&situation_jeune=lycee_general&besoin=orientation"
    )
    pages.fetch(client, "admin-simulateur-resultat", f"/admin/simulateur?{youth}")
    pages.fetch(client, "admin-simulateur-422", "/admin/simulateur?kind=x", status=422)
    pages.fetch(client, "admin-journal-422", "/admin/journal?du=x&kind=x", status=422)
    pages.fetch(
        client,
        "admin-simulateur-communes",
        "/admin/simulateur?kind=jeune&commune=Saint-Denis",
        status=422,
    )
    pages.post(client, "admin-association-422", "/admin/associations/nouvelle", {})
    pages.post(client, "admin-programme-422", "/admin/programmes/nouveau", {"age_min": "x"})
    pages.post(client, "admin-import-422-sans-fichier", "/admin/import", {})
    for suffix, headers in (("", {}), (".htmx", HX)):
        content = io.BytesIO(b"association_slug;x\nun;deux\n")
        response = client.post(
            "/admin/import",
            data={"csrf_token": csrf_token(client), "fichier": (content, "c.csv")},
            headers=headers,
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        pages.add(
            f"admin-import-422-erreurs{suffix}.html",
            FRAGMENT_PREFIX + html if suffix else html,
        )


def server_error_route(app):
    """A view that fails, for the 500 page; routes must be added before the first request."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/_panne", "panne", lambda: 1 / 0)


def run_vnu(command, files):
    """vnu's messages, errors only (it exits 1 when it finds some)."""
    result = subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, timeout=600
    )
    try:
        return json.loads(result.stdout)["messages"]
    except ValueError:
        pytest.fail(f"vnu n'a pas rendu de rapport (code {result.returncode}) :\n{result.stderr}")


def limit_pages(app, pages):
    """The 429 page (page and region) and the robots' thank-you page."""
    client = app.test_client()
    pages.fetch(client, "jeune-envoyee", "/jeune/envoyee")
    # The same person again from another browser: the first demande, with a notice.
    app.config["SENT_AGAIN_HOURS"] = 24  # read at each sending (conftest turns it off)
    walk(client, "jeune", YOUTH_STEPS)
    assert submit(client, "jeune").status_code == 303
    other = app.test_client()
    walk(other, "jeune", YOUTH_STEPS)
    result = submit(other, "jeune").headers["Location"]
    pages.fetch(other, "jeune-resultat-renvoyee", result)
    assert "Vous aviez déjà envoyé" in pages.documents["jeune-resultat-renvoyee.html"]
    saved = app.config["LIMIT_DEMANDES"]
    app.config["LIMIT_DEMANDES"] = "1 per hour"
    try:
        client = app.test_client()
        assert submit(client, "jeune").status_code == 303  # the one allowed this hour
        walk(client, "jeune", YOUTH_STEPS)
        data = {"consentement": "y", "csrf_token": csrf_token(client)}
        pages.fetch(client, "trop-de-demandes", "/jeune/verifier", data, status=429)
    finally:
        app.config["LIMIT_DEMANDES"] = saved
        app.config["SENT_AGAIN_HOURS"] = 0


def test_every_page_is_valid_html(app, tmp_path):
    command = vnu_command()
    server_error_route(app)
    pages = Pages()
    public_pages(app, pages)
    youth_pages(app, pages)
    mentor_pages(app, pages)
    suivi_pages(app, pages)

    statistics_pages(app, pages)

    espace_pages(app, pages)
    espace_demandes_pages(app, pages)
    admin_pages(app, pages)
    limit_pages(app, pages)
    # These two change the database (catalogue emptied, then a postal code gone): last.
    waiting_list_page(app, pages)
    stale_check_page(app, pages)
    checked = len(pages.documents)
    pages.add(*CANARY)
    files = pages.write(tmp_path)

    messages = run_vnu(command, files)
    # "error", or "non-document-error" (a file vnu could not read): both fail.
    errors = [m for m in messages if m["type"] != "info"]
    canary = [m for m in errors if Path(m.get("url", "")).name == CANARY[0]]
    assert canary and "hx-get" in canary[0]["message"], messages
    errors = [m for m in errors if m not in canary]
    report = "\n".join(
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
        f"\n    {m.get('extract', '').strip()}"
        for m in errors
    )
    assert not errors, f"vnu : {len(errors)} erreur(s) sur {checked} documents :\n{report}"
