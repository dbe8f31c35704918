"""The segment builder's server half: the live members endpoint (checked with the same
`problems()` as saving), the attribute names it suggests, who may use it, and the read-only
page of view-only staff."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from mappings import segment_builder
from mappings.models import Segment
from workspace.models import Object, ObjectType, Person, Relationship

pytestmark = pytest.mark.django_db
MEMBERS = reverse("admin:mappings_segment_members")
ADD = reverse("admin:mappings_segment_add")


def ask(client, conditions, **values):
    return client.post(MEMBERS, {"entity": "people", "match": "all",
                                 "conditions": json.dumps(conditions), **values})


@pytest.fixture
def people():
    return [Person.objects.create(email=f"p{i}@x.io", customer_id=f"c{i}",
                                  attributes={"plan": "pro" if i % 2 else "free", "n": i})
            for i in range(14)]


def test_good_conditions_answer_the_count_and_the_first_ten_members(staff_client, people):
    response = ask(staff_client, [{"attribute": "plan", "operator": "equals", "value": "pro"},
                                  {"attribute": "n", "operator": "greater", "value": 2}])
    page = response.content.decode()
    assert response.status_code == 200
    assert '<strong class="fb-segment-count">6</strong> people match.' in page
    assert "p3@x.io / c3" in page and "p1@x.io" not in page and "errorlist" not in page
    assert not Segment.objects.exists()  # nothing saved

    page = ask(staff_client, [{"attribute": "plan", "operator": "equals", "value": "pro"},
                              {"attribute": "n", "operator": "greater", "value": 2}],
               match="any").content.decode()
    assert '<strong class="fb-segment-count">12</strong>' in page
    # The first ten by id, of the twelve.
    preview = page.split('class="fb-segment-preview"')[1].split("</table>")[0]
    assert preview.count("<tr>") == 11 and "p1@x.io" in preview and "p13@x.io" not in preview


def test_a_related_condition_and_an_objects_segment_are_counted(staff_client, people):
    account = ObjectType.objects.create(singular="Account", plural="Accounts")
    big = Object.objects.create(type=account, object_id="A1", attributes={"tier": "big"})
    Object.objects.create(type=account, object_id="A2", attributes={"tier": "small"})
    Relationship.objects.create(person=people[4], object=big)
    page = ask(staff_client, [{"operator": "related_to", "object_type": "Account",
                               "match": "all", "conditions": [
                                   {"attribute": "tier", "operator": "in_list",
                                    "value": ["big", "huge"]}]}]).content.decode()
    assert '<strong class="fb-segment-count">1</strong> person matches.' in page
    assert "p4@x.io" in page
    page = ask(staff_client, [{"attribute": "tier", "operator": "is_set"}],
               entity="objects", object_type=str(account.pk)).content.decode()
    assert '<strong class="fb-segment-count">2</strong> objects match.' in page
    assert "A1" in page and "A2" in page


def test_bad_conditions_answer_the_named_problems(staff_client, people):
    page = ask(staff_client, [{"attribute": "plan", "operator": "equals", "value": "pro"},
                              {"attribute": "n", "operator": "greater", "value": "many"},
                              {"operator": "related_to", "object_type": "Nope",
                               "conditions": []}]).content.decode()
    assert 'id="segment-problems"' in page and "fb-segment-count" not in page
    assert "Condition 2 (n): &#x27;is greater than&#x27; needs a number, not " \
        "&#x27;many&#x27;." in page
    assert "Condition 3 (related to): no object type &#x27;Nope&#x27;" in page
    page = ask(staff_client, [], entity="objects").content.decode()
    assert "Object type: Required when the segment is over objects." in page
    page = staff_client.post(MEMBERS, {"entity": "people", "match": "all",
                                       "conditions": "[{"}).content.decode()
    assert "Enter a valid JSON." in page


def test_only_staff_who_may_add_or_change_segments_ask(client, django_user_model, people):
    assert client.post(MEMBERS, {}).status_code == 302  # to the login page
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_segment"))
    client.force_login(viewer)
    assert ask(client, []).status_code == 403
    viewer.user_permissions.add(Permission.objects.get(codename="add_segment"))
    client.force_login(django_user_model.objects.get(pk=viewer.pk))
    assert '<strong class="fb-segment-count">14</strong>' in ask(client, []).content.decode()
    assert client.get(MEMBERS).status_code == 405


def test_the_page_suggests_the_keys_of_a_bounded_sample_of_recent_records(staff_client,
                                                                         monkeypatch):
    account = ObjectType.objects.create(singular="Account", plural="Accounts")
    Person.objects.create(email="old@x.io", attributes={"legacy": 1})
    Person.objects.create(email="new@x.io", attributes={"plan": "pro", "Zone": "eu"})
    Object.objects.create(type=account, object_id="A1", attributes={"tier": "big"})
    monkeypatch.setattr(segment_builder, "SAMPLE", 1)  # the most recent person only
    page = staff_client.get(ADD).content.decode()
    config = json.loads(page.split('id="segment-builder-config" type="application/json">')[1]
                        .split("</script>")[0])
    assert config["people"] == ["email", "customer_id", "plan", "Zone"]
    assert config["types"] == [{"id": account.pk, "singular": "Account", "plural": "Accounts",
                                "keys": ["object_id", "tier"]}]
    assert ["within_days", "is within the last N days"] in config["operators"]
    assert 'id="segment-builder"' in page and 'name="conditions"' in page  # the no-JS field


def test_saving_is_checked_by_the_same_rules_and_says_so(staff_client, people):
    values = {"name": "Pro", "entity": "people", "match": "any"}
    response = staff_client.post(ADD, {**values, "conditions": json.dumps(
        [{"attribute": "n", "operator": "within_days", "value": 0}])})
    assert "Condition 1 (n): &#x27;within the last N days&#x27; needs a number of days " \
        "above 0, not 0." in response.content.decode()
    assert not Segment.objects.exists()
    response = staff_client.post(ADD, {**values, "conditions": json.dumps(
        [{"attribute": "plan", "operator": "equals", "value": "pro"}]), "_continue": "1"},
        follow=True)
    assert "was added successfully" in response.content.decode()
    segment = Segment.objects.get()
    assert segment.count() == 7
    page = response.content.decode()
    assert '<strong class="fb-segment-count">7</strong>' in page  # the saved members, no JS


def test_view_only_staff_see_the_conditions_as_sentences_and_the_members(
        client, django_user_model, people):
    segment = Segment.objects.create(name="Pro", conditions=[
        {"attribute": "plan", "operator": "equals", "value": "pro"},
        {"attribute": "email", "operator": "is_set"}])
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_segment"))
    client.force_login(viewer)
    page = client.get(reverse("admin:mappings_segment_change",
                              args=[segment.pk])).content.decode()
    assert "<div>· plan equals &quot;pro&quot;</div><div>· email is set</div>" in page
    assert 'id="segment-builder"' not in page and 'name="conditions"' not in page
    assert '<strong class="fb-segment-count">7</strong>' in page
