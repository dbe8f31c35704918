"""An operator builds an action through its set-up page in a real browser, dry-runs it,
reconciles it and runs it with a real cluster; a hub change reaches the emulator and shows
in the logs browser as hub → Salesforce."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from connections.models import Connection
from syncs.actions import Action
from syncs.models import SyncRun
from tests.conftest import log_in, screenshot
from tests.syncs.push_cast import hub_people
from tests.waiting import wait_until


def wait_for_run(page, cluster, count: int) -> str:
    """Wait until the action has `count` runs and its page's progress shows the last ended."""
    deadline = time.monotonic() + 90
    while True:
        box = page.locator("#action-progress [data-state]").first
        state = box.get_attribute("data-state")
        if SyncRun.objects.count() >= count and state in ("succeeded", "failed", "deferred"):
            return state
        assert cluster.poll() is None, "the cluster exited"
        assert time.monotonic() < deadline, f"no finished run: {state}"
        time.sleep(0.3)


def idle(action: Action) -> bool:
    """No worker holds the action, runs it or is asked to."""
    row = Action.objects.get(pk=action.pk)
    return row.claimed_at is None and not row.run_requested and \
        not SyncRun.objects.filter(action=action, status="running").exists()


def contact(emulator) -> dict:
    return next(r for r in emulator.control.records("Contact") if r.get("Email") == "ann@x.io")


@pytest.mark.browser
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_operator_builds_dry_runs_and_runs_an_action(live_server, page, staff_user, emulator,
                                                     connection, cluster):
    emulator.control.insert("Contact", {"LastName": "Old", "Email": "ann@x.io"})
    # Hub people from elsewhere: written before the action exists, so a reconcile's to write.
    hub_people({"email": "ann@x.io", "lastName": "Lee", "title": "CEO"},
               {"email": "nobody@x.io", "lastName": "Nobody"})
    # A second connection: none is chosen for the operator, so the policy waits for one.
    Connection.objects.create(name="Other org", conflict_policy="newest")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "/admin/syncs/action/add/")

    # 1. The set-up page: People → Contact, update only, matched by email → Email.
    page.fill("#id_name", "People → Contacts")
    assert page.input_value("#id_conflict_policy") == ""  # the chosen connection's own
    page.select_option("#id_connection", str(connection.pk))
    # The conflict policy shown is the chosen connection's; the operator changes it.
    assert page.input_value("#id_conflict_policy") == "salesforce"
    assert page.inner_text("label[for=id_conflict_policy]").startswith(
        "Conflict policy — applies to every sync and action of connection “Emulator org”")
    page.select_option("#id_conflict_policy", "hub")
    page.fill("#id_sobject", "Contact")
    page.press("#id_sobject", "Tab")
    # The object's fields are offered to the matchers' search.
    page.wait_for_function("document.querySelector('#matcher-fields option[value=Email]')")
    page.check("input[name=entity][value=people]")
    # The confirmation of a delete with no segment is asked for a delete only, naming the object.
    page.check("input[name=operation][value=delete]")
    assert page.is_visible(".field-confirm_delete_all")
    assert "every Contact record" in page.inner_text(".field-confirm_delete_all label")
    page.check("input[name=operation][value=update]")
    assert page.is_hidden(".field-confirm_delete_all")
    page.fill("input[name=matchers_source] >> nth=0", "email")
    page.fill("input[name=matchers_field] >> nth=0", "Email")
    page.fill("#id_field_mappings", '[["lastName", "LastName"], ["title", "Title"]]')
    # The first reconcile is due tomorrow: this test starts each run itself.
    page.fill("#id_start_at_0", (timezone.localdate() + dt.timedelta(days=1)).isoformat())
    page.fill("#id_start_at_1", "06:00:00")
    # A matcher Salesforce cannot filter on is refused, naming the field and the reason.
    page.fill("input[name=matchers_field] >> nth=0", "Description")
    page.click("input[name=_continue]")
    assert "Description cannot be a record matcher: Salesforce cannot filter on it" in \
        page.inner_text(".field-matchers .errorlist")
    page.fill("input[name=matchers_field] >> nth=0", "Email")
    page.click("input[name=_continue]")
    assert "was added successfully" in page.inner_text(".messagelist")
    assert "The conflict policy of connection “Emulator org” is now “Hub wins”" in \
        page.inner_text(".messagelist")
    assert Connection.objects.get(pk=connection.pk).conflict_policy == "hub"
    assert page.input_value("#id_conflict_policy") == "hub"
    action = Action.objects.get()
    assert (action.sobject, action.matchers, action.operation, action.allow_create) == (
        "Contact", [["email", "Email"]], "update", False)
    screenshot(page, "action-setup")

    # 2. The dry run: one update (the fields that differ), one skipped; nothing written.
    page.click("#dry-run")
    page.wait_for_load_state()
    assert "nothing was written to Salesforce" in page.inner_text(".messagelist")
    rows = page.locator("#dry-run-rows tbody tr")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-outcome") for i in range(2)] == ["update",
                                                                             "skipped"]
    assert "LastName = Lee" in rows.nth(0).inner_text() and "Title = CEO" in \
        rows.nth(0).inner_text()
    assert "no match (update only)" in rows.nth(1).inner_text()
    screenshot(page, "action-dry-run")
    assert contact(emulator)["LastName"] == "Old" and not SyncRun.objects.exists()

    # 3. Reconcile all (asks first), then watch the progress bar reach the end.
    page.click("text=Back to the action")
    page.wait_for_load_state()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reconcile-all")
    assert "Reconcile requested for 1 action" in page.inner_text(".messagelist")
    assert wait_for_run(page, cluster, 1) == "succeeded", SyncRun.objects.first().error
    assert "updated 1" in page.inner_text("#run-progress")
    page.wait_for_function("!document.querySelector('#run-now').disabled")
    assert (contact(emulator)["LastName"], contact(emulator)["Title"]) == ("Lee", "CEO")

    # 4. A hub change wakes the action by itself: its drain writes the new title within
    # seconds. Once that run ended, "Run now" starts a third run, which finds nothing left.
    # (Pressed while the drain was still to start, it would merge into the drain or follow
    # it, and the number of runs would depend on the worker's timing.)
    hub_people({"email": "ann@x.io", "lastName": "Lee", "title": "CTO"},
               {"email": "nobody@x.io", "lastName": "Nobody"})
    deadline = time.monotonic() + 90
    while contact(emulator)["Title"] != "CTO":
        assert cluster.poll() is None, "the cluster exited"
        assert time.monotonic() < deadline, "the hub change did not reach the emulator"
        time.sleep(0.3)
    assert wait_until(lambda: idle(action), 90), "the drain did not end"
    assert SyncRun.objects.filter(action=action).count() == 2
    page.reload()
    page.click("#run-now")
    assert "A worker writes the hub's changes of 1 action within seconds" in \
        page.inner_text(".messagelist")
    assert wait_for_run(page, cluster, 3) == "succeeded"
    latest = SyncRun.objects.filter(action=action).first()
    assert (latest.trigger, latest.updated, latest.failed) == ("manual", 0, 0)
    screenshot(page, "action-run-done")

    # 5. The logs browser: the action's logs, hub → Salesforce.
    page.click("#action-logs")
    page.select_option("#id_direction", "out")
    page.click("#apply-filter")
    page.wait_for_load_state()
    rows = page.locator("#log-rows tbody tr")
    texts = rows.all_inner_texts()
    assert texts and all("hub → SF" in text and "People → Contacts" in text for text in texts)
    assert any(contact(emulator)["Id"] in text and "Updated" in text for text in texts)
    screenshot(page, "action-logs")

    page.goto(f"{live_server.url}/admin/syncs/action/{action.pk}/change/")
    page.click("#run-history")
    page.wait_for_load_state()
    # The reconcile, the change's drain and Run now's.
    assert page.locator("#run-rows tbody tr").count() == 3
    assert page.locator("#run-rows tbody tr.fb-row-succeeded").count() == 3
