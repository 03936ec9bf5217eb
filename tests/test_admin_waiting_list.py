"""The operator's « Orienter » on the waiting list never gives a lead back to an
association that already handed it over (the person asked for another one)."""

from test_admin import admin_client, data, post  # noqa: F401 (fixture)
from test_demandes import new_lead

import models
from models import Lead, Programme
from services import demandes


def test_orienter_never_routes_back_to_an_association_that_handed_the_lead_over(
    app,
    admin_client,  # noqa: F811
):
    with data():
        lead = new_lead()
        first = lead.association_id
        assert first is not None
        # Only the first association's programmes stay open: the hand-over finds none.
        Programme.update(actif=False, updated_at=models.now()).where(
            Programme.association != first
        ).execute()
        demandes.hand_over(lead, "personne", "sans_reponse", expected_version=lead.version)
        assert Lead.get_by_id(lead.id).waiting_list
    response = post(admin_client, f"/admin/liste-attente/{lead.reference}/orienter", {})
    assert response.status_code == 303
    with data():
        row = Lead.get_by_id(lead.id)
        assert row.association_id != first
        assert row.waiting_list
    page = admin_client.get("/admin/liste-attente").get_data(as_text=True)
    assert "Aucun programme ne convient encore" in page
