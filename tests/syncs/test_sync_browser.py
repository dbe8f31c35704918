"""An operator presses "Sync now" in a real browser; a real cluster runs the sync; the operator
reads the run and its record logs."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from syncs.models import SyncRun
from tests.syncs.conftest import contacts


@pytest.mark.browser
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_operator_syncs_now_and_reads_the_run_and_its_logs(live_server, page, staff_user,
                                                          emulator, make_sync, cluster):
    emulator.control.insert("Contact", *contacts(3))
    # Its schedule starts tomorrow, so the cluster's dispatcher never starts a run of its own:
    # the one run is the one "Sync now" asks for.
    sync = make_sync("Contact", name="Contacts → people",
                     start_at=timezone.now() + dt.timedelta(days=1))

    page.goto(f"{live_server.url}/admin/syncs/sync/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "operator-pass-1")
    page.click("input[type=submit]")
    row = page.locator("#result_list tbody tr", has_text="Contacts → people")
    assert "never run" in row.inner_text()

    row.locator("input[name=_selected_action]").check()
    page.select_option("select[name=action]", "sync_now")
    page.click("button[name=index]")
    assert "A worker starts 1 sync within seconds" in page.inner_text(".messagelist")

    deadline = time.monotonic() + 90
    while row.locator(".fb-run-status").count() == 0 or \
            row.locator(".fb-run-status").inner_text() in ("Running", ""):
        assert cluster.poll() is None, "the cluster exited"
        assert time.monotonic() < deadline, f"no finished run: {row.inner_text()}"
        time.sleep(1)
        page.reload()

    assert row.locator(".fb-run-status").inner_text() == "Succeeded", \
        SyncRun.objects.first().error
    run = SyncRun.objects.get(sync=sync)
    row.locator("td.field-last_run a").click()
    assert page.inner_text(".field-run_status .readonly") == "Succeeded"
    assert page.inner_text(".field-fetched .readonly") == "3"
    assert page.inner_text(".field-trigger .readonly") == "Manual"

    page.click("a.fb-run-logs")
    page.wait_for_load_state()
    assert page.url.endswith(f"/admin/logs/recordlog/?run={run.pk}")
    logs = page.locator("#result_list tbody tr")
    assert logs.count() == 3
    assert all("Created" in text for text in logs.all_inner_texts())
    assert "3 record logs" in page.inner_text(".paginator")
