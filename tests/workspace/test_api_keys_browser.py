"""An operator creates an inbound API key in the admin (real Chromium), copies the key shown
once, and the key works against the API; the key's own page never shows it again."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import log_in, screenshot
from workspace.models import ApiKey, Person


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_operator_creates_a_key_that_works_and_is_shown_once(live_server, page, staff_user):
    log_in(page, live_server.url, "/admin/workspace/apikey/add/")
    page.fill("#id_name", "Marketing site")
    page.click("input[name=_save]")
    key = page.inner_text("#api-key")
    screenshot(page, "api_key_created")
    assert key.startswith("fb_") and "cannot be shown again" in page.inner_text(".messagelist")

    answer = requests.post(f"{live_server.url}/api/v1/identify", auth=(key, ""), timeout=10,
                           json={"userId": "site-1", "traits": {"email": "eve@example.com"}})
    assert answer.status_code == 200, answer.text
    assert Person.objects.get(customer_id="site-1").email == "eve@example.com"

    api_key = ApiKey.objects.get(name="Marketing site")
    page.goto(f"{live_server.url}/admin/workspace/apikey/")
    assert api_key.prefix in page.content() and key not in page.content()
    page.goto(f"{live_server.url}/admin/workspace/apikey/{api_key.pk}/change/")
    assert key not in page.content()
    assert page.locator(".field-last_used_at").inner_text() != ""
