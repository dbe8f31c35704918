"""Segments: every operator run by the database (the same module runs on SQLite and, with
DATABASE_URL, on PostgreSQL), dates as Unix times and ISO-8601 text, related records, bad
conditions refused with their position, attribute and reason, count and preview."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from mappings.models import Segment
from workspace.models import Object, ObjectType, Person, Relationship

pytestmark = pytest.mark.django_db

# 2024-05-01T10:00:00Z
MAY_FIRST = 1_714_557_600
DAY = 86_400


@pytest.fixture
def hub():
    """Four people and three accounts with attributes of every JSON type."""
    people = {
        "ann": {"plan": "pro", "score": 10, "signed_up": "2024-05-01T10:00:00Z", "vip": True,
                "country": "FR", "seen": MAY_FIRST - 2 * DAY, "title": "Chief Engineer"},
        # -02:00: 2024-04-02T01:30Z; seen in milliseconds.
        "bob": {"plan": "basic", "score": 5.5, "signed_up": "2024-04-01T23:30:00-02:00",
                "vip": False, "country": "DE", "seen": (MAY_FIRST - 20 * DAY) * 1000},
        # A number kept as text, a date that is not one, a Salesforce-style datetime.
        "cy": {"score": "12", "signed_up": "not a date", "country": 33,
               "seen": "2024-04-30T10:00:00.000+0000"},
        "dee": {"plan": "", "score": None, "signed_up": MAY_FIRST, "vip": "true",
                "seen": "2024-04-29", "title": "engineer"},
    }
    made = {}
    for name, attributes in people.items():
        made[name] = Person.objects.create(email=f"{name}@x.io", customer_id=f"c-{name}",
                                           attributes=attributes)
    Person.objects.create(email="gone@x.io", attributes={"plan": "pro"},
                          deleted_at="2024-01-01T00:00:00Z")
    account = ObjectType.objects.create(singular="Account", plural="Accounts")
    other = ObjectType.objects.create(singular="Deal", plural="Deals")
    tech = Object.objects.create(type=account, object_id="A1",
                                 attributes={"industry": "Tech", "employees": 500})
    shop = Object.objects.create(type=account, object_id="A2",
                                 attributes={"industry": "Retail", "employees": 20})
    dead = Object.objects.create(type=account, object_id="A3", attributes={"industry": "Tech"},
                                 deleted_at="2024-01-01T00:00:00Z")
    deal = Object.objects.create(type=other, object_id="D1", attributes={"industry": "Tech"})
    Relationship.objects.create(person=made["ann"], object=tech)
    Relationship.objects.create(person=made["bob"], object=shop)
    Relationship.objects.create(person=made["cy"], object=dead)
    Relationship.objects.create(person=made["dee"], object=deal)
    return made


def members(conditions, match="all", **options):
    segment = Segment(name=f"s{Segment.objects.count()}", conditions=conditions, match=match,
                      **options)
    segment.save()
    found = segment.queryset(now=MAY_FIRST + DAY)
    if segment.people:
        return sorted(p.email.split("@")[0] for p in found)
    return sorted(o.object_id for o in found)


def one(attribute, operator, value=None, **extra):
    condition = {"attribute": attribute, "operator": operator, **extra}
    if value is not None:
        condition["value"] = value
    return [condition]


@pytest.mark.parametrize(("condition", "expected"), [
    (one("plan", "equals", "pro"), ["ann"]),
    (one("score", "equals", 10), ["ann"]),
    (one("score", "equals", "12"), ["cy"]),
    (one("score", "equals", "5.5"), ["bob"]),
    (one("vip", "equals", True), ["ann", "dee"]),
    (one("vip", "equals", "false"), ["bob"]),
    (one("plan", "not_equals", "pro"), ["bob", "cy", "dee"]),
    (one("title", "contains", "ENGINEER"), ["ann", "dee"]),
    (one("title", "starts_with", "chief"), ["ann"]),
    (one("country", "contains", "3"), ["cy"]),
    (one("score", "greater", 6), ["ann"]),
    (one("score", "less", "10"), ["bob"]),
    (one("plan", "is_set"), ["ann", "bob"]),
    (one("plan", "is_not_set"), ["cy", "dee"]),
    (one("score", "is_not_set"), ["dee"]),
    (one("country", "in_list", ["FR", "DE", "33"]), ["ann", "bob", "cy"]),
    (one("country", "in_list", [33]), ["cy"]),
    (one("email", "equals", "ann@x.io"), ["ann"]),
    (one("customer_id", "in_list", ["c-bob", "c-cy"]), ["bob", "cy"]),
    (one("email", "starts_with", "D"), ["dee"]),
    (one("customer_id", "is_set"), ["ann", "bob", "cy", "dee"]),
    # Booleans are neither numbers nor dates (SQLite keeps them as 1 and 0).
    (one("vip", "greater", -1), []),
    (one("vip", "equals", 1), []),
    (one("vip", "before", "2024-01-01"), []),
    (one("vip", "in_list", ["true"]), ["ann", "dee"]),
    (one("title", "before", "9999-01-01"), []),
])
def test_each_operator(hub, condition, expected):
    assert members(condition) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    # ISO text with Z, with an offset (-02:00), and a Unix time, against ISO and Unix values.
    (one("signed_up", "before", "2024-04-15"), ["bob"]),
    (one("signed_up", "after", "2024-04-02T01:00:00Z"), ["ann", "bob", "dee"]),
    (one("signed_up", "after", "2024-04-02T02:00:00+00:00"), ["ann", "dee"]),
    (one("signed_up", "before", MAY_FIRST + 1), ["ann", "bob", "dee"]),
    (one("signed_up", "before", MAY_FIRST), ["bob"]),
    (one("signed_up", "after", (MAY_FIRST - 1) * 1000), ["ann", "dee"]),
    # Seconds, milliseconds, Salesforce's +0000 form and a bare date, within N days of now
    # (now is 2024-05-02T10:00Z in these tests).
    (one("seen", "within_days", 3), ["ann", "cy"]),
    (one("seen", "within_days", 3.5), ["ann", "cy", "dee"]),
    (one("seen", "within_days", 30), ["ann", "bob", "cy", "dee"]),
    (one("seen", "before", "2024-04-29T12:00:00.000+0200"), ["bob", "dee"]),
])
def test_dates_as_unix_times_and_iso_text(hub, condition, expected):
    assert members(condition) == expected


def test_a_future_date_is_not_within_the_last_days(hub):
    Person.objects.filter(email="ann@x.io").update(attributes={"seen": MAY_FIRST + 2 * DAY})
    assert members(one("seen", "within_days", 10)) == ["cy", "dee"]


def test_all_and_any(hub):
    both = one("plan", "is_set") + one("score", "greater", 6)
    assert members(both, "all") == ["ann"]
    assert members(both, "any") == ["ann", "bob"]
    assert members([], "all") == ["ann", "bob", "cy", "dee"]


def test_related_to_an_object_of_a_type_matching_conditions(hub):
    tech = {"operator": "related_to", "object_type": "Account",
            "conditions": one("industry", "equals", "Tech")}
    # cy's Tech account is deleted; dee's Tech object is a Deal.
    assert members([tech]) == ["ann"]
    assert members([{"operator": "related_to", "object_type": "Account"}]) == ["ann", "bob"]
    big_or_retail = {"operator": "related_to", "object_type": "Account", "match": "any",
                     "conditions": one("employees", "greater", 100)
                     + one("object_id", "equals", "A2")}
    assert members([big_or_retail]) == ["ann", "bob"]
    assert members([tech], "any") == ["ann"]
    assert members([tech] + one("plan", "equals", "basic"), "any") == ["ann", "bob"]


def test_object_segments_with_people_related(hub):
    account = ObjectType.objects.get(singular="Account")
    assert members(one("industry", "equals", "Tech"), entity="objects",
                   object_type=account) == ["A1"]
    pro = {"operator": "related_to", "conditions": one("plan", "equals", "pro")}
    assert members([pro], entity="objects", object_type=account) == ["A1"]


def test_count_and_preview(hub):
    segment = Segment.objects.create(name="countries", conditions=one("country", "is_set"))
    assert segment.count() == 3
    assert [p.email for p in segment.preview(limit=2)] == ["ann@x.io", "bob@x.io"]


@pytest.mark.parametrize(("conditions", "message"), [
    (one("plan", "equal", "pro"), "Condition 1 (plan): unknown operator 'equal'"),
    (one("", "equals", "pro"), "Condition 1 (no attribute): an attribute is needed"),
    (one("plan ", "equals", "pro"), "Condition 1 (plan ): the attribute 'plan ' has spaces"),
    ([{"operator": "equals", "value": "pro"}], "Condition 1 (no attribute): an attribute"),
    (one("signed_up", "before", "next tuesday"), "Condition 1 (signed_up): 'next tuesday' "
     "is not a date"),
    (one("signed_up", "after", "2024-02-30"), "Condition 1 (signed_up): '2024-02-30' is not "
     "a date"),
    (one("country", "in_list", "FR"), "Condition 1 (country): 'is one of' needs a list"),
    (one("score", "greater", "ten"), "Condition 1 (score): 'is greater than' needs a number"),
    (one("seen", "within_days", "a week"), "Condition 1 (seen): 'is within the last N days' "
     "needs a number"),
    (one("seen", "within_days", -3), "needs a number of days above 0"),
    (one("plan", "equals"), "Condition 1 (plan): 'equals' needs a value"),
    (one("email", "greater", 3), "Condition 1 (email): email is text"),
    (one("object_id", "equals", "x"), "object_id is not a column of people"),
    (one("plan", "is_set") + one("plan", "is_set", "x"), "Condition 2 (plan): takes no value"),
    ([{"operator": "related_to", "object_type": "Acount"}],
     "Condition 1 (related to): no object type 'Acount'"),
    ([{"operator": "related_to", "object_type": "Account",
       "conditions": one("employees", "less", "many")}],
     "Condition 1.1 (employees): 'is less than' needs a number"),
    ("plan = pro", "Conditions must be a list."),
    ([{"operator": "related_to", "object_type": "Account", "conditions": {"a": 1}}],
     "Condition 1 (related to): its conditions must be a list."),
    ([{"operator": "related_to", "object_type": "Account",
       "conditions": [{"operator": "related_to", "object_type": "Account"}]}],
     "Condition 1.1 (related to): 'related to' cannot be nested"),
    ([one("plan", "is_set")[0], "plan"], "Condition 2: not an object with an operator."),
])
def test_bad_conditions_are_refused_naming_the_condition_and_reason(hub, conditions, message):
    segment = Segment(name="bad", conditions=conditions)
    with pytest.raises(ValidationError) as refused:
        segment.full_clean()
    assert any(message in text for text in refused.value.message_dict["conditions"]), \
        refused.value.message_dict
    with pytest.raises(ValidationError):
        segment.save()
    assert not Segment.objects.exists()


def test_objects_segments_need_their_type(hub):
    with pytest.raises(ValidationError) as refused:
        Segment(name="o", entity="objects").full_clean()
    assert "object_type" in refused.value.message_dict


@pytest.mark.parametrize("stored", ["2024-02-31", "2024-99-99T99:99:99+99:99", "2024-05-01T",
                                    "0000-00-00", "2024-05-01T10:00:00+0000trailing", "",
                                    "2024-05-0x", "1e400"])
def test_a_record_with_a_date_no_one_can_read_never_fails_the_query(hub, stored):
    Person.objects.filter(email="cy@x.io").update(attributes={"seen": stored})
    assert "bob" in members(one("seen", "before", "2024-05-01"))
    assert "cy" not in members(one("seen", "after", "3000-01-01"))
