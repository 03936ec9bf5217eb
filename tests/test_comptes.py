"""Staff accounts at request level: login (one answer, throttled in the database across app
instances), logout and password change revoking sessions, reset and invitation links, the
account page, the settings (responsable only, own association only), the CLI."""

import contextlib
import datetime as dt
import functools
import re

import argon2
import pytest
from helpers import CSRF_RE, answer_link_requests, counted_queries, csrf_token, log_in

import models
from app import create_app
from services import accounts
from views.espace import account as connexion

PASSWORD = "une phrase de passe solide"
LOGIN = "/espace/connexion"


def association(slug=None):
    query = models.Association.select().order_by(models.Association.id)
    return query.where(models.Association.slug == slug).get() if slug else query.first()


def other_association():
    return models.Association.select().order_by(models.Association.id.desc()).first()


@functools.cache
def hashed(password):
    """One hash per password for the whole run: argon2id is slow on purpose."""
    return accounts.hash_password(password)


def make_user(email="staff@example.org", role="membre", assoc=None, password=PASSWORD, **kw):
    if role != "admin" and assoc is None:
        assoc = association()
    return models.Utilisateur.create(
        email=email,
        role=role,
        association=assoc if role != "admin" else None,
        password_hash=hashed(password) if password else "",
        **kw,
    )


def reload(row):
    return type(row).get_by_id(row.id)


def token_for(client, url=LOGIN):
    return csrf_token(client, url)


def login(client, email, password, ip="10.0.0.1", next_url=None):
    data = {"email": email, "password": password, "csrf_token": token_for(client)}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN, data=data, environ_base={"REMOTE_ADDR": ip})


def post(client, url, data=None, page="/espace/compte"):
    return client.post(url, data=dict(data or {}, csrf_token=token_for(client, page)))


def home(app, role):
    """Where `role` lands: the inbox or the operator's pages once they exist, else the
    account page (views.espace.account.home_url)."""
    with app.test_request_context():
        url = connexion.home_url(role)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    wanted = connexion.ADMIN_HOME if role == "admin" else connexion.STAFF_HOME
    assert url == (wanted if wanted in rules else "/espace/compte")
    return url


def without_token(html):
    return CSRF_RE.sub("", html)


def links_in(body):
    return re.findall(r"http://\S+", body)


# --- Passwords -----------------------------------------------------------------------


def test_password_policy():
    assert "12 caractères" in accounts.password_problem("court")
    assert "courant" in accounts.password_problem("QWERTY123456")
    assert "courant" in accounts.password_problem("aaaaaaaaaaaaaaaa")
    assert "adresse" in accounts.password_problem("camille.durand2024", "camille.durand@x.fr")
    assert accounts.password_problem("x" * 129 + "abcd")
    assert accounts.password_problem(PASSWORD, "camille@example.org") is None
    assert len(accounts.common_passwords()) > 19_000


def test_hashes_are_argon2id_and_rehashed_when_parameters_change(app, client):
    old = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user = make_user()
    models.Utilisateur.update(password_hash=old.hash(PASSWORD)).execute()
    assert login(client, user.email, PASSWORD).status_code == 303
    stored = reload(user).password_hash
    assert stored.startswith("$argon2id$") and not accounts.HASHER.check_needs_rehash(stored)
    assert stored != old.hash(PASSWORD) and reload(user).last_login_at is not None


# --- Login ---------------------------------------------------------------------------


def test_login_page_wording(client):
    html = client.get(LOGIN).get_data(as_text=True)
    for text in (
        "Connexion à l'espace association",
        "Adresse e-mail",
        "Mot de passe",
        "Se connecter",
        "Mot de passe oublié ?",
    ):
        assert text in html
    assert client.get(LOGIN).headers["Cache-Control"] == "no-store"


def test_login_lands_on_the_home_of_the_role(app, client):
    user = make_user()
    response = login(client, "  STAFF@example.org ", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/espace/"  # the inbox, the staff home
    assert client.get("/espace/compte").status_code == 200
    # An operator must set up the second factor first (test_second_factor.py), then
    # lands on the operator's pages.
    admin = make_user("admin@example.org", role="admin")
    other = app.test_client()
    location = login(other, admin.email, PASSWORD).headers["Location"]
    assert location == "/espace/compte/double-authentification"
    with other.session_transaction() as session:
        session.pop("mfa_must_enrol")
    assert other.get(home(app, "admin")).status_code in (200, 303)
    assert reload(user).last_login_at is not None


def test_one_answer_whether_the_account_exists_or_not(app, client):
    make_user()
    make_user("inactif@example.org", actif=False)
    make_user("invite@example.org", password=None)
    answers = []
    for email, password in (
        ("staff@example.org", "mauvais mot de passe"),
        ("personne@example.org", PASSWORD),
        ("inactif@example.org", PASSWORD),
        ("invite@example.org", ""),
        ("invite@example.org", "nimporte quoi du tout"),
        ("pas une adresse", PASSWORD),
    ):
        response = login(client, email, password, ip=f"10.1.0.{len(answers)}")
        html = response.get_data(as_text=True)
        if password:
            assert response.status_code == 422, email
            assert "Adresse e-mail ou mot de passe incorrect" in html
            answers.append(re.sub(r'value="[^"]*"', "", without_token(html)))
    assert len(set(answers)) == 1
    # Not logged in after any of them.
    assert client.get("/espace/compte").status_code == 302


def test_empty_fields_are_named(client):
    response = client.post(LOGIN, data={"csrf_token": token_for(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indiquez votre adresse e-mail" in html and "Indiquez votre mot de passe" in html


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/espace/compte?onglet=1", "/espace/compte?onglet=1"),
        ("//evil.example/x", "/espace/"),
        ("https://evil.example/", "/espace/"),
        ("/\\evil.example", "/espace/"),
        ("javascript:alert(1)", "/espace/"),
        ("/\nx", "/espace/"),
    ],
)
def test_next_goes_to_a_local_path_only(app, client, next_url, expected):
    make_user()
    response = login(client, "staff@example.org", PASSWORD, next_url=next_url)
    assert response.status_code == 303
    assert response.headers["Location"] == (expected or home(app, "membre"))


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in ("/espace/compte", "/espace/reglages"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/espace/connexion?next=")
    token = token_for(client)
    for url in (
        "/espace/compte",
        "/espace/reglages/profil",
        "/espace/reglages/programmes/1",
        "/espace/reglages/equipe/inviter",
        "/espace/reglages/equipe/1/desactiver",
    ):
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/espace/connexion")


def test_a_logged_in_user_opening_the_login_page_goes_home(app, client):
    log_in(client, make_user())
    assert client.get(LOGIN).headers["Location"] == "/espace/"


# --- Throttle ------------------------------------------------------------------------


def test_throttle_per_address_holds_across_two_app_instances(database_url):
    config = {"TESTING": True, "SECRET_KEY": "test-secret-key", "DATABASE_URL": database_url}
    first, second = create_app(config), create_app(config)
    with models.db.connection_context():
        make_user()
    a, b = first.test_client(), second.test_client()
    for number in range(accounts.PAIR_LIMIT):
        client = a if number % 2 else b
        assert login(client, "staff@example.org", "faux", ip="10.2.0.1").status_code == 422
    # The right password now, from the same address: refused, without saying whether it
    # was right.
    response = login(a, "staff@example.org", PASSWORD, ip="10.2.0.1")
    assert response.status_code == 429
    assert "Trop de tentatives de connexion : réessayez dans 15 minutes" in response.get_data(
        as_text=True
    )
    assert int(response.headers["Retry-After"]) > 14 * 60
    assert login(b, "STAFF@example.org", PASSWORD, ip="10.2.0.1").status_code == 429
    # An unknown address is throttled the same way (nothing tells it apart).
    for _ in range(accounts.PAIR_LIMIT):
        login(b, "personne@example.org", "faux", ip="10.2.2.1")
    assert login(a, "personne@example.org", "faux", ip="10.2.2.1").status_code == 429
    # 15 minutes later the address may try again.
    with models.db.connection_context():
        later = models.now() - accounts.PAIR_WINDOW
        models.LoginCounter.update(window_start=later).execute()
    assert login(a, "staff@example.org", PASSWORD, ip="10.2.0.1").status_code == 303
    models.db.close()


def test_a_stranger_on_another_address_cannot_lock_the_real_person_out(app, client):
    make_user()
    for _ in range(accounts.PAIR_LIMIT + 3):
        login(client, "staff@example.org", "faux", ip="10.3.0.1")
    other = app.test_client()
    assert login(other, "staff@example.org", PASSWORD, ip="10.3.0.2").status_code == 303


def test_a_distributed_attacker_is_slowed_progressively(app):
    user = make_user()
    t0 = models.now()
    for number in range(accounts.ACCOUNT_FREE):
        assert accounts.authenticate(user.email, "faux", f"10.4.0.{number}", t0) is None
    # Each further check waits 1, 2, 4 … seconds after the one before, from any address.
    with pytest.raises(accounts.Throttled) as waited:
        accounts.authenticate(user.email, PASSWORD, "10.4.1.1", t0)
    assert waited.value.wait == 1
    t = t0 + dt.timedelta(seconds=1)
    assert accounts.authenticate(user.email, "faux", "10.4.0.50", t) is None
    with pytest.raises(accounts.Throttled) as waited:
        accounts.authenticate(user.email, "faux", "10.4.0.51", t + dt.timedelta(seconds=1))
    assert waited.value.wait == 1
    t += dt.timedelta(seconds=2)
    assert accounts.authenticate(user.email, "faux", "10.4.0.52", t) is None
    # The delay stops growing at ACCOUNT_MAX_DELAY: the real person waits a minute at most.
    for number in range(20):
        t += dt.timedelta(seconds=accounts.ACCOUNT_MAX_DELAY)
        assert accounts.authenticate(user.email, "faux", f"10.5.0.{number}", t) is None
    with pytest.raises(accounts.Throttled) as waited:
        accounts.authenticate(user.email, PASSWORD, "10.4.1.1", t)
    assert waited.value.wait == accounts.ACCOUNT_MAX_DELAY
    t += dt.timedelta(seconds=accounts.ACCOUNT_MAX_DELAY)
    assert accounts.authenticate(user.email, PASSWORD, "10.4.1.1", t).id == user.id
    kinds = [e.kind for e in models.SecurityEvent.select().order_by(models.SecurityEvent.id)]
    assert kinds.count("echec_connexion") == accounts.ACCOUNT_FREE + 22
    assert kinds.count("verrouillage") == 1 and kinds[-1] == "connexion"


def test_a_success_clears_the_address_failures(app, client):
    make_user()
    for _ in range(accounts.PAIR_LIMIT - 1):
        login(client, "staff@example.org", "faux")
    assert login(client, "staff@example.org", PASSWORD).status_code == 303
    client.post("/espace/deconnexion", data={"csrf_token": token_for(client, "/espace/compte")})
    for _ in range(accounts.PAIR_LIMIT - 1):
        login(client, "staff@example.org", "faux")
    assert login(client, "staff@example.org", PASSWORD).status_code == 303


def test_a_reset_clears_the_account_counts(app, client):
    user = make_user()
    t0 = models.now()
    for number in range(accounts.ACCOUNT_FREE + accounts.PAIR_LIMIT):
        with contextlib.suppress(accounts.Throttled):
            accounts.authenticate(user.email, "faux", f"10.6.0.{number % 2}", t0)
    with pytest.raises(accounts.Throttled):
        accounts.authenticate(user.email, PASSWORD, "10.6.0.0", t0)
    user, why = accounts.use_token(
        reset_token(user, t0), accounts.RESET, "un nouveau secret sûr", t0
    )
    assert why is None
    assert accounts.authenticate(user.email, "un nouveau secret sûr", "10.6.0.0", t0).id == user.id
    assert not models.LoginCounter.select().where(models.LoginCounter.failures > 0).exists()


# --- Logout, password change: every session ends --------------------------------------


def session_cookie(client):
    return client.get_cookie("session").value


def test_logout_revokes_every_session(app, client):
    user = make_user()
    login(client, user.email, PASSWORD)
    other = app.test_client()
    log_in(other, user)  # another device
    stolen = session_cookie(client)
    response = post(client, "/espace/deconnexion")
    assert response.status_code == 303
    assert response.headers["Location"] == LOGIN + "?deconnexion=1"
    assert reload(user).session_epoch == user.session_epoch + 1
    assert other.get("/espace/compte").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/espace/compte").status_code == 302
    assert "Vous êtes déconnecté·e." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_logout_is_a_post(app, client):
    log_in(client, make_user())
    assert client.get("/espace/deconnexion").status_code == 405
    assert client.get("/espace/compte").status_code == 200


def test_password_change_keeps_this_session_and_ends_the_others(app, client):
    user = make_user()
    log_in(client, user)
    other = app.test_client()
    log_in(other, user)
    response = post(
        client,
        "/espace/compte",
        {
            "actuel": PASSWORD,
            "nouveau": "un autre mot de passe",
            "confirmation": "un autre mot de passe",
        },
    )
    assert response.status_code == 303
    assert client.get("/espace/compte").status_code == 200
    assert other.get("/espace/compte").status_code == 302
    assert accounts.check_password(reload(user), "un autre mot de passe")


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {
                "actuel": "faux",
                "nouveau": "un autre mot de passe",
                "confirmation": "un autre mot de passe",
            },
            "actuel est incorrect",
        ),
        ({"actuel": PASSWORD, "nouveau": "court", "confirmation": "court"}, "12 caractères"),
        (
            {"actuel": PASSWORD, "nouveau": "un autre mot de passe", "confirmation": "autre"},
            "pas les mêmes",
        ),
        ({}, "Indiquez votre mot de passe actuel"),
    ],
)
def test_password_change_refused(app, client, data, message):
    user = make_user()
    log_in(client, user)
    response = post(client, "/espace/compte", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert reload(user).session_epoch == user.session_epoch
    assert accounts.check_password(reload(user), PASSWORD)


# --- Reset links ---------------------------------------------------------------------


def request_reset(client, email):
    return client.post(
        "/espace/mot-de-passe-oublie",
        data={"email": email, "csrf_token": token_for(client, "/espace/mot-de-passe-oublie")},
    )


def test_forgotten_password_sends_a_link_and_says_the_same_for_unknown(app, client):
    app.config["PUBLIC_URL"] = "https://mentorat.example"
    user = make_user()
    known = request_reset(client, "Staff@Example.org")
    unknown = request_reset(client, "personne@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == LOGIN
    answer_link_requests(app)
    (message,) = models.Message.select()
    assert message.to == user.email and message.kind == "reinitialisation"
    assert message.subject == "Réinitialisation de votre mot de passe"
    assert "https://mentorat.example/espace/reinitialisation/" in message.body
    assert "1 jeune, 1 mentor" in message.body and "une heure" in message.body
    # The token is stored hashed only.
    token = message.body.split("/espace/reinitialisation/")[1].split()[0]
    stored = models.AccountToken.get()
    assert token not in stored.token_hash and stored.token_hash == accounts.token_hash(token)
    assert stored.expires_at - stored.created_at == dt.timedelta(hours=1)


def test_forgotten_password_junk_address(client):
    response = request_reset(client, "pas une adresse")
    assert response.status_code == 422
    assert "adresse e-mail valide" in response.get_data(as_text=True)


def reset_token(user, now=None):
    with models.write_transaction():
        return accounts.new_token(user, accounts.RESET, now or models.now())


def test_reset_link_get_does_nothing_post_sets_once(app, client):
    user = make_user()
    token = reset_token(user)
    url = f"/espace/reinitialisation/{token}"
    other = app.test_client()
    log_in(other, user)
    for _ in range(2):  # a mail scanner follows the link: nothing changes
        page = client.get(url)
        assert page.status_code == 200 and "Choisissez un nouveau mot de passe" in page.get_data(
            as_text=True
        )
    assert models.AccountToken.get().used_at is None
    new = "un tout nouveau mot de passe"
    weak = client.post(
        url,
        data={"nouveau": "court", "confirmation": "court", "csrf_token": token_for(client, url)},
    )
    assert weak.status_code == 422 and models.AccountToken.get().used_at is None
    done = client.post(
        url, data={"nouveau": new, "confirmation": new, "csrf_token": token_for(client, url)}
    )
    assert done.status_code == 303 and done.headers["Location"] == LOGIN
    assert accounts.check_password(reload(user), new)
    assert other.get("/espace/compte").status_code == 302  # sessions revoked
    again = client.get(url)
    assert again.status_code == 410 and "déjà servi" in again.get_data(as_text=True)
    replay = client.post(
        url,
        data={
            "nouveau": "encore un autre mot",
            "confirmation": "encore un autre mot",
            "csrf_token": token_for(client, LOGIN),
        },
    )
    assert replay.status_code == 410 and accounts.check_password(reload(user), new)


def test_reset_link_expires_after_an_hour(app, client):
    user = make_user()
    token = reset_token(user, now=models.now() - dt.timedelta(minutes=61))
    response = client.get(f"/espace/reinitialisation/{token}")
    assert response.status_code == 410 and "expiré" in response.get_data(as_text=True)
    fresh = reset_token(user, now=models.now() - dt.timedelta(minutes=59))
    assert client.get(f"/espace/reinitialisation/{fresh}").status_code == 200


def test_a_reset_link_dies_when_the_password_changes(app, client):
    user = make_user()
    token = reset_token(user)
    log_in(client, user)
    post(
        client,
        "/espace/compte",
        {
            "actuel": PASSWORD,
            "nouveau": "un autre mot de passe",
            "confirmation": "un autre mot de passe",
        },
    )
    assert client.get(f"/espace/reinitialisation/{token}").status_code == 410


@pytest.mark.parametrize("token", ["x", "a" * 101, "%00", "n'existe pas"])
def test_unknown_links(client, token):
    for url in (f"/espace/reinitialisation/{token}", f"/espace/invitation/{token}"):
        response = client.get(url)
        assert response.status_code == 404 and "pas valide" in response.get_data(as_text=True)


# --- Settings: access ----------------------------------------------------------------

SETTINGS_POSTS = (
    "/espace/reglages/profil",
    "/espace/reglages/equipe/inviter",
)


def test_only_responsables_open_the_settings(app):
    for role in ("membre", "admin"):
        client = app.test_client()
        log_in(client, make_user(f"{role}@example.org", role=role))
        assert client.get("/espace/reglages").status_code == 404
        assert client.get("/espace/compte").status_code == 200
        programme = models.Programme.select().first()
        for url in (
            *SETTINGS_POSTS,
            f"/espace/reglages/programmes/{programme.id}",
            "/espace/reglages/equipe/1/desactiver",
        ):
            assert post(client, url).status_code == 404, (role, url)
        nav = client.get("/espace/compte").get_data(as_text=True)
        assert "Réglages" not in nav and "Se déconnecter" in nav and "Mon compte" in nav


def test_staff_of_a_cannot_touch_the_settings_of_b(app, client):
    a, b = association(), other_association()
    assert a.id != b.id
    log_in(client, make_user("resp-a@example.org", role="responsable", assoc=a))
    b_programme = models.Programme.select().where(models.Programme.association == b.id).first()
    b_staff = make_user("resp-b@example.org", role="responsable", assoc=b)
    before = reload(b_programme).capacite_mensuelle
    response = post(
        client,
        f"/espace/reglages/programmes/{b_programme.id}",
        {f"programme-{b_programme.id}-capacite_mensuelle": "7"},
    )
    assert response.status_code == 404 and reload(b_programme).capacite_mensuelle == before
    assert post(client, f"/espace/reglages/equipe/{b_staff.id}/desactiver").status_code == 404
    assert reload(b_staff).actif
    html = client.get("/espace/reglages").get_data(as_text=True)
    assert a.nom in html and b.nom not in html and b_staff.email not in html
    assert f"/espace/reglages/programmes/{b_programme.id}" not in html


# --- Settings: profile, programmes -----------------------------------------------------


def responsable(client, assoc=None):
    user = make_user("resp@example.org", role="responsable", assoc=assoc or association())
    log_in(client, user)
    return user


def test_profile_saved_through_save_so_the_catalogue_moves(app, client):
    responsable(client)
    assoc = association()
    before = assoc.updated_at
    response = post(
        client,
        "/espace/reglages/profil",
        {
            "profil-description": "Du mentorat\r\npour tous.",
            "profil-site": "https://www.exemple.fr",
            "profil-email": "Contact@Exemple.fr",
            "profil-telephone": "06 12 34 56 78",
            "profil-delai_recontact": "3",
        },
        page="/espace/reglages",
    )
    assert response.status_code == 303
    saved = reload(assoc)
    assert saved.description == "Du mentorat\npour tous."
    assert (saved.site, saved.email, saved.telephone, saved.delai_recontact) == (
        "https://www.exemple.fr",
        "contact@exemple.fr",
        "+33612345678",
        3,
    )
    assert saved.updated_at > before
    html = client.get("/espace/reglages").get_data(as_text=True)
    assert "Le profil de l&#39;association est enregistré." in html
    assert 'value="06 12 34 56 78"' in html  # shown as it is dialled


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("delai_recontact", "0", "entre 1 et 30"),
        ("delai_recontact", "31", "entre 1 et 30"),
        ("delai_recontact", "trois", "entre 1 et 30"),
        ("delai_recontact", "", "entre 1 et 30"),
        ("site", "javascript:alert(1)", "adresse d&#39;un site"),
        ("email", "pas une adresse", "adresse e-mail valide"),
        ("telephone", "0899 12 34 56", "numéro de téléphone français"),
        ("description", "x" * 2001, "2000 caractères"),
    ],
)
def test_profile_refused(app, client, field, value, message):
    responsable(client)
    data = {"profil-delai_recontact": "5", f"profil-{field}": value}
    response = post(client, "/espace/reglages/profil", data, page="/espace/reglages")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and "Il y a un problème" in html
    assert f'href="#profil-{field}"' in html
    assert reload(association()).delai_recontact == association().delai_recontact


def test_programme_capacity_and_pause(app, client):
    responsable(client)
    programme = (
        models.Programme.select().where(models.Programme.association == association().id).first()
    )
    before = programme.updated_at
    prefix = f"programme-{programme.id}-"
    response = post(
        client,
        f"/espace/reglages/programmes/{programme.id}",
        {prefix + "capacite_mensuelle": "12", prefix + "en_pause": "y"},
        page="/espace/reglages",
    )
    assert response.status_code == 303
    saved = reload(programme)
    assert (saved.capacite_mensuelle, saved.en_pause) == (12, True) and saved.updated_at > before
    post(
        client,
        f"/espace/reglages/programmes/{programme.id}",
        {prefix + "capacite_mensuelle": "12"},
        page="/espace/reglages",
    )
    assert reload(programme).en_pause is False
    bad = post(
        client,
        f"/espace/reglages/programmes/{programme.id}",
        {prefix + "capacite_mensuelle": "-1"},
        page="/espace/reglages",
    )
    assert bad.status_code == 422 and "entre 0 et 100000" in bad.get_data(as_text=True)
    assert (
        post(client, "/espace/reglages/programmes/999999", {}, page="/espace/reglages").status_code
        == 404
    )


# --- Settings: staff, invitations ------------------------------------------------------


def invite(client, email, role="membre"):
    return post(
        client,
        "/espace/reglages/equipe/inviter",
        {"invitation-email": email, "invitation-role": role},
        page="/espace/reglages",
    )


def invitation_link(message):
    return message.body.split("http://127.0.0.1:5000")[1].split()[0]


def test_invitation_by_a_responsable(app, client):
    me = responsable(client)
    response = invite(client, "Nouvelle@Example.org")
    assert response.status_code == 303
    invited = models.Utilisateur.get(models.Utilisateur.email == "nouvelle@example.org")
    assert (invited.role, invited.association_id, invited.password_hash) == (
        "membre",
        me.association_id,
        "",
    )
    (message,) = models.Message.select()
    assert message.subject == "Invitation à l'espace association" and message.kind == "invitation"
    assert (
        me.email in message.body
        and association().nom in message.body
        and "14 jours" in message.body
    )
    url = invitation_link(message)
    assert url.startswith("/espace/invitation/")
    html = client.get("/espace/reglages").get_data(as_text=True)
    assert "nouvelle@example.org" in html and "invitation envoyée" in html
    # The invited person: GET shows the form and does nothing, POST activates, once.
    guest = app.test_client()
    assert "Activez votre compte" in guest.get(url).get_data(as_text=True)
    assert models.AccountToken.get().used_at is None
    weak = guest.post(
        url,
        data={
            "nouveau": "motdepasse",
            "confirmation": "motdepasse",
            "csrf_token": token_for(guest, url),
        },
    )
    assert weak.status_code == 422
    done = guest.post(
        url,
        data={"nouveau": PASSWORD, "confirmation": PASSWORD, "csrf_token": token_for(guest, url)},
    )
    assert done.status_code == 303
    assert login(guest, "nouvelle@example.org", PASSWORD).status_code == 303
    assert guest.get(url).status_code == 410


def test_invitation_refused(app, client):
    me = responsable(client)
    for email, message in ((me.email, "existe déjà"), ("pas une adresse", "adresse e-mail valide")):
        response = invite(client, email)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    response = invite(client, "x@example.org", role="admin")
    assert response.status_code == 422 and "Choisissez un rôle" in response.get_data(as_text=True)
    assert models.Message.select().count() == 0


def test_invitation_expires_after_14_days_and_tick_removes_it(app):
    now = models.now()
    with app.test_request_context():
        from flask import url_for

        def link(token):
            return url_for("espace.invitation", token=token)

        old = accounts.create_account(
            "vieux@example.org", "membre", association(), now - dt.timedelta(days=15), link=link
        )
        recent = accounts.create_account(
            "recent@example.org", "membre", association(), now - dt.timedelta(days=13), link=link
        )
    old_url, recent_url = (
        invitation_link(m) for m in models.Message.select().order_by(models.Message.id)
    )
    client = app.test_client()
    assert client.get(old_url).status_code == 410
    assert client.get(recent_url).status_code == 200
    active = make_user()
    assert accounts.expire_invitations(now) == 1
    remaining = {u.email for u in models.Utilisateur.select()}
    assert (
        "vieux@example.org" not in remaining and {"recent@example.org", active.email} <= remaining
    )
    assert accounts.expire_invitations(now) == 0
    assert reload(recent).password_hash == "" and old.id not in {
        u.id for u in models.Utilisateur.select()
    }


def test_deactivation_ends_sessions_and_spares_the_last_responsable(app, client):
    me = responsable(client)
    member = make_user("membre@example.org")
    member_client = app.test_client()
    log_in(member_client, member)
    response = post(
        client, f"/espace/reglages/equipe/{member.id}/desactiver", page="/espace/reglages"
    )
    assert response.status_code == 303
    assert not reload(member).actif and reload(member).session_epoch == member.session_epoch + 1
    assert member_client.get("/espace/compte").status_code == 302
    alone = post(client, f"/espace/reglages/equipe/{me.id}/desactiver", page="/espace/reglages")
    assert alone.status_code == 409 and "dernier responsable" in alone.get_data(as_text=True)
    assert reload(me).actif
    second = make_user("second@example.org", role="responsable")
    assert second.association_id == me.association_id
    myself = post(client, f"/espace/reglages/equipe/{me.id}/desactiver", page="/espace/reglages")
    assert myself.status_code == 303 and myself.headers["Location"] == LOGIN
    assert not reload(me).actif and client.get("/espace/reglages").status_code == 302


# --- CLI -----------------------------------------------------------------------------


def test_create_user_reads_the_password_from_stdin(app, runner, client):
    slug = association().slug
    result = runner.invoke(
        args=["create-user", "Resp@Example.org", "--association", slug, "--role", "responsable"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Compte créé : resp@example.org (responsable)" in result.output
    user = models.Utilisateur.get(models.Utilisateur.email == "resp@example.org")
    assert (user.role, user.association_id) == ("responsable", association().id)
    assert login(client, "resp@example.org", PASSWORD).status_code == 303


def test_create_user_admin_and_errors(app, runner):
    ok = runner.invoke(args=["create-user", "admin@example.org", "--admin"], input=PASSWORD + "\n")
    assert (
        ok.exit_code == 0
        and models.Utilisateur.get(models.Utilisateur.email == "admin@example.org").association_id
        is None
    )
    slug = association().slug
    for args, stdin, message in (
        (
            ["create-user", "a@example.org", "--association", "inconnue"],
            PASSWORD,
            "Association inconnue : inconnue",
        ),
        (["create-user", "a@example.org", "--association", slug], "court", "12 caractères"),
        (["create-user", "admin@example.org", "--association", slug], PASSWORD, "existe déjà"),
        (["create-user", "a@example.org"], PASSWORD, "--association SLUG, soit --admin"),
        (
            ["create-user", "a@example.org", "--admin", "--association", slug],
            PASSWORD,
            "--association SLUG, soit --admin",
        ),
        (["create-user", "pas une adresse", "--admin"], PASSWORD, "adresse e-mail valide"),
    ):
        result = runner.invoke(args=args, input=stdin + "\n")
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert models.Utilisateur.select().count() == 1


def test_create_user_invite(app, runner):
    app.config["PUBLIC_URL"] = "https://mentorat.example/"
    result = runner.invoke(
        args=["create-user", "invite@example.org", "--association", association().slug, "--invite"]
    )
    assert result.exit_code == 0 and "Invitation envoyée à invite@example.org" in result.output
    (message,) = models.Message.select()
    assert message.to == "invite@example.org"
    assert "https://mentorat.example/espace/invitation/" in message.body
    assert "L'équipe 1 jeune, 1 mentor vous invite" in message.body
    assert (
        models.Utilisateur.get(models.Utilisateur.email == "invite@example.org").password_hash == ""
    )


class CountingHasher(argon2.PasswordHasher):
    """argon2's own hasher, counting what it verifies."""

    def __init__(self):
        super().__init__()
        self.verified = []

    def verify(self, hash, password):
        self.verified.append(hash)
        return super().verify(hash, password)


def test_unknown_addresses_cost_one_argon2_verification_as_wrong_passwords(
    app, client, monkeypatch
):
    """The dummy hash is verified for an unknown address, an inactive account or a pending
    invitation: each refusal costs the same argon2 verification, so no timing tells them
    apart (a bare lookup would answer some ten times faster)."""
    user = make_user()
    make_user("inactif@example.org", actif=False)
    make_user("invite@example.org", password=None)  # an invitation not yet accepted
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "HASHER", hasher)
    for number, email in enumerate(
        ("staff@example.org", "personne@example.org", "inactif@example.org", "invite@example.org")
    ):
        hasher.verified.clear()
        response = client.post(
            LOGIN,
            data={"email": email, "password": "faux mais long", "csrf_token": token_for(client)},
            environ_base={"REMOTE_ADDR": f"10.9.0.{number}"},
        )
        assert "Adresse e-mail ou mot de passe incorrect" in response.get_data(as_text=True)
        assert len(hasher.verified) == 1, email
        expected = user.password_hash if email == "staff@example.org" else accounts.dummy_hash()
        assert hasher.verified == [expected], email


def test_inviting_again_sends_a_fresh_link(app, client):
    responsable(client)
    assert invite(client, "deux@example.org").status_code == 303
    assert invite(client, "deux@example.org", role="responsable").status_code == 303
    first, second = models.Message.select().order_by(models.Message.id)
    assert invitation_link(first) != invitation_link(second)
    row = models.Utilisateur.get(models.Utilisateur.email == "deux@example.org")
    assert row.role == "responsable" and models.Utilisateur.select().count() == 2
    # Once the account is active, it is no invitation any more.
    guest = app.test_client()
    url = invitation_link(second)
    guest.post(
        url,
        data={"nouveau": PASSWORD, "confirmation": PASSWORD, "csrf_token": token_for(guest, url)},
    )
    response = invite(client, "deux@example.org")
    assert response.status_code == 422 and "existe déjà" in response.get_data(as_text=True)


def test_settings_page_runs_a_fixed_number_of_queries(app, client):
    responsable(client)

    def queries_for_page():
        with counted_queries() as queries:
            assert client.get("/espace/reglages").status_code == 200
        return len(queries)

    few = queries_for_page()
    for number in range(10):
        make_user(f"membre{number}@example.org", password=None if number % 2 else PASSWORD)
    with models.write_transaction():
        for row in models.Utilisateur.select().where(models.Utilisateur.password_hash == ""):
            accounts.new_token(row, accounts.INVITATION, models.now())
    html = client.get("/espace/reglages").get_data(as_text=True)
    assert html.count("invitation envoyée") == 5
    assert queries_for_page() == few


def test_the_settings_page_shows_an_invitation_s_expiry_in_paris_time(app, client):
    """The expiry is stored in UTC: 23:30 UTC on 31 December is 1 January in France."""
    with models.db.connection_context():
        chef = make_user(email="chef@example.org", role="responsable")
        invited = make_user(email="nouveau@example.org", password=None)
        models.AccountToken.create(
            utilisateur=invited,
            purpose=accounts.INVITATION,
            token_hash="i" * 64,
            expires_at=dt.datetime(2026, 12, 31, 23, 30),
        )
    log_in(client, chef)
    page = client.get("/espace/reglages").get_data(as_text=True)
    row = page.split("nouveau@example.org")[1]
    assert "valable jusqu'au 01/01/2027" in row.replace("&#39;", "'")
