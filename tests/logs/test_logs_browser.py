"""In a real browser an operator finds a contact's logs by its e-mail, opens the record's
history, narrows the logs with filters and sees the dashboard's syncs and chart."""

from __future__ import annotations

import pytest

from syncs.pull import run_sync
from tests.conftest import log_in, screenshot
from tests.syncs.conftest import contacts


@pytest.fixture
def synced(emulator, make_sync):
    """Contacts pulled once (in this process), one of them refused by the hub."""
    emulator.control.insert("Contact", *contacts(12))
    sync = make_sync("Contact", name="Contacts → people")
    run = run_sync(sync.pk)
    assert run.status == "succeeded", run.error
    return sync


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_find_a_contact_by_email_and_open_its_history(live_server, page, staff_user, synced):
    log_in(page, live_server.url, "/admin/")
    page.click("#nav-logs")
    page.wait_for_load_state()  # the click returns once the page commits, not once it is parsed
    assert page.locator("#log-rows tbody tr").count() == 12
    screenshot(page, "logs-browser")

    page.fill("#id_q", "C7@example.com")
    page.click("#apply-filter")
    page.wait_for_load_state()
    rows = page.locator("#log-rows tbody tr")
    assert rows.count() == 1 and "Created" in rows.inner_text()
    record_id = rows.locator("td.fb-code").first.inner_text()

    rows.locator("a.fb-history").click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith("/admin/logs/recordlog/history/")
    assert record_id in page.inner_text("#record-summary")
    history = page.locator("#history-rows tbody tr")
    assert history.count() == 1 and "Contacts → people" in history.inner_text()
    assert "Salesforce → hub" in history.inner_text()
    screenshot(page, "logs-history")

    page.goto(f"{live_server.url}/admin/logs/recordlog/browse/")
    page.select_option("#id_outcome", "failed")
    page.click("#apply-filter")
    page.wait_for_load_state()
    assert "No record logs match" in page.inner_text("#content-main")
    assert page.locator("#error-groups").inner_text().strip().endswith("No errors in this filter.")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_shows_the_sync_and_the_chart(live_server, page, staff_user, synced):
    log_in(page, live_server.url, "/admin/")
    page.click("#index-dashboard")
    page.wait_for_load_state()
    row = page.locator("#dashboard-syncs tbody tr", has_text="Contacts → people")
    assert "succeeded" in row.inner_text() and "12" in row.inner_text()
    assert "Emulator org" in page.inner_text("#dashboard-connections")
    chart = page.locator("#runs-chart")
    assert chart.is_visible() and chart.locator("rect.fb-bar-ok").count() == 1
    assert chart.locator("rect.fb-bar-records").count() == 1
    assert page.inner_text("#tile-failing").startswith("0")
    screenshot(page, "dashboard")
