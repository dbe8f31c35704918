"""The External ID for accounts on the connection page: checked against the org's Account
describe when it changes, refused with the field and the reason."""

from __future__ import annotations

import pytest

from connections.models import Connection

pytestmark = pytest.mark.django_db


def edit(client, connection: Connection, **values: str):
    """Post the connection's form as the page shows it, with `values` changed."""
    form = client.get(connection.get_absolute_url()).context["adminform"].form
    data = {name: form[name].value() for name in form.fields
            if name not in ("new_client_secret", "clear_client_secret")}
    data = {name: ("on" if value is True else value) for name, value in data.items()
            if value not in (None, False)}
    data.update(values)
    return client.post(connection.get_absolute_url(), data)


def stored_key(connection: Connection) -> str:
    return Connection.objects.get(pk=connection.pk).account_external_id_field


def test_an_external_id_field_of_account_is_accepted_by_its_api_name(emulator, connection,
                                                                       oauth_client):
    response = edit(oauth_client, connection, account_external_id_field=" forcebridge_id__c ",
                    ongoing_import="on")
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.account_external_id_field, stored.ongoing_import) == ("Forcebridge_Id__c",
                                                                         True)


@pytest.mark.parametrize(("name", "reason"), [
    ("Nope__c", "Account has no field &#x27;Nope__c&#x27;"),
    ("AccountNumber", "Account.AccountNumber is not an external id (nor unique)"),
    ("CreatedDate", "Account.CreatedDate is not an external id (nor unique)"),
])
def test_a_field_that_cannot_carry_the_account_id_is_refused_with_the_reason(
        emulator, connection, oauth_client, name, reason):
    response = edit(oauth_client, connection, account_external_id_field=name)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["account_external_id_field"]
    assert reason.replace("&#x27;", "'") in errors[0]
    assert reason in response.content.decode()
    assert stored_key(connection) == ""


def test_blank_or_id_means_accounts_keyed_by_their_salesforce_id(emulator, connection,
                                                                  oauth_client):
    connection.account_external_id_field = "Forcebridge_Id__c"
    connection.save()
    assert edit(oauth_client, connection, account_external_id_field="Id").status_code == 302
    assert stored_key(connection) == ""


def test_the_page_offers_the_suitable_fields_once_account_is_described(emulator, connection,
                                                                      oauth_client):
    oauth_client.post(f"/admin/connections/connection/{connection.pk}/refresh-schema/")
    page = oauth_client.get(connection.get_absolute_url()).content.decode()
    assert '<option value="Forcebridge_Id__c">' in page and '<option value="Name"' not in page
    assert '<option value="" selected>None: accounts keyed by their Salesforce Id' in page
    assert 'id="initial-import"' in page


def test_an_org_not_connected_cannot_be_asked_so_the_name_is_kept_as_typed(emulator,
                                                                            oauth_client):
    response = oauth_client.post("/admin/connections/connection/add/", {
        "name": "Later", "enabled": "on", "environment": "production", "api_version": "61.0",
        "daily_budget_percent": "50", "account_external_id_field": "Account_Key__c"})
    assert response.status_code == 302
    assert Connection.objects.get(name="Later").account_external_id_field == "Account_Key__c"
