"""Issue 16 §4: nothing disappears after a hand-over. The association that handed a lead
over keeps a read-only trace under « Transmises » (reference, to whom, when, why; no
personal data), and a 404 inside the espace looks like the espace."""

import pytest
from helpers import YOUTH_ANSWERS, log_in, submitted_lead

import models
from services import demandes


@pytest.fixture
def handed(app):
    lead = submitted_lead("jeune", YOUTH_ANSWERS)
    first = lead.association_id
    user = models.Utilisateur.create(
        email="membre@example.org",
        role="membre",
        association=first,
        password_hash="argon2-hash-for-the-test",
    )
    moved = demandes.hand_over(lead, user.email, "hors_territoire")
    return lead, user, moved


def test_the_trace_stays_under_transmises_without_personal_data(client, handed):
    lead, user, moved = handed
    log_in(client, user)
    page = client.get("/espace/transmises")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    trace = html.split('class="inbox-item transmise"', 1)[1].split("</li>", 1)[0]
    assert lead.reference in trace
    if moved.association_id:
        assert models.Association.get_by_id(moved.association_id).nom in trace
    else:
        assert "liste d&#39;attente" in trace
    assert "motif" in trace
    for word in (lead.prenom, lead.nom, lead.email):
        assert word not in html
    # The inbox links to it.
    assert 'href="/espace/transmises"' in client.get("/espace/").get_data(as_text=True)


def test_another_association_sees_no_trace(client, handed):
    lead, user, moved = handed
    other = models.Association.select().where(models.Association.id != user.association_id).first()
    stranger = models.Utilisateur.create(
        email="autre@example.org",
        role="membre",
        association=other,
        password_hash="argon2-hash-for-the-test",
    )
    if moved.association_id == other.id:
        pytest.skip("the lead went to that association")
    log_in(client, stranger)
    assert lead.reference not in client.get("/espace/transmises").get_data(as_text=True)


def test_a_404_inside_the_espace_looks_like_the_espace(client, handed):
    lead, user, moved = handed
    log_in(client, user)
    page = client.get(f"/espace/demandes/{lead.reference}")
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert 'aria-label="Espace association"' in html  # the staff navigation
    assert 'href="/espace/"' in html and "Page introuvable" in html
    assert client.get("/espace/nulle-part").status_code == 404
