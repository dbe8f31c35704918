"""A real browser connects an org: Connect → the emulator's consent page (Allow) → connected."""

from __future__ import annotations

import pytest

from connections.models import Connection


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_connects_an_org_in_the_browser(live_server, page, staff_user, emulator,
                                                settings):
    emulator.control.settings(auto_approve=False)
    # As in the demo: the browser opens the emulator's plain-HTTP consent page, while
    # Forcebridge exchanges the code over HTTPS.
    settings.SALESFORCE_AUTHORIZE_URL = emulator.http_url
    created = Connection.objects.create(name="Browser org")

    page.goto(f"{live_server.url}{created.get_absolute_url()}")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "operator-pass-1")
    page.click("input[type=submit]")
    assert page.inner_text("#connection-status") == "Not connected"

    page.click("#connect-salesforce")
    page.wait_for_selector("#approve")
    assert page.url.startswith(emulator.http_url + "/services/oauth2/authorize")
    assert "Allow Access?" in page.inner_text("h1")
    page.click("#approve")

    page.wait_for_selector("#connection-status")
    page.wait_for_load_state()  # the whole page parsed, the buttons below the status included
    assert page.url == f"{live_server.url}{created.get_absolute_url()}"
    assert page.inner_text("#connection-status") == "Connected"
    created.refresh_from_db()
    assert f"Connected to Salesforce org {created.org_id}" in page.inner_text(".messagelist")
    assert page.locator("#disconnect").count() == 1
