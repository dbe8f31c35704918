"""An operator changes a sync's mapping in the editor in a real browser: rows changed, added
and removed without a reload, a preview of real records before saving, then "Resync all data",
which a real cluster runs so every person carries the new traits."""

from __future__ import annotations

import time

import pytest

from syncs.models import SyncRun
from syncs.pull import run_sync
from tests.conftest import log_in, screenshot
from tests.syncs.conftest import contacts
from workspace.models import Person


@pytest.mark.browser
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_change_a_mapping_preview_it_save_and_resync(live_server, page, staff_user, emulator,
                                                    make_sync, cluster):
    emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", name="Contacts → people",
                     fields=["FirstName", "LastName", "Email"])
    run_sync(sync.pk)
    assert Person.objects.get(email="c0@example.com").attributes["firstName"] == "First0"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server.url, f"/admin/syncs/sync/{sync.pk}/change/")
    page.click("#open-mapping")
    page.wait_for_load_state()  # mapping.js binds the rows' handlers once the page is parsed
    rows = page.locator("#mapping-rows tbody tr")
    assert rows.count() == 3
    assert page.get_attribute("#mapping-rows tbody tr >> nth=0 >> [name=target]",
                              "placeholder") == "firstName"

    first = rows.nth(0)
    assert first.locator(".fb-reserved").inner_text() == "reserved trait: firstName"
    first.locator("[name=target]").fill("given")
    assert first.locator(".fb-reserved").inner_text() == ""
    first.locator("[name=transform]").select_option("lower")
    rows.nth(1).locator(".fb-remove-row").click()  # LastName
    page.click("#add-row")
    added = rows.nth(2)
    assert added.locator(".fb-row-number").inner_text() == "3"
    added.locator("[name=target]").fill("origin")
    added.locator("[name=transform]").select_option("constant")
    added.locator("[name=default]").fill("salesforce")
    page.click("#add-row")
    rows.nth(3).locator("[name=source]").fill("Title")
    assert rows.nth(3).locator("[name=target]").get_attribute("placeholder") == "title"
    rows.nth(3).locator(".fb-remove-row").click()
    assert rows.count() == 3

    page.click("#preview-mapping")
    page.wait_for_selector("#preview-result[data-state=shown]")
    preview = page.locator(".fb-preview")
    assert preview.count() == 3
    text = page.inner_text("#preview-box")
    assert "given\tfirst0" in text and "origin\tsalesforce" in text and "lastName" not in text
    assert page.locator("#mapping-rows tbody tr").count() == 3  # no reload: the rows as typed
    screenshot(page, "mapping-editor-preview")
    sync.refresh_from_db()
    assert [row.source for row in sync.field_rows()] == ["FirstName", "LastName", "Email"]

    page.click("#save-mapping")
    page.wait_for_load_state()
    assert "Mapping of “Contacts → people” saved (3 rows)" in page.inner_text(".messagelist")
    page.click("#resync-all")
    assert "Resync requested for 1 sync" in page.inner_text(".messagelist")
    deadline = time.monotonic() + 90
    while not SyncRun.objects.filter(sync=sync, trigger="resync").exclude(
            status="running").exists():
        assert cluster.poll() is None, "the cluster exited"
        assert time.monotonic() < deadline, "the resync did not end"
        time.sleep(0.5)
    run = SyncRun.objects.get(sync=sync, trigger="resync")
    assert run.status == "succeeded", run.error
    person = Person.objects.get(email="c0@example.com")
    assert person.attributes["given"] == "first0" and person.attributes["origin"] == "salesforce"
    page.wait_for_selector("#sync-progress [data-state=succeeded]")
    screenshot(page, "mapping-editor-resynced")
