"""Correcting one's e-mail or phone on /suivi (issue 15 §3): nothing changes until the
link sent to the new address (by e-mail) or number (by SMS) is opened and confirmed; a
link of another lead, altered or erased is refused; the typo hint; junk never a 500."""

import html
import re

from helpers import CSRF_RE, YOUTH_STEPS, submit, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from models import Lead, Message

CODE_RE = re.compile(r"(/suivi/coordonnees/[^\s]+)")


def send(client):
    walk(client, "jeune", YOUTH_STEPS)
    assert submit(client, "jeune").status_code == 303
    with models.db.connection_context():
        return Lead.select().order_by(Lead.id.desc()).get()


def read(response):
    return html.unescape(response.get_data(as_text=True))


def fresh(lead):
    with models.db.connection_context():
        return Lead.get_by_id(lead.id)


def last(kind):
    with models.db.connection_context():
        return Message.select().where(Message.kind == kind).order_by(Message.id.desc()).get()


def test_a_new_address_is_used_only_once_confirmed(client):
    lead = send(client)
    url = f"/suivi/{lead.suivi_token}/coordonnees"
    assert 'href="' + url + '"' in read(client.get(f"/suivi/{lead.suivi_token}"))
    token = CSRF_RE.search(read(client.get(url))).group(1)
    response = client.post(
        url, data={"csrf_token": token, "email": "ines.nouvelle@gmial.com", "telephone": ""}
    )
    page = read(response)
    assert response.status_code == 200
    assert "Nous avons envoyé un lien de confirmation à votre nouvelle adresse e-mail." in page
    assert "Vouliez-vous dire <strong>ines.nouvelle@gmail.com</strong> ?" in page
    assert fresh(lead).email == "ines.martin@example.org"  # not yet
    mail = last("nouvelle_adresse")
    assert mail.to == "ines.nouvelle@gmial.com" and mail.lead_id == lead.id
    path = CODE_RE.search(mail.body).group(1)
    # The link shows a button; the POST applies it.
    assert client.get(path).status_code == 200
    assert fresh(lead).email == "ines.martin@example.org"
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 303
    assert fresh(lead).email == "ines.nouvelle@gmial.com"
    assert "nous utiliserons désormais vos nouvelles coordonnées" in read(
        client.get(response.headers["Location"])
    )


def test_a_new_number_gets_its_link_by_sms(client):
    lead = send(client)
    url = f"/suivi/{lead.suivi_token}/coordonnees"
    token = CSRF_RE.search(read(client.get(url))).group(1)
    client.post(url, data={"csrf_token": token, "telephone": "07 81 22 33 44"})
    message = last("nouveau_numero")
    assert message.channel == "sms" and message.to == "+33781223344"
    path = CODE_RE.search(message.body).group(1)
    assert client.post(path, data={"csrf_token": token}).status_code == 303
    assert fresh(lead).telephone == "+33781223344"


def test_an_altered_link_or_one_of_an_erased_lead_is_refused(client):
    lead = send(client)
    other = send(client)
    url = f"/suivi/{lead.suivi_token}/coordonnees"
    token = CSRF_RE.search(read(client.get(url))).group(1)
    client.post(url, data={"csrf_token": token, "email": "x@example.org"})
    path = CODE_RE.search(last("nouvelle_adresse").body).group(1)
    for wrong in (path[:-3] + "abc", path.replace("/coordonnees/", "/coordonnees/x")):
        response = client.post(wrong, data={"csrf_token": token})
        assert response.status_code == 409
        assert "Ce lien de confirmation n'est plus valable" in read(response)
    assert fresh(lead).email == fresh(other).email == "ines.martin@example.org"
    # Erased since: the link is no longer valid.
    with models.db.connection_context():
        from services import suivi

        suivi.erase(Lead.get_by_id(lead.id), None)
    assert client.post(path, data={"csrf_token": token}).status_code == 409


def test_nothing_typed_is_a_clear_422(client):
    lead = send(client)
    url = f"/suivi/{lead.suivi_token}/coordonnees"
    token = CSRF_RE.search(read(client.get(url))).group(1)
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 422
    assert "Indiquez une nouvelle adresse e-mail ou un nouveau numéro" in read(response)
    assert client.post(url, data={"email": "a@example.org"}).status_code == 400  # no CSRF


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.sampled_from(["csrf_token", "email", "telephone", "x"]), st.text(max_size=60), max_size=3
    ),
    code=st.text(alphabet="abcXYZ019._-", min_size=1, max_size=40),
)
def test_junk_never_500(client, data, code):
    with models.db.connection_context():
        lead = Lead.select().order_by(Lead.id.desc()).first()
    if lead is None:
        lead = send(client)
    url = f"/suivi/{lead.suivi_token}/coordonnees"
    token = CSRF_RE.search(read(client.get(url))).group(1)
    posted = {**data, **({"csrf_token": token} if "csrf_token" in data else {})}
    assert client.post(url, data=posted).status_code in (200, 400, 422)
    assert client.post(f"/suivi/coordonnees/{code}", data={"csrf_token": token}).status_code == 409
