"""The TOTP second factor: enrolment (QR code as inline SVG, recovery codes shown once and
stored hashed), the login's code step (a code is accepted once, throttled like the
password), required for operators and for an association that asks, journaled."""

import re

import pyotp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_comptes import PASSWORD, association, login, make_user, post, token_for

import models
from services import accounts, second_factor

PAGE = "/espace/compte/double-authentification"


def enrol(client):
    """Enrol the logged-in user through the pages; returns (secret, recovery codes)."""
    assert post(client, PAGE + "/commencer", page=PAGE).status_code == 303
    html = client.get(PAGE).get_data(as_text=True)
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', html).group(1)
    assert "<svg" in html and "style=" not in html.partition("<svg")[2].partition("</svg>")[0]
    response = post(client, PAGE + "/activer", {"code": pyotp.TOTP(secret).now()}, page=PAGE)
    assert response.status_code == 200
    codes = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", response.get_data(as_text=True))
    return secret, codes


def code_step(client, code, ip="10.0.0.1"):
    return client.post(
        "/espace/connexion/code",
        data={"code": code, "csrf_token": token_for(client, "/espace/connexion/code")},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_enrolment_then_login_needs_a_code_accepted_once(app, client):
    user = make_user()
    login(client, user.email, PASSWORD)
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    row = models.Utilisateur.get_by_id(user.id)
    assert row.totp_secret == secret
    stored = {c.code_hash for c in row.recovery_codes}
    assert not stored & set(codes) and len(stored) == 10  # hashed, never in clear
    post(client, "/espace/deconnexion")

    other = app.test_client()
    response = login(other, user.email, PASSWORD)
    assert response.headers["Location"] == "/espace/connexion/code"
    assert other.get("/espace/compte").status_code == 302  # not logged in yet
    assert code_step(other, "000000").status_code == 422
    # The code the enrolment used (same time step) is spent: the one after is needed.
    spent = pyotp.TOTP(secret).now()
    assert code_step(other, spent).status_code == 422
    models.Utilisateur.update(totp_last_step=models.Utilisateur.totp_last_step - 2).execute()
    assert code_step(other, pyotp.TOTP(secret).now()).status_code == 303
    assert other.get("/espace/compte").status_code == 200
    kinds = [e.kind for e in models.SecurityEvent.select().order_by(models.SecurityEvent.id)]
    assert "double_auth_activee" in kinds and kinds.count("double_auth_echec") == 2
    assert kinds[-1] == "connexion"


def test_a_recovery_code_works_once(app, client):
    user = make_user()
    login(client, user.email, PASSWORD)
    _, codes = enrol(client)
    for expected in (303, None):
        other = app.test_client()
        login(other, user.email, PASSWORD)
        response = code_step(other, codes[0].lower().replace("-", " "))
        if expected:
            assert response.status_code == 303
        else:
            assert response.status_code == 422
    assert second_factor.recovery_codes_left(user) == 9
    assert (
        models.SecurityEvent.select()
        .where(models.SecurityEvent.kind == "code_secours_utilise")
        .count()
        == 1
    )


def test_the_code_step_is_throttled_like_the_password(app, client):
    user = make_user()
    login(client, user.email, PASSWORD)
    enrol(client)
    other = app.test_client()
    login(other, user.email, PASSWORD, ip="10.1.1.1")
    for _ in range(accounts.PAIR_LIMIT):
        assert code_step(other, "123456", ip="10.1.1.1").status_code == 422
    response = code_step(other, "123456", ip="10.1.1.1")
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_operators_must_enrol_before_anything_else(app, client):
    admin = models.Utilisateur.create(
        email="admin@example.org", role="admin", password_hash=accounts.hash_password(PASSWORD)
    )
    response = login(client, admin.email, PASSWORD)
    assert response.headers["Location"] == PAGE
    assert client.get("/admin/comptes").headers["Location"].endswith(PAGE)
    html = client.get(PAGE).get_data(as_text=True)
    assert "obligatoire pour votre compte" in html
    enrol(client)
    assert client.get("/admin/comptes").status_code == 200
    # Required: it cannot be removed.
    response = post(client, PAGE + "/desactiver", {"password": PASSWORD}, page=PAGE)
    assert response.status_code == 409
    assert models.Utilisateur.get_by_id(admin.id).totp_secret


def test_an_association_can_require_it_and_staff_may_remove_their_own(app, client):
    responsable = make_user("resp@example.org", role="responsable")
    member = make_user("membre@example.org")
    login(client, responsable.email, PASSWORD)
    response = post(
        client, "/espace/reglages/double-authentification", {"obligatoire": "y"}, "/espace/reglages"
    )
    assert response.status_code == 303
    assert association().double_authentification
    other = app.test_client()
    assert login(other, member.email, PASSWORD).headers["Location"] == PAGE
    assert other.get("/espace/").status_code == 302
    post(client, "/espace/reglages/double-authentification", {}, "/espace/reglages")
    assert not models.Association.get_by_id(responsable.association_id).double_authentification
    # Offered, not required: a member enrols and may remove it with the password.
    third = app.test_client()
    assert login(third, member.email, PASSWORD).status_code == 303
    enrol(third)
    wrong = post(third, PAGE + "/desactiver", {"password": "pas le bon"}, page=PAGE)
    assert wrong.status_code == 422
    assert post(third, PAGE + "/desactiver", {"password": PASSWORD}, page=PAGE).status_code == 303
    assert models.Utilisateur.get_by_id(member.id).totp_secret == ""
    assert (
        not models.RecoveryCode.select()
        .where(models.RecoveryCode.utilisateur == member.id)
        .exists()
    )
    kinds = {e.kind for e in models.SecurityEvent.select()}
    assert {"double_auth_reglage", "double_auth_activee", "double_auth_desactivee"} <= kinds


def test_a_wrong_enrolment_code_is_refused_in_french(app, client):
    make_user()
    login(client, "staff@example.org", PASSWORD)
    post(client, PAGE + "/commencer", page=PAGE)
    response = post(client, PAGE + "/activer", {"code": "12"}, page=PAGE)
    assert response.status_code == 422
    assert "Ce code n&#39;est pas valide" in response.get_data(as_text=True)
    assert models.Utilisateur.get(models.Utilisateur.email == "staff@example.org").totp_secret == ""


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=st.text(st.characters(codec="utf-8"), max_size=40))
def test_junk_at_the_code_forms_never_500(app, client, code):
    models.Utilisateur.delete().where(models.Utilisateur.email == "junk@example.org").execute()
    models.LoginCounter.delete().execute()
    user = make_user("junk@example.org", totp_secret=pyotp.random_base32())
    login(client, user.email, PASSWORD, ip="10.20.0.1")
    assert code_step(client, code, ip="10.20.0.1").status_code in (303, 422)
    models.Utilisateur.update(totp_secret="").where(models.Utilisateur.id == user.id).execute()
    log = app.test_client()
    login(log, user.email, PASSWORD, ip="10.20.0.2")
    post(log, PAGE + "/commencer", page=PAGE)
    assert post(log, PAGE + "/activer", {"code": code}, page=PAGE).status_code in (200, 422)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(st.characters(codec="utf-8"), max_size=40))
def test_junk_at_the_removal_and_rule_forms_never_500(app, client, value):
    responsable = models.Utilisateur.get_or_none(
        models.Utilisateur.email == "resp-junk@example.org"
    ) or make_user("resp-junk@example.org", role="responsable")
    models.LoginCounter.delete().execute()
    models.Association.update(double_authentification=False).execute()
    login(client, responsable.email, PASSWORD, ip="10.21.0.1")
    removal = post(client, PAGE + "/desactiver", {"password": value}, page=PAGE)
    assert removal.status_code in (303, 422)
    rule = post(
        client,
        "/espace/reglages/double-authentification",
        {"obligatoire": value},
        "/espace/reglages",
    )
    assert rule.status_code == 303
    association = models.Association.get_by_id(responsable.association_id)
    assert association.double_authentification is (value == "y")
