"""The admin login works in a real headless Chromium."""

from __future__ import annotations

import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_user_logs_in_and_sees_forcebridge(live_server, page, staff_user):
    page.goto(f"{live_server.url}/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "operator")
    page.fill("#id_password", "wrong-password")
    page.click("input[type=submit]")
    page.wait_for_load_state()  # the click returns once the page commits, not once it is parsed
    error = page.wait_for_selector(".errornote")
    assert "Please enter the correct username and password" in error.inner_text()
    page.fill("#id_password", "operator-pass-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.wait_for_load_state()  # the whole index parsed, not only its header
    assert page.inner_text("#site-name") == "Forcebridge"
    # django-q2's admin pages (labelled by Q_CLUSTER["label"]) are reachable from the index.
    assert page.locator("#content-main caption", has_text="Task queue").count() == 1
    page.click("#content-main a[href='/admin/django_q/schedule/']:text('Scheduled tasks')")
    page.wait_for_selector("#changelist")
