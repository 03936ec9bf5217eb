"""The operator's back office (/admin/): access for every route and role, the catalogue
forms and import, accounts, failed e-mails, the waiting list, late leads, the matcher
simulator and the coverage view."""

import contextlib
import datetime as dt
import html
import io
from pathlib import Path

import pytest
from helpers import CSRF_RE, YOUTH_STEPS, csrf_token, log_in, submit, walk

import models
from domain import workdays
from models import Association, Lead, Message, Programme, Utilisateur
from services import catalogue, coverage

DEMO = Path(__file__).resolve().parent.parent / "data" / "catalogue-demo.csv"

# Every route: (method, URL). {a}, {p}, {u}, {m}, {l} are filled from the database.
ROUTES = [
    ("GET", "/admin/"),
    ("GET", "/admin/associations"),
    ("GET", "/admin/associations/nouvelle"),
    ("POST", "/admin/associations/nouvelle"),
    ("GET", "/admin/associations/{a}"),
    ("POST", "/admin/associations/{a}"),
    ("POST", "/admin/associations/{a}/activation"),
    ("POST", "/admin/associations/{a}/desactivation"),
    ("GET", "/admin/programmes"),
    ("GET", "/admin/programmes/nouveau"),
    ("POST", "/admin/programmes/nouveau"),
    ("GET", "/admin/programmes/{p}"),
    ("POST", "/admin/programmes/{p}"),
    ("POST", "/admin/programmes/{p}/pause"),
    ("POST", "/admin/programmes/{p}/reprise"),
    ("POST", "/admin/programmes/{p}/activation"),
    ("POST", "/admin/programmes/{p}/desactivation"),
    ("GET", "/admin/import"),
    ("POST", "/admin/import"),
    ("GET", "/admin/comptes"),
    ("POST", "/admin/comptes/{u}/activation"),
    ("POST", "/admin/comptes/{u}/desactivation"),
    ("GET", "/admin/messages"),
    ("POST", "/admin/messages/{m}/reessai"),
    ("GET", "/admin/liste-attente"),
    ("POST", "/admin/liste-attente/{l}/orienter"),
    ("GET", "/admin/retards"),
    ("GET", "/admin/simulateur"),
    ("GET", "/admin/couverture"),
]


@contextlib.contextmanager
def data():
    """A connection for direct queries, closed before the next request (which opens its own)."""
    opened = models.db.is_closed()
    if opened:
        models.db.connect()
    try:
        yield
    finally:
        if opened:
            models.db.close()


def make_admin(email="admin@example.org"):
    return Utilisateur.create(email=email, role="admin", association=None)


def make_staff(role, email=None):
    association = Association.select().order_by(Association.id).first()
    return Utilisateur.create(
        email=email or f"{role}@example.org", role=role, association=association
    )


def token(client, url="/admin/associations/nouvelle"):
    return CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)


def waiting_lead(client):
    """A youth sent through the questionnaire while no programme is open."""
    with models.db.atomic():
        Programme.update(actif=False, updated_at=models.now()).execute()
    walk(client, "jeune", YOUTH_STEPS)
    location = submit(client, "jeune").headers["Location"]
    return Lead.get(Lead.reference == location.rsplit("/", 1)[1])


def failed_message():
    return Message.create(
        to="staff@example.org",
        subject="Nouvelle demande",
        body="…",
        kind="nouvelle_demande",
        status="echec",
        attempts=288,
        last_error="Connection refused",
    )


def fill(url, db_objects):
    return url.format(**db_objects)


@pytest.fixture
def objects(app):
    with data():
        return _objects()


def _objects():
    association = Association.select().order_by(Association.id).first()
    programme = Programme.select().order_by(Programme.id).first()
    other = Utilisateur.create(email="autre@example.org", role="membre", association=association)
    message = failed_message()
    lead = Lead.create(
        reference="J-TEST2",
        kind="jeune",
        suivi_token="t" * 40,
        answers={},
        waiting_list=True,
    )
    return dict(a=association.slug, p=programme.slug, u=other.id, m=message.id, l=lead.reference)


# --- Access -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_anonymous_visitors_go_to_the_login_page(client, objects, method, url):
    # With a valid token: the guard, not the CSRF check, answers.
    form = {"csrf_token": csrf_token(client)} if method == "POST" else None
    response = client.open(fill(url, objects), method=method, data=form)
    assert response.status_code == 302
    assert "/espace/connexion" in response.headers["Location"]


@pytest.mark.parametrize("role", ["membre", "responsable"])
def test_staff_of_an_association_get_404_everywhere(client, objects, role):
    with data():
        log_in(client, make_staff(role))
    form = {"csrf_token": csrf_token(client)}
    for method, url in ROUTES:
        response = client.open(fill(url, objects), method=method, data=form)
        assert response.status_code == 404, (method, url)


def test_admin_opens_every_page(client, objects):
    with data():
        log_in(client, make_admin())
    for method, url in ROUTES:
        if method == "GET":
            response = client.get(fill(url, objects))
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == "no-store"


def test_every_post_needs_the_csrf_token(client, objects):
    with data():
        log_in(client, make_admin())
    for method, url in ROUTES:
        if method == "POST":
            response = client.post(fill(url, objects), data={})
            assert response.status_code == 400, url


# --- Helpers for the forms ----------------------------------------------------------------------
@pytest.fixture
def admin_client(client, app):
    with data():
        log_in(client, make_admin())
    return client


def post(client, url, form, files=None):
    payload = dict(form, csrf_token=token(client))
    if files:
        payload.update(files)
    return client.post(url, data=payload)


def as_post(values):
    """A form's data (data_of) as a browser posts it: ticked boxes send "y", unticked
    ones nothing."""
    posted = {}
    for name, value in values.items():
        if value is True:
            posted[name] = "y"
        elif value is False:
            continue
        else:
            posted[name] = value
    return posted


ASSOCIATION = {
    "association_slug": "mentorat-test",
    "association_nom": "Mentorat Test",
    "association_description": "Démonstration.",
    "association_site": "https://mentorat-test.example.org",
    "association_email": "contact@mentorat-test.example.org",
    "association_telephone": "01 99 00 09 09",
    "association_delai_recontact": "4",
    "association_active": "y",
}


def programme_form(**changes):
    with data():
        association = Association.select().order_by(Association.id).first()
    form = {
        "association": str(association.id),
        "programme_slug": "programme-test",
        "programme_nom": "Programme test",
        "programme_description": "",
        "publics": ["jeunes"],
        "besoins": ["orientation", "emploi"],
        "age_min": "16",
        "age_max": "25",
        "departements": "69, 01",
        "communes": "",
        "regions": "",
        "format": "individuel",
        "capacite_mensuelle": "20",
        "programme_actif": "y",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


# --- Associations -------------------------------------------------------------------------------
def test_admin_creates_an_association(admin_client):
    response = post(admin_client, "/admin/associations/nouvelle", ASSOCIATION)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/associations")
    with data():
        created = Association.get(Association.slug == "mentorat-test")
    assert created.nom == "Mentorat Test"
    assert created.telephone == "+33199000909"  # E.164, as the file loader stores it
    assert created.delai_recontact == 4 and created.actif
    page = admin_client.get("/admin/associations").get_data(as_text=True)
    assert "Association « Mentorat Test » créée." in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"association_nom": ""}, "association_nom", "Cette information est obligatoire"),
        ({"association_slug": "Pas Un Slug"}, "association_slug", "n'est pas un identifiant"),
        ({"association_site": "ftp://x"}, "association_site", "n'est pas une adresse de site"),
        ({"association_email": "nope"}, "association_email", "n'est pas une adresse e-mail"),
        ({"association_telephone": "12"}, "association_telephone", "numéro de téléphone"),
        ({"association_delai_recontact": "31"}, "association_delai_recontact", "entre 1 et 30"),
        ({"association_delai_recontact": "x"}, "association_delai_recontact", "nombre entier"),
        ({"association_slug": "savoirs-partages"}, "association_slug", "déjà pris"),
    ],
)
def test_a_bad_association_is_refused_in_french(admin_client, changes, field, message):
    with data():
        before = Association.select().count()
    response = post(admin_client, "/admin/associations/nouvelle", dict(ASSOCIATION, **changes))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Il y a un problème" in page
    assert f'id="{field}-error"' in page
    assert message in page.split(f'id="{field}-error"')[1][:300]
    with data():
        assert Association.select().count() == before


def test_admin_edits_an_association_and_the_matcher_sees_it(admin_client):
    with data():
        association = Association.select().order_by(Association.id).first()
        values = as_post(staff_forms_data(association))
        catalogue.snapshot()
    values.update(association_nom="Nouveau nom", association_slug="ignored-slug")
    response = post(admin_client, f"/admin/associations/{association.slug}", values)
    assert response.status_code == 303
    with data():
        edited = Association.get_by_id(association.id)
        assert edited.nom == "Nouveau nom"
        assert edited.slug == association.slug  # the slug keys the file: never changed
        names = {p.association_nom for p in catalogue.snapshot() if p.association_id == edited.id}
    assert names == {"Nouveau nom"}


def staff_forms_data(association):
    from forms import admin as admin_forms

    return admin_forms.AssociationForm.data_of(association)


def test_a_bad_edit_saves_nothing(admin_client):
    with data():
        association = Association.select().order_by(Association.id).first()
        values = as_post(staff_forms_data(association))
    values["association_delai_recontact"] = "0"
    response = post(admin_client, f"/admin/associations/{association.slug}", values)
    assert response.status_code == 422
    with data():
        assert Association.get_by_id(association.id).updated_at == association.updated_at


def test_deactivating_an_association_removes_its_programmes_from_the_matcher(admin_client):
    with data():
        association = Association.select().order_by(Association.id).first()
        assert any(p.association_id == association.id for p in catalogue.snapshot().programmes)
    url = f"/admin/associations/{association.slug}/desactivation"
    assert post(admin_client, url, {}).status_code == 303
    with data():
        assert not Association.get_by_id(association.id).actif
        open_ids = {p.association_id for key in catalogue.snapshot().index.values() for p in key}
    assert association.id not in open_ids
    assert (
        post(admin_client, f"/admin/associations/{association.slug}/activation", {}).status_code
        == 303
    )
    with data():
        assert Association.get_by_id(association.id).actif


def test_unknown_slugs_are_404(admin_client):
    assert admin_client.get("/admin/associations/inconnue").status_code == 404
    assert admin_client.get("/admin/programmes/inconnu").status_code == 404
    assert post(admin_client, "/admin/programmes/inconnu/pause", {}).status_code == 404


# --- Programmes ---------------------------------------------------------------------------------
def test_admin_creates_a_programme(admin_client):
    response = post(admin_client, "/admin/programmes/nouveau", programme_form())
    assert response.status_code == 303, response.get_data(as_text=True)
    with data():
        created = Programme.get(Programme.slug == "programme-test")
        assert created.departements == ["01", "69"]
        assert created.besoins == ["orientation", "emploi"]
        assert created.age_min == 16 and created.capacite_mensuelle == 20
        assert created.id in {p.id for p in catalogue.snapshot()}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"publics": None}, "publics", "Cette information est obligatoire"),
        ({"besoins": ["cuisine"]}, "besoins", "Choisissez parmi les valeurs proposées"),
        ({"age_min": "20", "age_max": "17"}, "age_max", "inférieur à l'âge minimum"),
        ({"age_min": "9"}, "age_min", "entre 11 et 30"),
        ({"departements": ""}, "zone_nationale", "ne couvre aucun territoire"),
        ({"departements": "1"}, "departements", "code de département connu"),
        ({"communes": "99999"}, "communes", "code INSEE"),
        ({"communes": "69999"}, "communes", "n'est pas une commune connue"),
        ({"mentor_secteurs": ["numerique"]}, "mentor_secteurs", "n'accueille pas de mentors"),
        ({"capacite_mensuelle": "-1"}, "capacite_mensuelle", "entre 0 et 100000"),
        ({"association": "999999"}, "association", "Choisissez l'association"),
        ({"format": "geant"}, "format", "Choisissez parmi les valeurs proposées"),
        ({"programme_slug": "savoirs-partages-college"}, "programme_slug", "déjà pris"),
    ],
)
def test_a_bad_programme_is_refused_in_french(admin_client, changes, field, message):
    with data():
        before = Programme.select().count()
    response = post(admin_client, "/admin/programmes/nouveau", programme_form(**changes))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert f'id="{field}-error"' in page, page[:3000]
    assert message in page.split(f'id="{field}-error"')[1][:300]
    with data():
        assert Programme.select().count() == before


def test_the_form_and_the_file_give_the_same_message():
    """One set of rules: the form's errors are the loader's."""
    cells = dict.fromkeys(catalogue.PROGRAMME_COLUMNS, "")
    cells.update(publics="jeunes", besoins="emploi", capacite_mensuelle="3", programme_nom="X")
    _, problems = catalogue.check_programme(cells)
    assert [(p.field, p.message) for p in problems] == [
        (
            "zone_nationale",
            "le programme ne couvre aucun territoire (zone_nationale, regions, departements, "
            "communes) et n'accompagne pas à distance (a_distance)",
        )
    ]


def test_admin_edits_a_programme_keeping_what_the_form_does_not_show(admin_client):
    from forms import admin as admin_forms

    with data():
        programme = Programme.select().order_by(Programme.id).first()
        values = as_post(admin_forms.AdminProgrammeForm.data_of(programme))
    values.update(programme_nom="Nom changé", capacite_mensuelle="7")
    response = post(admin_client, f"/admin/programmes/{programme.slug}", values)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    with data():
        edited = Programme.get_by_id(programme.id)
    assert (edited.nom, edited.capacite_mensuelle) == ("Nom changé", 7)
    assert edited.departements == programme.departements
    assert edited.profil_mentor == programme.profil_mentor
    assert edited.updated_at > programme.updated_at


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [("pause", "en_pause", True), ("desactivation", "actif", False)],
)
def test_pause_and_deactivation_take_a_programme_out_of_the_matcher(
    admin_client, action, field, value
):
    with data():
        programme = Programme.select().order_by(Programme.id).first()
    response = post(admin_client, f"/admin/programmes/{programme.slug}/{action}", {})
    assert response.status_code == 303
    with data():
        assert getattr(Programme.get_by_id(programme.id), field) is value
        indexed = {p.id for found in catalogue.snapshot().index.values() for p in found}
    assert programme.id not in indexed
    back = {"pause": "reprise", "desactivation": "activation"}[action]
    assert post(admin_client, f"/admin/programmes/{programme.slug}/{back}", {}).status_code == 303
    with data():
        assert getattr(Programme.get_by_id(programme.id), field) is not value
        indexed = {p.id for found in catalogue.snapshot().index.values() for p in found}
    assert programme.id in indexed


# --- Catalogue import ---------------------------------------------------------------------------
def upload(client, content, name="catalogue.csv"):
    return post(client, "/admin/import", {}, files={"fichier": (io.BytesIO(content), name)})


def test_import_of_the_demo_catalogue_reports_what_changed(admin_client):
    content = DEMO.read_bytes()
    changed = content.replace(b"Savoirs Partag\xc3\xa9s;", b"Savoirs Partag\xc3\xa9s bis;")
    response = upload(admin_client, changed)
    assert response.status_code == 303
    page = admin_client.get("/admin/import").get_data(as_text=True)
    assert "Catalogue importé." in page and "1 modifiée(s)" in page
    with data():
        assert Association.get(Association.slug == "savoirs-partages").nom.endswith(" bis")


def test_import_errors_name_line_and_field_and_load_nothing(admin_client):
    lines = DEMO.read_bytes().decode("utf-8").splitlines()
    lines[1] = lines[1].replace(";individuel;", ";geant;")
    lines[3] = lines[3].replace(";oui;", ";peut-etre;", 1)
    lines[2] = lines[2].replace("Savoirs", "Savants", 1)  # otherwise valid: not loaded
    response = upload(admin_client, "\n".join(lines).encode())
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "rien n'a été importé" in page
    assert "ligne 2, champ format : « geant » n'est pas une valeur possible" in page
    assert "ligne 4, champ association_active" in page
    with data():
        assert not Association.select().where(Association.nom.startswith("Savants")).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "le fichier est vide"),
        (b"a,b,c\n1,2,3\n", "le séparateur des colonnes doit être le point-virgule"),
        ("é".encode("latin-1") * 3, "le fichier n'est pas en UTF-8"),
    ],
)
def test_import_of_a_file_that_is_no_catalogue(admin_client, content, message):
    response = upload(admin_client, content)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))


def test_import_without_a_file(admin_client):
    response = post(admin_client, "/admin/import", {})
    assert response.status_code == 422
    assert "Choisissez le fichier du catalogue" in response.get_data(as_text=True)


def test_import_accepts_a_file_bigger_than_the_app_wide_limit(admin_client, app):
    """The demo catalogue grown past MAX_CONTENT_LENGTH (64 KB): accepted here only."""
    content = DEMO.read_bytes()
    header, *rows = content.decode("utf-8").splitlines()
    # Six copies, each programme slug made distinct.
    body = [header] + [
        ";".join(cells[:8] + [f"{cells[8]}-{copy}"] + cells[9:])
        for copy in range(6)
        for cells in (row.split(";") for row in rows)
    ]
    data_bytes = "\n".join(body).encode()
    assert len(data_bytes) > app.config["MAX_CONTENT_LENGTH"]
    assert upload(admin_client, data_bytes).status_code == 303
    with data():
        assert Programme.select().where(Programme.slug.endswith("-5")).count() == len(rows)
    # The limit still holds elsewhere.
    big = {"commune": "x" * app.config["MAX_CONTENT_LENGTH"]}
    assert post(admin_client, "/admin/associations/nouvelle", big).status_code == 413


def test_import_refuses_a_file_bigger_than_its_own_limit(admin_client):
    response = upload(admin_client, b"x" * (2 * 1024 * 1024 + 1))
    assert response.status_code == 413


# --- Accounts -----------------------------------------------------------------------------------
def test_accounts_list_shows_association_role_and_last_login(admin_client):
    with data():
        staff = make_staff("responsable")
        staff.last_login_at = dt.datetime(2026, 11, 30, 9, 15)
        staff.save()
    page = admin_client.get("/admin/comptes").get_data(as_text=True)
    row = page.split("responsable@example.org")[1].split("</tr>")[0]
    assert f"<td>{html.escape(staff.association.nom, quote=True)}</td>" in row
    assert "Responsable" in row and "30/11/2026 09:15" in row


def test_deactivating_an_account_ends_its_sessions(app, admin_client):
    with data():
        staff = make_staff("membre")
    staff_client = app.test_client()
    log_in(staff_client, staff)
    response = post(admin_client, f"/admin/comptes/{staff.id}/desactivation", {})
    assert response.status_code == 303
    with data():
        row = Utilisateur.get_by_id(staff.id)
    assert not row.actif and row.session_epoch == staff.session_epoch + 1
    assert post(admin_client, f"/admin/comptes/{staff.id}/activation", {}).status_code == 303
    with data():
        row = Utilisateur.get_by_id(staff.id)
        assert row.actif
        # Reactivated, the old cookie still carries the old epoch: it stays logged out.
        from services import accounts

        assert accounts.load_user(f"{staff.id}:{staff.session_epoch}") is None


def test_an_admin_cannot_deactivate_their_own_account(client, app):
    with data():
        admin = make_admin()
    log_in(client, admin)
    response = post(client, f"/admin/comptes/{admin.id}/desactivation", {})
    assert response.status_code == 303
    with data():
        assert Utilisateur.get_by_id(admin.id).actif
    assert "votre propre compte" in client.get("/admin/comptes").get_data(as_text=True)


# --- Failed e-mails -----------------------------------------------------------------------------
def test_failed_messages_are_listed_and_retried(admin_client):
    with data():
        message = failed_message()
        Message.create(to="x@example.org", subject="En attente", body="…", kind="x")
    page = admin_client.get("/admin/messages").get_data(as_text=True)
    assert "1 e-mail(s) en attente d'envoi" in page
    assert "Connection refused" in page and "En attente" not in page
    response = post(admin_client, f"/admin/messages/{message.id}/reessai", {})
    assert response.status_code == 303
    with data():
        retried = Message.get_by_id(message.id)
    assert (retried.status, retried.attempts, retried.claimed_by) == ("a_envoyer", 0, "")
    assert retried.next_attempt_at <= models.now()
    assert "Le message sera envoyé de nouveau." in admin_client.get("/admin/messages").get_data(
        as_text=True
    )
    # A second retry changes nothing; an unknown message is a 404.
    assert post(admin_client, f"/admin/messages/{message.id}/reessai", {}).status_code == 303
    assert post(admin_client, "/admin/messages/999999/reessai", {}).status_code == 404


# --- Waiting list -------------------------------------------------------------------------------
def test_orienter_runs_the_matcher_again_once_the_catalogue_changed(app, admin_client):
    youth = app.test_client()
    with data():
        lead = waiting_lead(youth)
        assert lead.waiting_list and lead.association_id is None
    page = admin_client.get("/admin/liste-attente").get_data(as_text=True)
    assert lead.reference in page
    # Nothing open yet: the lead stays where it is.
    response = post(admin_client, f"/admin/liste-attente/{lead.reference}/orienter", {})
    assert response.status_code == 303
    with data():
        assert Lead.get_by_id(lead.id).waiting_list
    assert "Aucun programme ne convient encore" in admin_client.get(
        "/admin/liste-attente"
    ).get_data(as_text=True)
    with data():
        Programme.update(actif=True, updated_at=models.now()).execute()
    response = post(admin_client, f"/admin/liste-attente/{lead.reference}/orienter", {})
    assert response.status_code == 303
    with data():
        oriented = Lead.get_by_id(lead.id)
        assert not oriented.waiting_list and oriented.association_id is not None
        assert models.Orientation.select().where(models.Orientation.lead == lead).count() >= 1
        # The timeline says who oriented it; the association's staff are told.
        event = (
            models.Evenement.select()
            .where(models.Evenement.lead == lead)
            .order_by(models.Evenement.id.desc())
            .first()
        )
        assert (event.kind, event.author) == ("orientation", "admin@example.org")
    page = admin_client.get("/admin/liste-attente").get_data(as_text=True)
    assert f"La demande {lead.reference} est orientée vers" in page
    assert f"<td>{lead.reference}</td>" not in page


# --- Late leads ---------------------------------------------------------------------------------
def test_late_leads_are_counted_per_association_after_the_promised_delay(admin_client):
    with data():
        association = Association.get(Association.slug == "savoirs-partages")
        old = models.now() - dt.timedelta(days=30)
        for i, (status, created_at) in enumerate(
            [("nouvelle", old), ("nouvelle", old), ("contactee", old), ("nouvelle", models.now())]
        ):
            Lead.create(
                reference=f"J-LATE{i}",
                kind="jeune",
                suivi_token=f"late-{i}",
                answers={},
                association=association,
                status=status,
                created_at=created_at,
                routed_at=created_at,
                due_on=workdays.due_day(created_at, association.delai_recontact),
                prenom="Secret",
            )
    page = admin_client.get("/admin/retards").get_data(as_text=True)
    row = page.split(f"<td>{association.nom}</td>")[1].split("</tr>")[0]
    assert "<td>2</td>" in row
    assert "J-LATE0" in row and "J-LATE1" in row and "J-LATE2" not in row and "J-LATE3" not in row
    assert "30 jour(s)" in row
    assert "Secret" not in page  # reference and age only


# --- Simulator ----------------------------------------------------------------------------------
YOUTH_ANSWERS = {
    "kind": "jeune",
    "commune": "Lyon (69003)",
    "rencontre": "les_deux",
    "age": "17",
    "situation_jeune": "lycee_general",
    "besoin": "orientation",
    "publics": ["qpv"],
}


def test_simulator_shows_proposals_with_scores_reasons_and_every_other_gate(admin_client):
    response = admin_client.get("/admin/simulateur", query_string=YOUTH_ANSWERS)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Rang 1, score" in page
    assert "Elle intervient dans votre" in page
    assert "Détail du score\xa0: territoire" in page
    with data():
        total = Programme.select().count()
    others = page.split("Les autres programmes (")[1]
    shown = int(others.split(")")[0])
    proposals = page.count("Rang ")
    assert shown + proposals == total
    # The gates of the excluded programmes, in words.
    assert "Âge : 17 ans, le programme accueille les jeunes de 11 à 15 ans." in others


def test_simulator_for_a_mentor(admin_client):
    answers = {
        "kind": "mentor",
        "commune": "69003",
        "rencontre": "distance",
        "tranche_age": "25_49",
        "situation_mentor": "salarie",
        "besoins": ["emploi"],
        "secteur": "numerique",
    }
    page = html.unescape(
        admin_client.get("/admin/simulateur", query_string=answers).get_data(as_text=True)
    )
    assert "Rang 1" in page or "liste d'attente" in page
    assert "Rang 1, score" in page
    assert "Besoin « stage, alternance ou premier emploi » non couvert" in page


def test_simulator_explains_a_paused_programme(admin_client):
    with data():
        programme = Programme.get(Programme.slug == "savoirs-partages-lycee")
        programme.en_pause = True
        programme.save()
    page = html.unescape(
        admin_client.get("/admin/simulateur", query_string=YOUTH_ANSWERS).get_data(as_text=True)
    )
    row = page.split(f"<td>{programme.nom}</td>")[1].split("</tr>")[0]
    assert "Le programme est en pause." in row


def test_simulator_asks_to_pick_among_several_communes(admin_client):
    answers = dict(YOUTH_ANSWERS, commune="Saint-Denis")
    response = admin_client.get("/admin/simulateur", query_string=answers)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Plusieurs communes correspondent" in page
    assert "commune=Saint-Denis+(93)&amp;" in response.get_data(as_text=True)


def test_simulator_resolves_the_commune_as_the_questionnaire_does(admin_client):
    # "Évry" is a village of the Yonne, but most who type it mean Évry-Courcouronnes.
    response = admin_client.get(
        "/admin/simulateur", query_string=dict(YOUTH_ANSWERS, commune="Évry")
    )
    assert response.status_code == 422
    assert "Évry-Courcouronnes" in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": ""}, "Choisissez un ou une jeune, ou un ou une mentor"),
        ({"commune": "Atlantide"}, "Indiquez une commune de France"),
        ({"age": "9"}, "Indiquez un âge de 11 à 30 ans"),
        ({"age": "dix"}, "Indiquez l'âge en chiffres"),
        ({"besoin": "cuisine"}, "Choisissez le besoin"),
        ({"publics": ["astronaute"]}, "Choisissez parmi les valeurs proposées"),
    ],
)
def test_simulator_bad_answers(admin_client, changes, message):
    response = admin_client.get("/admin/simulateur", query_string=dict(YOUTH_ANSWERS, **changes))
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))


def test_simulator_without_answers_shows_the_form_only(admin_client):
    page = admin_client.get("/admin/simulateur").get_data(as_text=True)
    assert "Il y a un problème" not in page and "Rang 1" not in page


# --- Coverage -----------------------------------------------------------------------------------
def test_coverage_shows_the_holes_and_is_computed_once_per_catalogue_version(admin_client):
    page = html.unescape(admin_client.get("/admin/couverture").get_data(as_text=True))
    assert "département(s) sur" in page
    assert "aucun programme" in page or "à distance seulement" in page
    with data():
        first = coverage.departement_coverage()
        assert coverage.departement_coverage() is first  # cached
        programme = Programme.select().first()
        programme.capacite_mensuelle += 1
        programme.save()
        assert coverage.departement_coverage() is not first  # the catalogue moved


def test_coverage_by_age_class_gives_the_states_of_every_age(db):
    places = coverage.coverage_places()[:60]
    current = catalogue.snapshot()
    by = coverage._besoin_departement_band
    every_age = coverage.coverage(places, current, coverage._youths_any_meeting, by=by)
    classes = coverage.coverage(places, current, coverage._youths_by_age_class(current), by=by)
    assert classes.total < every_age.total
    assert coverage.coverage_by_departement(classes) == coverage.coverage_by_departement(every_age)


def test_coverage_sees_a_new_national_programme(admin_client):
    with data():
        before = {d.code: d for d in coverage.departement_coverage()}
    form = programme_form(
        programme_slug="partout",
        besoins=["scolarite", "orientation", "emploi", "entrepreneuriat"],
        age_min="11",
        age_max="30",
        departements="",
        zone_nationale="y",
    )
    assert post(admin_client, "/admin/programmes/nouveau", form).status_code == 303
    with data():
        after = coverage.departement_coverage()
    unserved = coverage.UNSERVED
    assert any(
        state == unserved for d in before.values() for row in d.cells.values() for _, state in row
    )
    assert all(state != unserved for d in after for row in d.cells.values() for _, state in row)


# --- Fixed number of queries on the list pages --------------------------------------------------
def count_queries(client, url):
    queries = []
    original = models.db.obj.execute_sql

    def counting(sql, *args, **kwargs):
        queries.append(sql)
        return original(sql, *args, **kwargs)

    models.db.obj.execute_sql = counting
    try:
        assert client.get(url).status_code == 200
    finally:
        del models.db.obj.execute_sql
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/associations",
        "/admin/programmes",
        "/admin/comptes",
        "/admin/messages",
        "/admin/liste-attente",
        "/admin/retards",
    ],
)
def test_list_pages_run_a_fixed_number_of_queries(admin_client, url):
    before = count_queries(admin_client, url)
    with data():
        association = Association.select().first()
        for i in range(5):
            Utilisateur.create(email=f"m{i}@example.org", role="membre", association=association)
            failed_message()
            Lead.create(
                reference=f"J-Q{i}",
                kind="jeune",
                suivi_token=f"q{i}",
                answers={},
                waiting_list=True,
            )
            Lead.create(
                routed_at=dt.datetime(2026, 1, 1),
                due_on=dt.date(2026, 1, 8),
                reference=f"J-R{i}",
                kind="jeune",
                suivi_token=f"r{i}",
                answers={},
                association=association,
                created_at=dt.datetime(2026, 1, 1),
            )
    assert count_queries(admin_client, url) == before
