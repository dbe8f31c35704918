"""The segment builder in a real headless Chromium: condition rows with all/any and the live
count following them, saved; then the segment picked on an action's set-up page, and with a
real cluster and the emulator only the segment's member is written to Salesforce."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mappings.models import Segment
from syncs.actions import Action
from tests.conftest import log_in, screenshot
from tests.syncs.push_cast import hub_people
from tests.syncs.test_action_browser import wait_for_run
from workspace.models import Object, ObjectType, Person, Relationship


def count_is(page, expected: str) -> None:
    """Wait until the live members box shows `expected` members (the latest count)."""
    try:
        _wait_count(page, expected)
    except Exception:
        print(page.inner_html("#segment-live"))
        raise


def _wait_count(page, expected: str) -> None:
    page.wait_for_function(
        "expected => { const box = document.querySelector('#segment-members');"
        " const count = box && box.querySelector('.fb-segment-count');"
        " return !!count && box.dataset.state === 'counted' && count.textContent === expected; }",
        arg=expected)


def contact(emulator, email: str) -> dict:
    return next(r for r in emulator.control.records("Contact") if r.get("Email") == email)


def build_segment(page) -> None:
    """Pro plan, and more than 3 seats: two rows, all then any then all again."""
    count_is(page, "4")  # no condition yet: every person
    page.fill("#id_name", "Pro with seats")
    page.click("#add-condition")
    first = page.locator("#segment-rows > .fb-cond").nth(0)
    first.locator(".fb-attr").fill("plan")
    first.locator(".fb-op").select_option("equals")
    first.locator(".fb-value").fill("pro")
    count_is(page, "2")
    # The attribute names of the hub's recent people are offered.
    offered = page.eval_on_selector_all("#segment-keys-people option", "os => os.map(o => o.value)")
    assert {"email", "customer_id", "plan", "seats"} <= set(offered)

    # A "related to" row: people related to an Account whose tier is big (cat only).
    page.click("#add-related")
    related = page.locator("#segment-rows > .fb-related")
    related.locator(".fb-rel-type").select_option("Account")
    related.locator(".fb-add-nested").click()
    nested = related.locator(".fb-nested > .fb-cond")
    nested.locator(".fb-attr").fill("tier")
    assert page.eval_on_selector_all(f"#{nested.locator('.fb-attr').get_attribute('list')} option",
                                     "os => os.map(o => o.value)") == ["object_id", "tier"]
    nested.locator(".fb-value").fill("big")
    count_is(page, "1")
    assert "cat@x.io" in page.inner_text(".fb-segment-preview")
    screenshot(page, "segment_builder_related")
    related.locator(".fb-related-head .fb-remove").click()
    count_is(page, "2")

    page.click("#add-condition")
    second = page.locator("#segment-rows > .fb-cond").nth(1)
    second.locator(".fb-attr").fill("seats")
    # Each operator takes the value it needs: none, a number of days, a list, a number.
    second.locator(".fb-op").select_option("is_set")
    assert second.locator(".fb-value, .fb-list").count() == 0
    second.locator(".fb-op").select_option("within_days")
    assert second.locator("input.fb-value[type=number]").count() == 1
    assert second.locator(".fb-unit").inner_text() == "days"
    second.locator(".fb-op").select_option("in_list")
    assert second.locator("textarea.fb-list").count() == 1
    second.locator(".fb-op").select_option("greater")
    # Greater, with no number yet: refused, the condition named.
    page.wait_for_selector("#segment-members[data-state=problems]")
    assert "Condition 2 (seats): 'is greater than' needs a value." in \
        page.inner_text("#segment-problems")
    second.locator("input.fb-value[type=number]").fill("3")
    count_is(page, "1")
    page.select_option("#id_match", "any")
    count_is(page, "3")
    screenshot(page, "segment_builder_any")
    page.select_option("#id_match", "all")
    count_is(page, "1")
    assert "ann@x.io" in page.inner_text(".fb-segment-preview")
    screenshot(page, "segment_builder_all")


@pytest.mark.browser
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_build_a_segment_pick_it_on_an_action_and_only_its_member_is_pushed(
        live_server, page, staff_user, emulator, connection, cluster):
    people = {"ann@x.io": ("pro", 5), "bob@x.io": ("free", 50), "cat@x.io": ("pro", 1),
              "dan@x.io": ("free", 1)}
    for email in people:
        emulator.control.insert("Contact", {"LastName": "Old", "Email": email})
    hub_people(*({"email": email, "lastName": "New", "plan": plan, "seats": seats}
                 for email, (plan, seats) in people.items()))
    account = ObjectType.objects.create(singular="Account", plural="Accounts")
    big = Object.objects.create(type=account, object_id="A1", attributes={"tier": "big"})
    Relationship.objects.create(person=Person.objects.get(email="cat@x.io"), object=big)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "/admin/mappings/segment/add/")

    # 1. The builder: rows, the live count, saved.
    build_segment(page)
    page.click("input[name=_continue]")
    page.wait_for_load_state()  # the rows are drawn by the page's script
    assert "was added successfully" in page.inner_text(".messagelist")
    segment = Segment.objects.get()
    assert (segment.match, segment.conditions) == ("all", [
        {"attribute": "plan", "operator": "equals", "value": "pro"},
        {"attribute": "seats", "operator": "greater", "value": 3}])
    # The change page draws the saved rows again, and counts them.
    assert page.locator("#segment-rows > .fb-cond").count() == 2
    count_is(page, "1")

    # 2. The action set-up page offers the builder, and the segment.
    page.goto(f"{live_server.url}/admin/syncs/action/add/")
    assert page.get_attribute("#new-segment", "href") == "/admin/mappings/segment/add/"
    page.select_option("#id_connection", str(connection.pk))
    typed = {"#id_name": "Pro people → Contacts", "#id_sobject": "Contact",
             "input[name=matchers_source] >> nth=0": "email",
             "input[name=matchers_field] >> nth=0": "Email",
             "#id_field_mappings": '[["lastName", "LastName"]]',
             # The first reconcile is due tomorrow: this test starts the run itself.
             "#id_start_at_0": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
             "#id_start_at_1": "06:00:00"}
    for selector, value in typed.items():
        page.fill(selector, value)
    for choice in ("entity][value=people", "operation][value=update"):
        page.check(f"input[name={choice}]")
    page.select_option("#id_segments", label="Pro with seats")
    page.click("input[name=_continue]")
    page.wait_for_load_state()
    assert "was added successfully" in page.inner_text(".messagelist")
    action = Action.objects.get()
    assert list(action.segments.all()) == [segment]

    # 3. Reconcile all with the cluster: only ann, the segment's member, is written.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reconcile-all")
    assert wait_for_run(page, cluster, 1) == "succeeded"
    assert contact(emulator, "ann@x.io")["LastName"] == "New"
    assert [contact(emulator, email)["LastName"] for email in people if email != "ann@x.io"] \
        == ["Old", "Old", "Old"]
    screenshot(page, "segment_builder_action_run")
