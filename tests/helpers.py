"""Answers that walk both questionnaires, and a client-side helper that posts
them with a real CSRF token, as a browser would."""

import re

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
