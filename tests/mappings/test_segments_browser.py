"""A segment's admin page in a real headless Chromium without JavaScript: the builder's rows
need the script, so the conditions are typed as JSON; a refused condition, then the count and
the first members (screenshots under screenshots/). With the script:
test_segment_builder_browser.py."""

from __future__ import annotations

import json

import pytest

from tests.conftest import log_in, screenshot
from workspace.models import Person


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_operator_saves_a_segment_and_sees_its_members(live_server, browser, staff_user):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    for i in range(14):
        Person.objects.create(email=f"p{i}@x.io", customer_id=f"c{i}",
                              attributes={"plan": "pro" if i % 2 else "free", "n": i})
    log_in(page, live_server.url, "/admin/mappings/segment/add/")
    page.fill("#id_name", "Pro plan")
    page.fill("#id_conditions", json.dumps([
        {"attribute": "plan", "operator": "equals", "value": "pro"},
        {"attribute": "n", "operator": "greater", "value": "many"}]))
    page.click("input[name=_continue]")
    page.wait_for_load_state()  # the click returns once the page commits, not once it is parsed
    error = page.wait_for_selector(".errorlist")
    assert "Condition 2 (n): 'is greater than' needs a number, not 'many'." in error.inner_text()
    screenshot(page, "segment_refused")
    page.fill("#id_conditions", json.dumps([
        {"attribute": "plan", "operator": "equals", "value": "pro"},
        {"attribute": "n", "operator": "greater", "value": 2}]))
    page.click("input[name=_continue]")
    page.wait_for_load_state()
    count = page.wait_for_selector(".fb-segment-count")
    assert count.inner_text() == "6"
    rows = page.locator(".fb-segment-preview tr")
    assert rows.count() == 7 and "p3@x.io / c3" in rows.nth(1).inner_text()
    screenshot(page, "segment_members")
    context.close()
