"""Answers that walk both questionnaires, and a client-side helper that posts
them with a real CSRF token, as a browser would; stored answers and submitted leads for
tests that start after the questionnaire."""

import re

import models
from domain import workdays
from services import demandes, drafts, territory

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

YOUTH_STEPS = [
    ("age", {"age": "17"}),
    ("situation", {"situation": "lycee_general"}),
    ("besoin", {"besoin": "orientation"}),
    ("commune", {"commune": "Lyon (69003)"}),
    ("situation-particuliere", {"situations": ["qpv", "boursier"]}),
    ("rencontre", {"rencontre": "les_deux"}),
    (
        "coordonnees",
        {
            "prenom": "Inès",
            "nom": "Martin",
            "email": "ines.martin@example.org",
            "telephone": "06 12 34 56 78",
            "contact_pref": "sms",
        },
    ),
]

PARENT_STEP = (
    "parent",
    {
        "parent_prenom": "Samia",
        "parent_nom": "Martin",
        "parent_telephone": "+33 6 98 76 54 32",
        "parent_email": "",
        "parent_accord": "y",
    },
)

MENTOR_STEPS = [
    ("situation", {"situation": "salarie"}),
    ("age", {"tranche_age": "25_49"}),
    ("experience", {"secteur": "numerique", "metier": "Développeuse"}),
    ("accompagnement", {"besoins": ["orientation", "emploi"], "publics": ["lyceens"]}),
    ("disponibilite", {"disponibilite": "2_4h", "modalite": "les_deux"}),
    ("commune", {"commune": "Lyon (69003)"}),
    (
        "coordonnees",
        {
            "prenom": "Paul",
            "nom": "Durand",
            "email": "paul.durand@example.org",
            "telephone": "01 23 45 67 89",
        },
    ),
]


def csrf_token(client, url="/jeune/age"):
    """A valid token for this client's session, read from a real page."""
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    return CSRF_RE.search(page).group(1)


def post(client, url, data, headers=None, token=None):
    data = dict(data, csrf_token=token or csrf_token(client))
    return client.post(url, data=data, headers=headers or {})


def walk(client, parcours, steps, headers=None):
    """Answer `steps` in order; every answer must be accepted (303)."""
    token = csrf_token(client)
    response = None
    for name, data in steps:
        response = post(client, f"/{parcours}/{name}", data, headers, token)
        assert response.status_code == 303, (name, response.get_data(as_text=True)[:2000])
    return response


def submit(client, parcours, headers=None):
    return post(client, f"/{parcours}/verifier", {"consentement": "y"}, headers)


def log_in(client, user):
    """Open a staff session for `user` (an Utilisateur) without the login page, as
    Flask-Login stores it; the login page itself has its own tests."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_epoch}"
        session["_fresh"] = True


# Cleaned answers as a draft stores them, for leads made without the questionnaire.
LYON_ANSWERS = {"commune": "69123", "code_postal": "69003", "commune_label": "Lyon (69003)"}
YOUTH_ANSWERS = dict(
    LYON_ANSWERS,
    age=17,
    situation="lycee_general",
    besoin="orientation",
    situations_particulieres=["qpv", "boursier"],
    accord_sensible=False,
    rencontre="les_deux",
    prenom="Inès",
    nom="Martin",
    email="ines.martin@example.org",
    telephone="+33612345678",
    contact_pref="sms",
)
MENTOR_ANSWERS = dict(
    LYON_ANSWERS,
    situation="salarie",
    tranche_age="25_49",
    secteur="numerique",
    metier="Développeuse",
    besoins=["orientation", "emploi"],
    publics=["lyceens"],
    disponibilite="2_4h",
    modalite="les_deux",
    prenom="Paul",
    nom="Durand",
    email="paul.durand@example.org",
    telephone="",
)
# What no staff e-mail may contain: the youth's name, e-mail and phone.
PERSONAL = ("Inès", "Martin", "ines.martin@example.org", "+33612345678", "06 12 34 56 78")


def submitted_lead(kind, answers):
    """A lead as submit leaves it: created, then oriented by the matcher."""
    place = territory.place(answers["commune"], answers["code_postal"])
    with models.write_transaction(durable=True):
        lead = drafts.create_lead(kind, answers, place)
        demandes.orient(lead, place=place)
    return models.Lead.get_by_id(lead.id)


def fresh(lead):
    return models.Lead.get_by_id(lead.id)


def arrived(lead, routed_at, **fields):
    """As if the lead had reached its association at `routed_at`: its promised day moves
    with it (the one due rule, from the association's delay now)."""
    row = models.Lead.get_by_id(lead if isinstance(lead, int) else lead.id)
    due = None
    if row.association_id is not None:
        due = workdays.due_day(routed_at, row.association.delai_recontact)
    models.Lead.update(routed_at=routed_at, due_on=due, **fields).where(
        models.Lead.id == row.id
    ).execute()
