"""The operator's back office (/admin/): access for every route and role, the catalogue
forms and import, accounts, failed e-mails, the waiting list, late leads, the matcher
simulator and the coverage view."""

import contextlib
import html

import pytest
from helpers import CSRF_RE, YOUTH_STEPS, csrf_token, log_in, submit, walk

import catalogue
import models
from models import Association, Lead, Message, Programme, Utilisateur

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
def test_anonymous_visitors_go_to_the_login_page(app, client, objects, method, url):
    if "espace.connexion" not in app.view_functions:
        pytest.skip("la page de connexion (branche comptes) n'est pas encore fusionnée")
    response = client.open(fill(url, objects), method=method)
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
    import staff_forms

    return staff_forms.AssociationForm.data_of(association)


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
    import staff_forms

    with data():
        programme = Programme.select().order_by(Programme.id).first()
        values = as_post(staff_forms.ProgrammeForm.data_of(programme))
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
