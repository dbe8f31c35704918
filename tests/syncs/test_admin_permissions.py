"""Permissions come before any Salesforce call; view-only staff see no buttons; bad JSON and a
failing describe get clear messages, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from syncs.models import Sync
from tests.syncs.test_admin import ADD, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, django_user_model):
    """A staff user who may only view syncs and connections."""
    user = django_user_model.objects.create_user("viewer", password="viewer-pass-1",
                                                 is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["view_sync", "view_connection", "view_syncrun"]))
    client.force_login(user)
    return client


def test_a_user_who_may_not_add_syncs_makes_no_salesforce_call(viewer, connection, emulator):
    emulator.control.clear_counters()

    response = viewer.post(ADD, form_data(connection))

    assert response.status_code == 403
    assert sum(emulator.control.counters().values()) == 0
    assert not Sync.objects.exists()


def test_view_only_staff_see_no_action_buttons(viewer, connection, make_sync):
    sync = make_sync("Contact", fields=["LastName"])
    page = viewer.get(reverse("admin:syncs_sync_change", args=[sync.pk])).content.decode()
    assert 'id="sync-now"' not in page and 'id="resync-all"' not in page
    page = viewer.get(reverse("admin:connections_connection_change",
                              args=[connection.pk])).content.decode()
    for button in ("disconnect", "reconnect", "test-connection", "refresh-schema"):
        assert f'id="{button}"' not in page
    assert viewer.post(reverse("admin:syncs_sync_run_now", args=[sync.pk])).status_code == 403


@pytest.mark.parametrize(("renames", "reason"), [
    ("[" * 5000 + "]" * 5000, "Nested 5000 levels deep; at most 8."),
    ('{"a": "' + "x" * 70_000 + '"}', "Too large: 70,009 bytes of JSON; at most 65,536."),
])
def test_json_that_is_too_deep_or_too_large_is_refused_by_the_form(staff_client, connection,
                                                                     emulator, renames, reason):
    response = staff_client.post(ADD, form_data(connection, renames=renames))
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Sync.objects.exists()


def test_a_describe_failure_shows_salesforces_words(staff_client, connection, emulator):
    response = staff_client.get(ADD, {"connection": connection.pk, "sobject": "Nope__c"},
                                follow=True)
    assert response.status_code == 200
    assert "Could not read the fields of Nope__c: " in response.content.decode()
