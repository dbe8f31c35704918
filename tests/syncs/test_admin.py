"""The operator's pages: sync list and actions, the sync form checked against Salesforce,
read-only runs, record logs and hub pages (Django test client, emulator over HTTPS)."""

from __future__ import annotations

import pytest
from django.db import connection as database
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config import admin as shared_admin
from logs.models import RecordLog
from syncs.models import Sync, SyncRun
from syncs.pull import run_sync
from tests.syncs.conftest import contacts
from workspace.models import Person

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:syncs_sync_changelist")
ADD = reverse("admin:syncs_sync_add")


@pytest.fixture
def synced(emulator, make_sync):
    """A Contacts sync that has run once over three contacts."""
    emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", name="Contacts → people")
    run_sync(sync.pk)
    sync.refresh_from_db()
    return sync


def form_data(connection, **values) -> dict:
    data = {"name": "Contacts", "connection": connection.pk, "sobject": "Contact",
            "enabled": "on", "data_format": "person", "person_id_field": "Id",
            "person_match": "customer_id", "event_name_field": "Subject",
            "event_timestamp_field": "CreatedDate", "fields": ["FirstName", "Email"],
            "renames": "{}", "filter": "", "on_delete": "delete", "schedule_kind": "hourly",
            "every_minutes": "15", "cron": "", "batch_size": "2000"}
    data.update(values)
    return data


def test_every_list_page_renders(staff_client, synced):
    run = SyncRun.objects.get()
    pages = ["syncs_sync", "syncs_syncrun", "logs_recordlog", "workspace_person",
             "workspace_object", "workspace_objecttype", "workspace_relationship",
             "workspace_event"]
    for name in pages:
        response = staff_client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
    page = staff_client.get(CHANGELIST).content.decode()
    assert "Contacts → people" in page and "succeeded" in page and "hourly" in page
    assert reverse("admin:syncs_syncrun_change", args=[run.pk]) in page
    runs = staff_client.get(reverse("admin:syncs_syncrun_changelist")).content.decode()
    assert f"?run={run.pk}" in runs
    assert staff_client.get(reverse("admin:syncs_sync_change", args=[synced.pk])).status_code == 200
    assert staff_client.get(reverse("admin:syncs_syncrun_change", args=[run.pk])).status_code == 200


def test_runs_and_logs_are_read_only(staff_client, synced):
    run = SyncRun.objects.get()
    log = RecordLog.objects.first()
    assert staff_client.get(reverse("admin:syncs_syncrun_add")).status_code == 403
    assert staff_client.get(reverse("admin:logs_recordlog_add")).status_code == 403
    response = staff_client.post(reverse("admin:syncs_syncrun_change", args=[run.pk]), {})
    assert response.status_code == 403
    page = staff_client.get(reverse("admin:logs_recordlog_change", args=[log.pk])).content
    assert b'name="_save"' not in page
    assert staff_client.get(reverse("admin:logs_recordlog_delete", args=[log.pk])).status_code == 403


def test_the_pages_need_a_staff_login(client, synced):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_sync_now_action_requests_a_run(staff_client, synced, make_sync,
                                        django_capture_on_commit_callbacks):
    disabled = make_sync("Lead", enabled=False)
    with django_capture_on_commit_callbacks() as enqueued:
        response = staff_client.post(CHANGELIST, {
            "action": "sync_now", "_selected_action": [synced.pk, disabled.pk]}, follow=True)
    assert len(enqueued) == 1
    synced.refresh_from_db()
    assert synced.run_requested == Sync.Trigger.MANUAL and synced.next_run_at is not None
    disabled.refresh_from_db()
    assert disabled.run_requested == ""
    text = response.content.decode()
    assert "A worker starts 1 sync within seconds: Contacts → people." in text
    assert "Skipped (disabled): Lead sync." in text


def test_resync_action_marks_the_sync_for_a_full_rewrite(staff_client, synced,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        response = staff_client.post(CHANGELIST, {
            "action": "resync_all", "_selected_action": [synced.pk]}, follow=True)
    assert len(enqueued) == 1
    synced.refresh_from_db()
    assert synced.run_requested == Sync.Trigger.RESYNC and synced.resync_pending
    assert "Resync requested for 1 sync" in response.content.decode()
    run = run_sync(synced.pk)
    assert run.trigger == Sync.Trigger.RESYNC and run.fetched == 3


def test_the_sync_page_buttons_request_runs(staff_client, synced,
                                            django_capture_on_commit_callbacks):
    page = staff_client.get(reverse("admin:syncs_sync_change", args=[synced.pk])).content.decode()
    assert 'id="sync-now"' in page and 'id="resync-all"' in page and "csrfmiddlewaretoken" in page
    run_now = reverse("admin:syncs_sync_run_now", args=[synced.pk])
    assert staff_client.get(run_now).status_code == 405
    with django_capture_on_commit_callbacks() as enqueued:
        response = staff_client.post(run_now, follow=True)
    assert len(enqueued) == 1 and "A worker starts 1 sync" in response.content.decode()
    synced.refresh_from_db()
    assert synced.run_requested == Sync.Trigger.MANUAL
    staff_client.post(reverse("admin:syncs_sync_resync", args=[synced.pk]))
    synced.refresh_from_db()
    assert synced.run_requested == Sync.Trigger.RESYNC and synced.resync_pending


def test_actions_refuse_a_get(staff_client, synced):
    staff_client.get(CHANGELIST, {"action": "sync_now", "_selected_action": [synced.pk]})
    synced.refresh_from_db()
    assert synced.run_requested == ""


def test_the_add_form_offers_objects_from_describe(staff_client, connection, emulator):
    page = staff_client.get(ADD, follow=True).content.decode()  # the guided set-up
    popular = page.index('label="Popular"')
    others = page.index('label="Other objects"')
    assert popular < page.index('value="Contact"') < others
    assert page.index('value="Case"') > others
    # Field choices come from the object's describe once it is chosen.
    assert 'name="fields"' not in page or 'value="Email"' not in page
    page = staff_client.get(ADD, {"sobject": "Contact"}, follow=True).content.decode()
    assert 'id="field-table"' in page and 'name="fields" value="Email"' in page


def test_a_sync_made_from_the_typical_mapping(staff_client, connection, emulator):
    response = staff_client.post(ADD, form_data(connection, name="Tasks", sobject="Task",
                                                use_preset="on", data_format="person",
                                                fields=[]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    sync = Sync.objects.get(name="Tasks")
    assert sync.data_format == "event" and sync.person_id_field == "WhoId"
    assert "Subject" in sync.fields and "ActivityDate" in sync.fields


def test_a_filter_salesforce_rejects_is_a_form_error(staff_client, connection, emulator):
    response = staff_client.post(ADD, form_data(connection, filter="Email = = 'x'"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["filter"]
    assert "Salesforce rejected the filter: MALFORMED_QUERY" in errors["filter"][0]
    assert not Sync.objects.exists()


def test_an_unknown_field_is_a_form_error(staff_client, connection, emulator):
    response = staff_client.post(ADD, form_data(connection, person_id_field="Emial"))
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["person_id_field"]
    assert "Contact has no field 'Emial'" in errors["person_id_field"][0]
    # A synced field the object does not have is not even offered.
    response = staff_client.post(ADD, form_data(connection, fields=["FirstName", "Nope__c"]))
    assert "Nope__c is not one of the available choices" in str(
        response.context["adminform"].form.errors["fields"])
    assert not Sync.objects.exists()


def test_editing_a_sync_keeps_parent_fields_and_validates(staff_client, make_sync, emulator):
    sync = make_sync("Contact", fields=["FirstName", "Account.Name"])
    url = reverse("admin:syncs_sync_change", args=[sync.pk])
    page = staff_client.get(url).content.decode()
    assert 'value="Account.Name" selected' in page
    response = staff_client.post(url, form_data(sync.connection, name=sync.name,
                                                fields=["FirstName", "Account.Name"],
                                                schedule_kind="minutes", every_minutes="5"))
    assert response.status_code == 302
    sync.refresh_from_db()
    assert sync.fields == ["FirstName", "Account.Name"] and sync.every_minutes == 5


def test_no_secret_is_rendered(staff_client, synced):
    connection = synced.connection
    for url in (CHANGELIST, reverse("admin:syncs_sync_change", args=[synced.pk]),
                reverse("admin:logs_recordlog_changelist")):
        page = staff_client.get(url).content.decode()
        assert connection.access_token not in page and connection.refresh_token not in page


def test_record_logs_are_searched_exactly(staff_client, synced):
    person = Person.objects.get(email="c1@example.com")
    url = reverse("admin:logs_recordlog_changelist")
    by_email = staff_client.get(url, {"q": "C1@Example.com"}).context["cl"]
    assert [log.hub_ref for log in by_email.result_list] == [f"person:{person.pk}"]
    by_id = staff_client.get(url, {"q": person.customer_id}).context["cl"]
    assert [log.record_id for log in by_id.result_list] == [person.customer_id]
    by_ref = staff_client.get(url, {"q": f"person:{person.pk}"}).context["cl"]
    assert by_ref.result_count == 1
    run = SyncRun.objects.get()
    by_run = staff_client.get(url, {"run": run.pk, "outcome": "created"}).context["cl"]
    assert by_run.result_count == 3
    assert staff_client.get(url, {"q": "nobody@example.com"}).context["cl"].result_count == 0


def test_log_pages_never_count_the_whole_table(staff_client, synced, monkeypatch):
    monkeypatch.setattr(shared_admin, "CAP", 2)
    url = reverse("admin:logs_recordlog_changelist")
    with CaptureQueriesContext(database) as queries:
        response = staff_client.get(url)
    assert "more than 2 record logs" in response.content.decode()
    assert response.context["cl"].full_result_count is None
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "logs_recordlog" in q["sql"]]
    assert counts and all("LIMIT 3" in sql for sql in counts), counts


def test_hub_pages_search_people_and_objects(staff_client, synced):
    person = Person.objects.get(email="c2@example.com")
    cl = staff_client.get(reverse("admin:workspace_person_changelist"),
                          {"q": "c2@EXAMPLE.com"}).context["cl"]
    assert list(cl.result_list) == [person]
    cl = staff_client.get(reverse("admin:workspace_person_changelist"),
                          {"q": person.customer_id}).context["cl"]
    assert list(cl.result_list) == [person]
    page = staff_client.get(reverse("admin:workspace_person_change", args=[person.pk]))
    assert page.status_code == 200 and "c2@example.com" in page.content.decode()
    assert staff_client.get(reverse("admin:workspace_person_add")).status_code == 403


def test_saving_a_sync_after_the_session_expired_refreshes_it_first(staff_client, make_sync,
                                                                     emulator):
    sync = make_sync("Contact", fields=["FirstName"])
    url = reverse("admin:syncs_sync_change", args=[sync.pk])
    emulator.control.expire_sessions()
    # The filter is checked with a query: a refresh inside the admin's transaction would fail.
    response = staff_client.post(url, form_data(sync.connection, name=sync.name,
                                                fields=["FirstName"], filter="Email != null"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    sync.refresh_from_db()
    assert sync.filter == "Email != null"
