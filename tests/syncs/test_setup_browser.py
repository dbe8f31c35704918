"""An operator sets up a Contacts → people sync on the guided page in a real browser: the
filter is refused by Salesforce first, then counts the matching records; the saved sync runs
with "Sync now" on a real cluster and its progress bar reaches the end."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from syncs.models import Sync, SyncRun
from tests.conftest import log_in, screenshot
from tests.syncs.conftest import contacts


@pytest.mark.browser
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_guided_set_up_of_contacts_with_a_filter_then_sync_now(live_server, page, staff_user,
                                                             emulator, connection, cluster):
    emulator.control.insert("Contact", *contacts(5), {"LastName": "NoMail"})
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "/admin/syncs/sync/")
    page.click(".object-tools a.addlink")
    page.wait_for_load_state()  # setup.js filters the objects and continues with the chosen one
    assert page.url.endswith("/admin/syncs/sync/setup/")
    page.fill("#id_name", "Contacts → people")
    page.fill("#object-search", "contact")
    assert page.locator("#id_sobject option[value=Account]").is_hidden()
    page.select_option("#id_sobject", "Contact")  # continues with the object (setup.js)
    page.wait_for_selector("#field-table")
    page.wait_for_load_state()
    assert page.input_value("#id_name") == "Contacts → people"
    assert "csrfmiddlewaretoken" not in page.url
    assert page.input_value("#id_person_id_field") == "Id"
    assert page.input_value("#id_data_format") == "person"

    page.click("#select-none")
    page.fill("#field-search", "name")
    page.click("#select-all")  # the visible (searched) fields only
    page.fill("#field-search", "")
    page.check("#field-Email")
    assert "FirstName" in page.locator("#field-table input:checked").evaluate_all(
        "boxes => boxes.map(b => b.value).join(' ')")

    page.fill("#id_filter", "Emial != null")
    page.click("#test-filter")
    page.wait_for_selector("#filter-result[data-ok=false]")
    refused = page.inner_text("#filter-result")
    assert "Salesforce rejected the filter: INVALID_FIELD" in refused and "Emial" in refused
    screenshot(page, "sync-setup-filter-refused")
    page.fill("#id_filter", "Email != null")
    page.click("#test-filter")
    page.wait_for_selector("#filter-result[data-ok=true]")
    assert page.inner_text("#filter-result") == "5 records match this filter."
    assert page.locator("#row-object_id_field").is_hidden()  # not used by people
    page.select_option("#id_schedule_kind", "minutes")
    page.fill("#id_every_minutes", "30")
    # The schedule starts tomorrow: due now, the new sync would get a first run of its own
    # from the cluster's dispatcher (every minute) too, which would race "Sync now" below.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.fill("#id_start_at", f"{tomorrow.isoformat()}T06:00")
    screenshot(page, "sync-setup-filled")

    page.click("#save-sync")
    assert "Sync “Contacts → people” created" in page.inner_text(".messagelist")
    sync = Sync.objects.get()
    assert sync.filter == "Email != null" and sync.every_minutes == 30
    assert timezone.localtime(sync.start_at).date() == tomorrow
    assert {"FirstName", "LastName", "Email"} <= set(sync.fields) and "Phone" not in sync.fields

    page.click("#sync-now")
    assert "A worker starts 1 sync within seconds" in page.inner_text(".messagelist")
    deadline = time.monotonic() + 90
    while page.locator("#sync-progress [data-state]").first.get_attribute("data-state") \
            not in ("succeeded", "failed"):
        assert cluster.poll() is None, "the cluster exited"
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.3)
    assert page.get_attribute("#sync-progress [data-state]", "data-state") == "succeeded", \
        SyncRun.objects.first().error
    fill = page.locator("#run-progress .fb-progress-fill")
    assert "width:100%" in fill.get_attribute("style").replace(" ", "")
    assert "5 records read" in page.inner_text("#run-progress")
    screenshot(page, "sync-setup-run-done")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_accounts_become_objects_of_a_new_object_type(live_server, page, staff_user, emulator,
                                                      connection):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "/admin/syncs/sync/setup/")
    page.fill("#id_name", "Accounts → objects")
    page.select_option("#id_sobject", "Account")
    page.wait_for_selector("#field-table")
    page.wait_for_load_state()
    assert page.input_value("#id_data_format") == "object"
    assert page.locator("#row-person_id_field").is_hidden()
    # No Account type yet: the preset's names wait in "New object type".
    assert page.is_visible("#new-type") and page.is_hidden("#new-type-button")
    assert (page.input_value("#id_new_type_singular"),
            page.input_value("#id_new_type_plural")) == ("Account", "Accounts")
    page.click("#save-sync")
    assert "created" in page.inner_text(".messagelist")
    assert Sync.objects.get().object_type.plural == "Accounts"

    page.goto(f"{live_server.url}/admin/syncs/sync/setup/")
    page.fill("#id_name", "Accounts as companies")
    page.select_option("#id_sobject", "Account")
    page.wait_for_selector("#field-table")
    page.wait_for_load_state()
    assert page.locator("#id_object_type option:checked").inner_text() == "Accounts"
    assert page.is_hidden("#new-type")
    page.click("#new-type-button")
    page.fill("#id_new_type_singular", "Company")
    page.fill("#id_new_type_plural", "Companies")
    screenshot(page, "sync-setup-new-object-type")
    page.click("#save-sync")
    assert "created" in page.inner_text(".messagelist")
    assert Sync.objects.get(name="Accounts as companies").object_type.singular == "Company"
