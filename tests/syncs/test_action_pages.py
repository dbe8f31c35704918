"""The action pages: the set-up form guided by describe and refusing what Salesforce would,
the run panel (Run now, Reconcile all, progress, run history), the dry run that writes nothing,
and the logs browser's action filter."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection
from logs.models import RecordLog
from syncs.actions import Action
from syncs.models import Sync, SyncRun
from tests.syncs.push_cast import hub_people, make_action, ok

pytestmark = pytest.mark.django_db
ADD = reverse("admin:syncs_action_add")
ROWS = [("firstName", "FirstName"), ("lastName", "LastName")]


def setup_data(connection, **values) -> dict:
    data = {"name": "People → Contacts", "connection": connection.pk, "sobject": "Contact",
            "enabled": "on", "entity": "people", "operation": "update",
            "matchers_source": ["email"], "matchers_field": ["Email"],
            "matcher_operator": "or", "field_mappings": '[["lastName", "LastName"]]',
            "batch_mode": "auto", "bulk_threshold": "2000", "schedule_kind": "daily",
            "every_minutes": "15", "cron": ""}
    data.update(values)
    return data


def page_of(client, action: Action) -> str:
    return client.get(reverse("admin:syncs_action_change", args=[action.pk])).content.decode()


# -- set-up -----------------------------------------------------------------------------------

def test_the_set_up_offers_createable_objects_popular_first_and_the_fields_to_match(
        staff_client, connection):
    page = staff_client.get(ADD).content.decode()
    objects = page.split('<datalist id="sobject-choices">')[1].split("</datalist>")[0]
    names = [chunk.split('"')[0] for chunk in objects.split('<option value="')[1:]]
    assert names[:5] == ["Contact", "Lead", "Account", "Opportunity", "Case"]
    assert len(names) > 5 and len(set(names)) == len(names)
    assert "matchers_source" in page and 'id="id_matcher_operator_0"' in page

    action = make_action(connection, rows=ROWS)
    edit = page_of(staff_client, action)
    fields = edit.split('<datalist id="matcher-fields">')[1].split("</datalist>")[0]
    assert '<option value="Email">' in fields
    assert "Description · textarea · not filterable" in fields
    assert 'name="matchers_source" value="email"' in edit


def test_a_connection_without_a_schema_still_opens_the_set_up_and_says_why(staff_client, db):
    Connection.objects.create(name="Not connected")
    page = staff_client.get(ADD)
    assert page.status_code == 200
    assert "Could not read the schema of Not connected" in page.content.decode()
    assert "is not connected to Salesforce" in page.content.decode()


def test_choosing_the_object_offers_its_fields_to_match(staff_client, connection):
    url = reverse("admin:syncs_action_fields")
    answer = staff_client.get(url, {"connection": connection.pk, "sobject": "Lead"})
    assert answer.status_code == 200
    assert '<option value="Email">' in answer.content.decode()
    assert '<option value="Company">' in answer.content.decode()
    unknown = staff_client.get(url, {"connection": connection.pk, "sobject": "Nope__c"})
    assert unknown.status_code == 400
    assert "Salesforce could not describe 'Nope__c'" in unknown.content.decode()
    assert staff_client.get(url, {"sobject": "Lead"}).status_code == 400
    assert Client().get(url).status_code == 302  # not logged in: the admin's login page


def test_matchers_are_saved_from_their_rows_with_and_or(staff_client, connection):
    data = setup_data(connection, matchers_source=["email", "", "lastName"],
                      matchers_field=["Email", "", "LastName"], matcher_operator="and")
    response = staff_client.post(ADD, data, follow=True)
    assert "was added successfully" in response.content.decode()
    action = Action.objects.get()
    assert action.matchers == [["email", "Email"], ["lastName", "LastName"]]
    assert action.matcher_operator == "and"


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"matchers_source": ["bio"], "matchers_field": ["Description"]}, "matchers",
     "Description cannot be a record matcher: Salesforce cannot filter on it (not filterable)"),
    ({"matchers_source": ["email"], "matchers_field": [""]}, "matchers",
     "“email”: a matcher needs both a hub attribute and a Salesforce field."),
    ({"matchers_source": [], "matchers_field": []}, "matchers",
     "A update needs at least one record matcher."),
    ({"sobject": "Nothing__c"}, "sobject", "Salesforce could not describe &#x27;Nothing__c&#x27;"),
    ({"operation": "upsert", "allow_create": "on"}, "matchers",
     "Email is not an external id field"),
])
def test_what_salesforce_would_refuse_is_named_on_its_field(staff_client, connection, values,
                                                            field, message):
    response = staff_client.post(ADD, setup_data(connection, **values))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert message in response.content.decode()
    assert not Action.objects.exists()


# -- the run panel ----------------------------------------------------------------------------

def test_the_page_has_run_now_reconcile_with_a_question_and_dry_run(staff_client, connection):
    action = make_action(connection, rows=ROWS)
    page = page_of(staff_client, action)
    assert 'id="run-now" class="default" data-while-running >' in page
    assert 'id="reconcile-all" data-while-running >' in page
    assert "data-confirm=\"Reconcile “Contact action”?" in page
    assert reverse("admin:syncs_action_dry_run", args=[action.pk]) in page
    assert f"?action={action.pk}" in page and "No run yet." in page


def test_run_now_and_reconcile_request_a_run_and_say_so(staff_client, connection):
    action = make_action(connection, rows=ROWS)
    run_now = reverse("admin:syncs_action_run_now", args=[action.pk])
    assert staff_client.get(run_now).status_code == 405
    response = staff_client.post(run_now, follow=True)
    assert "A worker writes the hub&#x27;s changes of 1 action within seconds" in \
        response.content.decode()
    action.refresh_from_db()
    assert action.run_requested == "manual"
    # A request waiting for a worker: the buttons are disabled and the page polls.
    page = page_of(staff_client, action)
    assert 'id="run-now" class="default" data-while-running disabled' in page
    progress = reverse("admin:syncs_action_progress", args=[action.pk])
    assert f'data-poll="{progress}"' in page
    assert staff_client.get(progress).status_code == 200

    response = staff_client.post(reverse("admin:syncs_action_resync", args=[action.pk]),
                                 follow=True)
    assert "Reconcile requested for 1 action" in response.content.decode()
    action.refresh_from_db()
    assert action.run_requested == "resync"


def test_a_disabled_action_is_not_run_and_says_why(staff_client, connection):
    action = make_action(connection, rows=ROWS, enabled=False)
    assert 'id="run-now"' not in page_of(staff_client, action)
    response = staff_client.post(reverse("admin:syncs_action_run_now", args=[action.pk]),
                                 follow=True)
    assert "Skipped (disabled): Contact action. Enable a action to run it." in \
        response.content.decode().replace("&#x27;", "'")
    action.refresh_from_db()
    assert action.run_requested == ""


def test_run_history_progress_and_errors_of_an_action(staff_client, emulator, connection):
    emulator.control.insert("Contact", {"LastName": "Old", "Email": "ann@x.io"},
                            {"LastName": "A", "Email": "two@x.io"},
                            {"LastName": "B", "Email": "two@x.io"})
    hub_people({"email": "ann@x.io", "lastName": "New"}, {"email": "two@x.io", "lastName": "C"})
    action = make_action(connection, rows=ROWS)
    run = ok(action)
    # The emulator notes every record written (the dry run's test relies on it).
    assert len(emulator.control.received_headers()) == 1
    progress = staff_client.get(reverse("admin:syncs_action_progress", args=[action.pk]))
    assert progress.status_code == 286
    text = progress.content.decode()
    assert "2 records processed" in text and "updated 1" in text and "failed 1" in text
    history = staff_client.get(reverse("admin:syncs_action_runs", args=[action.pk]))
    assert history.status_code == 200 and "Runs of Contact action" in history.content.decode()
    assert history.content.decode().count('class="fb-row-succeeded"') == 1
    run_page = staff_client.get(reverse("admin:syncs_syncrun_change", args=[run.pk]))
    assert "MULTIPLE_MATCHES" in run_page.content.decode()


# -- the dry run ------------------------------------------------------------------------------

def test_a_dry_run_shows_each_outcome_and_writes_nothing(staff_client, emulator, connection):
    emulator.control.insert("Contact", {"LastName": "Old", "FirstName": "Ann", "Email": "ann@x.io"},
                            {"LastName": "Same", "FirstName": "Bo", "Email": "bo@x.io"},
                            {"LastName": "A", "Email": "two@x.io"},
                            {"LastName": "B", "Email": "two@x.io"})
    hub_people({"email": "ann@x.io", "firstName": "Ann", "lastName": "Lee"},
               {"email": "bo@x.io", "firstName": "Bo", "lastName": "Same"},
               {"email": "cy@x.io", "lastName": "New"},
               {"email": "two@x.io", "lastName": "Twice"})
    action = make_action(connection, rows=ROWS)
    before = sorted(str(sorted(r.items())) for r in emulator.control.records("Contact"))
    emulator.control.clear_counters()
    url = reverse("admin:syncs_action_dry_run", args=[action.pk])

    assert "nothing was written" not in staff_client.get(url).content.decode()
    response = staff_client.post(url)
    page = response.content.decode()
    steps = {p.ref: p for p, _ in response.context["rows"]}
    assert [p.outcome for p in steps.values()] == ["update", "unchanged", "skipped", "failed"]
    ann = next(p for p in steps.values() if p.outcome == "update")
    assert ann.fields == {"LastName": "Lee"} and ann.sf_id
    assert "matched by email → Email, update only." in page
    assert "NO_MATCH" in page and "no match (update only)" in page
    assert "MULTIPLE_MATCHES" in page and "2 Contact records match" in page
    assert 'data-outcome="unchanged"' in page and "LastName</span> = Lee" in page
    assert "4 hub records planned (1 update, 1 unchanged, 1 skipped, 1 failed); nothing was " \
        "written to Salesforce." in page

    Action.objects.filter(pk=action.pk).update(allow_create=True)
    created = staff_client.post(url)
    assert [p.outcome for p, _ in created.context["rows"]][2] == "create"
    assert 'data-outcome="create"' in created.content.decode()

    # Reads only: the matcher queries (and describe); no write reached the emulator.
    counters = emulator.control.counters()
    assert counters.get("query") == 2 and not counters.get("composite") and \
        not counters.get("jobs"), counters
    assert emulator.control.received_headers() == []
    after = sorted(str(sorted(r.items())) for r in emulator.control.records("Contact"))
    assert after == before
    assert not SyncRun.objects.exists() and not RecordLog.objects.exists()
    action.refresh_from_db()
    assert action.outbox_position == -1


def test_a_dry_run_names_what_stops_it(staff_client, emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Lee"})
    action = make_action(connection, rows=ROWS)
    action.replace_rows([*action.field_rows()[:1]])
    Action.objects.filter(pk=action.pk).update(sobject="Gone__c")
    response = staff_client.post(reverse("admin:syncs_action_dry_run", args=[action.pk]))
    assert response.status_code == 200
    assert "The dry run could not plan Contact action" in response.content.decode()
    assert 'id="dry-run-rows"' not in response.content.decode()
    Action.objects.filter(pk=action.pk).update(sobject="Contact", matchers={"email": "Email"})
    response = staff_client.post(reverse("admin:syncs_action_dry_run", args=[action.pk]))
    assert "The dry run could not plan Contact action: A list of" in response.content.decode()


def test_the_dry_run_needs_the_change_permission(client, django_user_model, connection):
    action = make_action(connection, rows=ROWS)
    user = django_user_model.objects.create_user("clerk", password="clerk-pass-1",
                                                 is_staff=True)
    client.force_login(user)
    assert client.post(reverse("admin:syncs_action_dry_run", args=[action.pk])).status_code \
        == 403


# -- the logs browser -------------------------------------------------------------------------

def test_the_logs_browser_filters_by_action(staff_client, emulator, connection):
    emulator.control.insert("Contact", {"LastName": "Old", "Email": "ann@x.io"})
    hub_people({"email": "ann@x.io", "lastName": "New"})
    action = make_action(connection, rows=ROWS)
    run = ok(action)
    browse = reverse("admin:logs_recordlog_browse")
    page = staff_client.get(browse, {"action": action.pk}).content.decode()
    assert 'class="fb-log-action"' in page and "hub → SF" in page
    assert staff_client.get(browse, {"action": action.pk, "direction": "in"}).context[
        "page"].rows == []
    by_connection = staff_client.get(browse, {"connection": connection.pk}).context["page"]
    assert [log.action_id for log in by_connection.rows] == [action.pk]
    by_run = staff_client.get(browse, {"run": run.pk}).content.decode()
    assert f"Run #{run.pk} of" in by_run and "Retry failed records" not in by_run
    sync = Sync.objects.create(connection=connection, name="Contacts", sobject="Contact",
                               person_id_field="Id")
    both = staff_client.get(browse, {"action": action.pk, "sync": sync.pk})
    assert "Choose a sync or an action, not both" in both.content.decode()


# -- permissions and runs under way -----------------------------------------------------------

def test_view_only_staff_see_the_action_without_buttons(client, django_user_model, connection):
    action = make_action(connection, rows=ROWS)
    user = django_user_model.objects.create_user("viewer", password="viewer-pass-1",
                                                 is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["view_action", "view_connection", "view_syncrun"]))
    client.force_login(user)
    page = client.get(reverse("admin:syncs_action_change", args=[action.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="run-now"' not in text and 'id="dry-run"' not in text
    assert "lastName" in text and "Email" in text
    assert client.post(reverse("admin:syncs_action_run_now", args=[action.pk])).status_code \
        == 403
    runs = client.get(reverse("admin:syncs_action_runs", args=[action.pk]))
    assert runs.status_code == 200


def test_a_running_action_shows_its_progress_and_its_run_page(staff_client, connection):
    action = make_action(connection, rows=ROWS)
    run = SyncRun.objects.create(action=action, direction="out", trigger="manual",
                                 mode="reconcile", fetched=30)
    Action.objects.filter(pk=action.pk).update(claimed_at=timezone.now(), claim_token="t",
                                               last_status="running", last_run_id=run.pk)
    progress = staff_client.get(reverse("admin:syncs_action_progress", args=[action.pk]))
    assert progress.status_code == 200 and "30</span> records processed" in \
        progress.content.decode()
    page = staff_client.get(reverse("admin:syncs_syncrun_change", args=[run.pk]))
    assert page.status_code == 200 and "Running" in page.content.decode()
    listed = staff_client.get(reverse("admin:syncs_action_changelist")).content.decode()
    assert "Running" in listed
