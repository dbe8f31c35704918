"""The action set-up page shows its connection's conflict policy and saves a changed one on the
connection; a delete with no segment is saved only once confirmed, and its page warns while it
is enabled."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from connections.models import Connection
from mappings.models import Segment
from syncs.actions import Action
from tests.syncs.push_cast import make_action
from tests.syncs.test_actions_admin import ADD, form_data

pytestmark = pytest.mark.django_db
HUB, NEWEST, SALESFORCE = "hub", "newest", "salesforce"


def change_url(action: Action) -> str:
    return reverse("admin:syncs_action_change", args=[action.pk])


def policy(connection: Connection) -> str:
    return Connection.objects.get(pk=connection.pk).conflict_policy


def selected(html: str) -> str:
    """The conflict policy the page shows chosen."""
    start = html.index('name="conflict_policy"')
    chosen = html.index("selected", start)
    return html[html.rindex('value="', start, chosen) + 7:].split('"', 1)[0]


def test_the_page_shows_the_connections_policy_and_saving_changes_it(staff_client, connection):
    Connection.objects.filter(pk=connection.pk).update(conflict_policy=HUB)
    action = make_action(connection, rows=[("firstName", "FirstName")])
    page = staff_client.get(change_url(action)).content.decode()
    assert "Conflict policy — applies to every sync and action of connection “Emulator " \
        "org”" in page
    assert selected(page) == HUB
    assert f'name="policy_shown_for" value="{connection.pk}"' in page

    kept = staff_client.post(change_url(action), form_data(
        connection, name=action.name, conflict_policy=HUB, policy_shown_for=connection.pk),
        follow=True)
    assert kept.redirect_chain and policy(connection) == HUB
    assert "The conflict policy of connection" not in kept.content.decode()

    changed = staff_client.post(change_url(action), form_data(
        connection, name=action.name, conflict_policy=NEWEST, policy_shown_for=connection.pk,
        operation="upsert", matchers_field="Id"), follow=True)
    text = changed.content.decode()
    assert changed.redirect_chain, text[:3000]
    assert policy(connection) == NEWEST
    assert "The conflict policy of connection “Emulator org” is now “Newest change wins”: it " \
        "decides the conflicts of every sync and action of that connection." in text
    assert Action.objects.get(pk=action.pk).operation == "upsert"  # saved with it


def test_a_refused_action_changes_no_policy(staff_client, connection):
    refused = staff_client.post(ADD, form_data(connection, conflict_policy=HUB,
                                               policy_shown_for=connection.pk,
                                               field_mappings='[["x", "Nope__c"]]'))
    assert refused.status_code == 200 and "Contact has no field" in refused.content.decode()
    assert policy(connection) == SALESFORCE and not Action.objects.exists()


def test_a_new_actions_policy_follows_the_connection_chosen(staff_client, connection):
    other = Connection.objects.create(name="Other org", conflict_policy=HUB)
    page = staff_client.get(ADD).content.decode()
    # Two connections, none chosen yet: the policy is the chosen one's until one is picked.
    assert "Conflict policy — applies to every sync and action of the chosen connection" in page
    assert "The chosen connection&#x27;s own policy (unchanged)" in page
    # Each connection's policy, for the page's script to follow the connection chosen.
    assert f"&quot;{other.pk}&quot;: &quot;hub&quot;" in page

    # Chosen in the same form: the policy picked is the chosen connection's.
    saved = staff_client.post(ADD, form_data(connection, conflict_policy=NEWEST,
                                             policy_shown_for=""), follow=True)
    assert saved.redirect_chain, saved.content.decode()[:3000]
    assert (policy(connection), policy(other)) == (NEWEST, HUB)
    assert "connection “Emulator org” is now “Newest change wins”" in saved.content.decode()


def test_a_policy_shown_for_another_connection_is_not_applied(staff_client, connection):
    other = Connection.objects.create(name="Other org", conflict_policy=HUB)
    # The page showed Other org's policy (hub), left as it was; the connection chosen is
    # another: it keeps its own, and a page shown again shows that one's.
    again = staff_client.post(ADD, form_data(connection, conflict_policy=HUB,
                                             policy_shown_for=other.pk,
                                             matchers_field="Description"))
    html = again.content.decode()
    assert "Description cannot be a record matcher" in html
    assert selected(html) == SALESFORCE
    assert f'name="policy_shown_for" value="{connection.pk}"' in html
    assert "applies to every sync and action of connection “Emulator org”" in html
    saved = staff_client.post(ADD, form_data(connection, conflict_policy=HUB,
                                             policy_shown_for=other.pk), follow=True)
    assert saved.redirect_chain and Action.objects.count() == 1
    assert (policy(connection), policy(other)) == (SALESFORCE, HUB)

    # Changed while Other org's was shown: refused, naming both.
    refused = staff_client.post(ADD, form_data(connection, name="Second", conflict_policy=NEWEST,
                                               policy_shown_for=other.pk))
    html = refused.content.decode()
    assert 'class="errorlist' in html[html.index("field-conflict_policy"):]
    assert "It was changed while the page showed the policy of connection “Other org”, but " \
        "the action is for “Emulator org”, whose policy is “Salesforce wins” (shown now)" in html
    assert selected(html) == SALESFORCE
    assert Action.objects.count() == 1 and policy(connection) == SALESFORCE


def test_only_staff_who_may_change_connections_change_the_policy(client, django_user_model,
                                                                 connection):
    action = make_action(connection, rows=[("firstName", "FirstName")])
    user = django_user_model.objects.create_user("editor", password="editor-pass-1",
                                                 is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["view_action", "change_action", "view_connection"]))
    client.force_login(user)
    page = client.get(change_url(action)).content.decode()
    assert "Only staff who may change connections can change it." in page
    start = page.index("<select", page.index("field-conflict_policy"))
    assert 'name="conflict_policy"' in page[start:page.index(">", start)]
    assert "disabled" in page[start:page.index(">", start)]
    saved = client.post(change_url(action), form_data(
        connection, name=action.name, conflict_policy=HUB, policy_shown_for=connection.pk),
        follow=True)
    assert saved.redirect_chain and policy(connection) == SALESFORCE
    assert "The conflict policy of connection" not in saved.content.decode()


def test_view_only_staff_read_the_connections_policy(client, django_user_model, connection):
    action = make_action(connection, rows=[("firstName", "FirstName")])
    user = django_user_model.objects.create_user("viewer", password="viewer-pass-1",
                                                 is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_action"]))
    client.force_login(user)
    page = client.get(change_url(action)).content.decode()
    assert "Salesforce wins, for every sync and action of connection “Emulator org”" in page
    assert 'name="conflict_policy"' not in page and "confirm_delete_all" not in page


# -- a delete with no segment ----------------------------------------------------------------

DELETE = {"operation": "delete", "field_mappings": "[]", "name": "Delete contacts"}


def test_a_delete_with_no_segment_is_saved_only_once_confirmed(staff_client, connection):
    refused = staff_client.post(ADD, form_data(connection, **DELETE))
    html = refused.content.decode()
    assert refused.status_code == 200 and not Action.objects.exists()
    row = html[html.index('field-confirm_delete_all'):]
    assert "A delete with no segment deletes in Salesforce the Contact record of every hub " \
        "record this action covers (all of them at each reconcile): tick “Delete in " \
        "Salesforce every Contact record this action covers” to confirm, or choose segments " \
        "to limit it." in row[:row.index("</div>")]
    label = html[html.index('<label class="vCheckboxLabel" for="id_confirm_delete_all"'):]
    assert label.startswith("<label class=\"vCheckboxLabel\" for=\"id_confirm_delete_all\">"
                            "Delete in Salesforce every Contact record this action covers")

    confirmed = staff_client.post(ADD, form_data(connection, **DELETE,
                                                 confirm_delete_all="on"))
    assert confirmed.status_code == 302, confirmed.content.decode()[:3000]
    action = Action.objects.get()
    assert action.deletes_everything
    # Asked at every save of such an action (nothing stores the answer).
    again = staff_client.post(change_url(action), form_data(connection, **DELETE,
                                                            every_minutes="30"))
    assert again.status_code == 200 and "A delete with no segment deletes" in \
        again.content.decode()


def test_a_delete_limited_by_a_segment_needs_no_confirmation(staff_client, connection):
    pro = Segment.objects.create(name="pro", conditions=[
        {"attribute": "plan", "operator": "equals", "value": "pro"}])
    saved = staff_client.post(ADD, form_data(connection, **DELETE, segments=[pro.pk]))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert not Action.objects.get().deletes_everything
    # Any other operation: nothing to confirm.
    assert staff_client.post(ADD, form_data(connection, name="Updates")).status_code == 302


def test_the_page_of_an_enabled_delete_with_no_segment_warns(staff_client, connection):
    action = make_action(connection, operation="delete")
    page = staff_client.get(change_url(action)).content.decode()
    assert 'id="action-deletes-all"' in page
    assert "Enabled, with no segment: this action deletes in Salesforce the Contact record of " \
        "every hub record it covers" in page
    Action.objects.filter(pk=action.pk).update(enabled=False)
    assert 'id="action-deletes-all"' not in staff_client.get(change_url(action)).content.decode()
    Action.objects.filter(pk=action.pk).update(enabled=True)
    action.segments.set([Segment.objects.create(name="pro", conditions=[
        {"attribute": "plan", "operator": "equals", "value": "pro"}])])
    assert 'id="action-deletes-all"' not in staff_client.get(change_url(action)).content.decode()
