"""The inbox, a lead's page, notes, the selection and the CSV export of the espace
association: access control on every route, filters, search, pagination, htmx, queries."""

import pytest
from helpers import YOUTH_STEPS, log_in, submit, walk

import models

ROUTES_GET = ["/espace/", "/espace/demandes/{ref}", "/espace/export.csv"]
ROUTES_POST = ["/espace/demandes/{ref}/notes", "/espace/demandes/selection", "/espace/export.csv"]


@pytest.fixture
def people(app):
    """Two associations with a staff member each, and an admin."""
    first, second = list(models.Association.select().order_by(models.Association.id).limit(2))
    return {
        "a": first,
        "b": second,
        "staff_a": models.Utilisateur.create(
            email="membre-a@example.org", role="membre", association=first
        ),
        "staff_b": models.Utilisateur.create(
            email="membre-b@example.org", role="responsable", association=second
        ),
        "admin": models.Utilisateur.create(email="admin@example.org", role="admin"),
    }


def sent_lead(client, association, steps=YOUTH_STEPS, parcours="jeune"):
    """A lead sent through the questionnaire, then routed to `association`."""
    walk(client, parcours, steps)
    response = submit(client, parcours)
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    lead = models.Lead.get(models.Lead.reference == reference)
    lead.association = association
    lead.save()
    return lead


def test_smoke(client, people):
    lead = sent_lead(client, people["a"])
    log_in(client, people["staff_a"])
    page = client.get("/espace/")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert lead.reference in page.get_data(as_text=True)
    page = client.get(f"/espace/demandes/{lead.reference}")
    assert page.status_code == 200, page.get_data(as_text=True)
    print(lead.answers)
    print(page.get_data(as_text=True))
