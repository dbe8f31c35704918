"""Segments in the admin: a bad condition is refused naming it and why; the change page shows
the live member count and the first members."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from mappings.models import Segment
from workspace.models import Person

pytestmark = pytest.mark.django_db
ADD = reverse("admin:mappings_segment_add")


def post(client, url, conditions, **values):
    return client.post(url, {"name": "Pro", "entity": "people", "match": "all",
                             "conditions": json.dumps(conditions), **values})


def test_a_bad_condition_is_refused_with_its_position_attribute_and_reason(staff_client):
    response = post(staff_client, ADD, [
        {"attribute": "plan", "operator": "equals", "value": "pro"},
        {"attribute": "signed_up", "operator": "after", "value": "someday"}])
    assert response.status_code == 200
    page = response.content.decode()
    assert "Condition 2 (signed_up): &#x27;someday&#x27; is not a date" in page
    assert not Segment.objects.exists()


def test_a_segment_is_saved_and_its_page_counts_and_previews_the_members(staff_client):
    for i in range(12):
        Person.objects.create(email=f"p{i}@x.io", attributes={"plan": "pro" if i % 4 else "free"})
    response = post(staff_client, ADD, [{"attribute": "plan", "operator": "equals",
                                         "value": "pro"}])
    assert response.status_code == 302, response.content.decode()[:2000]
    segment = Segment.objects.get()
    page = staff_client.get(reverse("admin:mappings_segment_change",
                                    args=[segment.pk])).content.decode()
    assert '<strong class="fb-segment-count">9</strong>' in page
    preview = page.split('class="fb-segment-preview"')[1].split("</table>")[0]
    assert preview.count("<tr>") == 10  # the header and the first nine members
    assert "p1@x.io" in preview and "p0@x.io" not in preview


def test_the_add_page_renders_and_empty_conditions_mean_everyone(staff_client):
    assert staff_client.get(ADD).status_code == 200
    Person.objects.create(email="a@x.io")
    response = staff_client.post(ADD, {"name": "All", "entity": "people", "match": "all",
                                       "conditions": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Segment.objects.get().conditions == [] and Segment.objects.get().count() == 1
