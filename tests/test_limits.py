"""Rate limits (web/limits.py): sent demandes, steps, « J'ai perdu mon lien », login and
password reset, per client address as TRUSTED_PROXIES gives it, in memory or in a real
Redis shared by several app instances; the kind 429 page."""

import threading

import pytest
from helpers import HX, YOUTH_STEPS, answer_link_requests, csrf_token, make_app, post, submit, walk

import models

EMAIL = "ines.martin@example.org"


def send_demande(client, headers=None):
    walk(client, "jeune", YOUTH_STEPS, headers)
    return submit(client, "jeune", headers)


def lead_count():
    with models.db.connection_context():
        return models.Lead.select().count()


def test_sent_demandes_are_limited_and_the_429_page_keeps_the_answers(database_url, tmp_path):
    app = make_app(database_url, tmp_path, LIMIT_DEMANDES="2 per hour")
    client = app.test_client()
    assert send_demande(client).status_code == 303
    assert send_demande(client).status_code == 303
    walk(client, "jeune", YOUTH_STEPS)
    response = submit(client, "jeune")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Trop de demandes en peu de temps" in html
    assert "Vos réponses déjà validées sont conservées" in html
    assert 'href="/jeune/verifier"' in html
    assert 0 < int(response.headers["Retry-After"]) <= 3601
    assert lead_count() == 2
    # The draft is untouched: the check page still shows every answer.
    page = client.get("/jeune/verifier")
    assert page.status_code == 200 and "Inès" in page.get_data(as_text=True)
    # htmx gets the region, never the whole page.
    region = submit(client, "jeune", headers=HX)
    assert region.status_code == 429 and "<html" not in region.get_data(as_text=True)
    assert "Trop de demandes" in region.get_data(as_text=True)
    assert region.headers["Retry-After"]
    assert lead_count() == 2


def test_step_posts_are_limited_generously(database_url, tmp_path):
    app = make_app(database_url, tmp_path, LIMIT_ETAPES="3 per minute")
    client = app.test_client()
    token = csrf_token(client)
    for _ in range(3):
        assert post(client, "/jeune/age", {"age": "17"}, token=token).status_code == 303
    response = post(client, "/jeune/age", {"age": "17"}, token=token)
    assert response.status_code == 429
    assert 'href="/jeune/age"' in response.get_data(as_text=True)
    # Reading a step is never limited.
    assert client.get("/jeune/age").status_code == 200


def test_default_step_limit_lets_a_classroom_through(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    assert app.config["LIMIT_ETAPES"] == "300 per minute"
    assert app.config["LIMIT_DEMANDES"] == "30 per hour"


def spoofed(number):
    return {"X-Forwarded-For": f"203.0.113.{number}"}


@pytest.mark.parametrize("proxies", ["0", "1"])
def test_a_spoofed_forwarded_for_never_changes_a_count(database_url, tmp_path, proxies):
    app = make_app(database_url, tmp_path, LIMIT_DEMANDES="2 per hour", TRUSTED_PROXIES=proxies)
    client = app.test_client()
    # Behind one proxy, the proxy appends the address it saw: the client's own lie comes
    # first and is ignored, the proxy's last entry counts.
    real = ", 198.51.100.7" if proxies == "1" else ""

    def headers(number):
        return {"X-Forwarded-For": f"203.0.113.{number}{real}"}

    statuses = [send_demande(client, headers(n)).status_code for n in range(4)]
    assert statuses == [303, 303, 429, 429]
    assert lead_count() == 2
    if proxies == "1":
        # Another real client behind the same proxy has its own count.
        other = app.test_client()
        assert send_demande(other, {"X-Forwarded-For": "198.51.100.8"}).status_code == 303


def lost_link(client, token, email=EMAIL, headers=None):
    data = {"csrf_token": token, "email": email}
    return client.post("/suivi/lien-perdu", data=data, headers=headers or {})


def test_lost_link_is_limited_per_address_and_per_email(database_url, tmp_path):
    app = make_app(
        database_url, tmp_path, LIMIT_LIEN_PERDU="4 per hour", LIMIT_LIEN_PERDU_EMAIL="2 per hour"
    )
    client = app.test_client()
    token = csrf_token(client, "/suivi/lien-perdu")
    assert [lost_link(client, token).status_code for _ in range(3)] == [303, 303, 429]
    # Other addresses typed from the same client: their own counts, but the client's
    # (4, the three above included) stops them.
    other = [lost_link(client, token, f"autre{n}@example.org").status_code for n in range(2)]
    assert other == [303, 429]


def test_login_and_reset_are_limited_per_client(database_url, tmp_path):
    app = make_app(
        database_url, tmp_path, LIMIT_CONNEXION="2 per minute", LIMIT_MOT_DE_PASSE="1 per hour"
    )
    client = app.test_client()
    token = csrf_token(client, "/espace/connexion")
    data = {"csrf_token": token, "email": "x@example.org", "password": "faux"}
    statuses = [client.post("/espace/connexion", data=data).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    page = client.post("/espace/connexion", data=data).get_data(as_text=True)
    assert "Trop de demandes" in page and "réponses déjà validées" not in page
    data = {"csrf_token": token, "email": "x@example.org"}
    statuses = [client.post("/espace/mot-de-passe-oublie", data=data).status_code for _ in range(2)]
    assert statuses == [303, 429]


def test_two_app_instances_share_one_redis(database_url, tmp_path, redis_url):
    config = {"LIMIT_DEMANDES": "3 per hour", "RATELIMIT_STORAGE_URI": redis_url}
    first = make_app(database_url, tmp_path, **config).test_client()
    second = make_app(database_url, tmp_path, **config).test_client()
    statuses = [send_demande(c).status_code for c in (first, second, first, second)]
    assert statuses == [303, 303, 303, 429]
    assert lead_count() == 3
    # The same client, rotating a spoofed X-Forwarded-For: still the same count.
    assert send_demande(first, spoofed(9)).status_code == 429


def test_parallel_lost_link_requests_send_no_more_than_the_limit(database_url, tmp_path, redis_url):
    """12 parallel « lien perdu » for one address (issue 14 §1): each limit holds."""
    from services import suivi

    app = make_app(
        database_url, tmp_path, RATELIMIT_STORAGE_URI=redis_url, LIMIT_LIEN_PERDU_EMAIL="4/hour"
    )
    assert send_demande(app.test_client()).status_code == 303
    clients = [app.test_client() for _ in range(12)]
    tokens = [csrf_token(c, "/suivi/lien-perdu") for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def ask(client, token):
        barrier.wait()
        statuses.append(lost_link(client, token).status_code)

    threads = [
        threading.Thread(target=ask, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303] * 4 + [429] * 8
    answer_link_requests(app)  # the e-mails leave with the next tick (jobs/link_requests.py)
    with models.db.connection_context():
        sent = models.Message.select().where(models.Message.kind == suivi.LINK_KIND).count()
    assert sent == suivi.LINK_LIMIT_PER_HOUR


def test_parallel_lost_link_in_memory_too(database_url, tmp_path):
    from services import suivi

    app = make_app(database_url, tmp_path, LIMIT_LIEN_PERDU_EMAIL="100 per hour")
    assert send_demande(app.test_client()).status_code == 303
    clients = [app.test_client() for _ in range(12)]
    tokens = [csrf_token(c, "/suivi/lien-perdu") for c in clients]
    barrier = threading.Barrier(len(clients))

    def ask(client, token):
        barrier.wait()
        lost_link(client, token)

    threads = [
        threading.Thread(target=ask, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Two ticks answering the requests at once: the database's own cap holds (rows
    # locked while counted).
    ticks = [threading.Thread(target=answer_link_requests, args=(app,)) for _ in range(2)]
    for thread in ticks:
        thread.start()
    for thread in ticks:
        thread.join()
    with models.db.connection_context():
        sent = models.Message.select().where(models.Message.kind == suivi.LINK_KIND).count()
    assert sent == suivi.LINK_LIMIT_PER_HOUR


def test_an_unreachable_redis_leaves_the_forms_working(database_url, tmp_path, caplog):
    from smtp_server import free_port

    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = make_app(database_url, tmp_path, RATELIMIT_STORAGE_URI=down)
    assert send_demande(app.test_client()).status_code == 303
    assert lead_count() == 1
    assert any(record.name == "flask-limiter" for record in caplog.records)
