"""A new action's add page starts from the usual mapping of its object (mappings/presets.py)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
ADD = reverse("admin:syncs_action_add")


def initial(client, query: str = "") -> dict:
    form = client.get(ADD + query).context["adminform"].form
    return {name: json.loads(form[name].value()) if isinstance(form[name].value(), str)
            else form[name].value() for name in ("field_mappings", "matchers")}


def test_a_new_people_action_maps_email_names_and_phone(staff_client):
    values = initial(staff_client)
    assert values["field_mappings"] == [["email", "Email"], ["firstName", "FirstName"],
                                        ["lastName", "LastName"], ["phone", "Phone"]]
    assert values["matchers"] == [["email", "Email"]]
    page = staff_client.get(ADD + "?sobject=Lead").content.decode()
    assert "[[&quot;email&quot;, &quot;Email&quot;], [&quot;firstName&quot;" in page


def test_a_new_accounts_action_maps_domain_and_name_matched_by_the_external_id(
        staff_client, connection):
    values = initial(staff_client, "?sobject=Account&entity=objects")
    assert values["field_mappings"] == [["domain", "Website"], ["name", "Name"]]
    assert values["matchers"] == [["domain", "Website"]]
    connection.account_external_id_field = "Forcebridge_Id__c"
    connection.save()
    values = initial(staff_client, f"?sobject=Account&entity=objects&connection={connection.pk}")
    assert values["matchers"] == [["object_id", "Forcebridge_Id__c"]]


def test_other_objects_and_existing_actions_start_empty(staff_client, connection):
    assert initial(staff_client, "?sobject=Case") == {"field_mappings": [], "matchers": []}
