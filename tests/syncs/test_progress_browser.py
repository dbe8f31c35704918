"""An operator presses "Sync now" on the sync page; the progress bar follows the run a real
cluster makes and reaches the end; the buttons come back once it ended."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from syncs.models import SyncRun
from tests.conftest import log_in, screenshot
from tests.syncs.conftest import contacts


@pytest.mark.browser
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_sync_now_shows_the_progress_bar_reach_the_end(live_server, page, staff_user,
                                                      emulator, make_sync, cluster):
    emulator.control.insert("Contact", *contacts(2000))
    # Its schedule starts tomorrow, so the cluster's dispatcher never starts a run of its own:
    # the one run is the one "Sync now" asks for.
    sync = make_sync("Contact", name="Contacts → people", batch_size=200,
                     start_at=timezone.now() + dt.timedelta(days=1))
    # Every Salesforce call takes 400 ms: ten pages make a run the page can watch.
    emulator.control.faults(latency_ms=400)
    log_in(page, live_server.url, f"/admin/syncs/sync/{sync.pk}/change/")
    assert "No run yet" in page.inner_text("#sync-progress")

    page.click("#sync-now")
    assert "A worker starts 1 sync within seconds" in page.inner_text(".messagelist")
    assert page.is_disabled("#sync-now") and page.is_disabled("#resync-all")
    states, running_seen, deadline = [], "", time.monotonic() + 120
    while True:
        box = page.locator("#sync-progress [data-state]").first
        state = box.get_attribute("data-state")
        if not states or states[-1] != state:
            states.append(state)
        if state == "running" and "of 2000 records" in box.inner_text() and not running_seen:
            running_seen = box.inner_text()
            screenshot(page, "sync-progress-running")
        if state in ("succeeded", "failed"):
            break
        assert cluster.poll() is None, "the cluster exited"
        assert time.monotonic() < deadline, f"the run did not end: {states}"
        time.sleep(0.2)

    assert state == "succeeded", SyncRun.objects.first().error
    # The page after the click shows "starting" unless a fast broker's worker has already
    # claimed the run (test_sync_page checks the starting state on its own); either way the
    # bar was seen running before it ended.
    assert states[0] in ("starting", "running") and "running" in states, states
    fill = page.locator("#run-progress .fb-progress-fill")
    assert "width:100%" in fill.get_attribute("style").replace(" ", "")
    assert "of 2000 records" in running_seen, running_seen
    assert "2000 records read" in page.inner_text("#run-progress")
    # Polling stopped (286) and gave the buttons back.
    page.wait_for_function("!document.querySelector('#sync-now').disabled")
    assert page.locator("#sync-progress[data-poll]").count() == 0
    run = SyncRun.objects.get(sync=sync)
    assert (run.total, run.fetched, run.created) == (2000, 2000, 2000)
    screenshot(page, "sync-progress-done")

    page.click("#run-history")
    page.wait_for_load_state()
    assert page.locator("#run-rows tbody tr").count() == 1
    page.click("#run-rows tbody tr a >> nth=0")
    assert "No record failed in this run" in page.inner_text("#run-errors")
    screenshot(page, "sync-run")
