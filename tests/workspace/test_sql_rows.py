"""Statements for many rows at once: multi-row inserts and IN-list lookups of any length."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from workspace.models import Person
from workspace.sql_rows import VALUES_PER_SELECT, insert, select_in

pytestmark = pytest.mark.django_db


def test_lookups_longer_than_one_statement_find_every_row_and_quote_every_value():
    now = timezone.now()
    awkward = ["o'brien", "%s", "?", "back\\slash", "%%", '";--']
    emails = [f"p{i}@x.io" for i in range(VALUES_PER_SELECT + 500)] + awkward
    ids = insert(Person, ["customer_id", "email", "attributes", "created_at", "updated_at"],
                 [(f"c{i}", email, {}, now, now) for i, email in enumerate(emails)],
                 returning=True)
    assert len(ids) == len(emails)
    found = select_in(Person, ["id", "email"], email=emails + ["nobody@x.io"],
                      customer_id=["c0", "c1"])
    # Several statements: c0 and c1 match by e-mail in one and by customer id in another.
    assert {email for _, email in found} == set(emails)
    assert len(found) == len(emails) + 2
    assert sorted(pk for pk, _ in set(found)) == sorted(ids)


def test_rows_must_have_one_value_per_column():
    now = timezone.now()
    with pytest.raises(ValueError, match="rows of 3, 4 values for 4 columns"):
        insert(Person, ["email", "attributes", "created_at", "updated_at"],
               [("a@x.io", {}, now, now), ("b@x.io", {}, now)])
    with pytest.raises(ValueError, match="3 values for 4 columns"):
        insert(Person, ["email", "attributes", "created_at", "updated_at"],
               [("a@x.io", {}, now)])


def test_json_columns_read_back_as_the_orm_stores_them():
    """The raw insert encodes JSON with orjson; what it cannot write as `json.dumps` would
    (huge integers, keys that are not text, lone surrogates, NaN) goes through `json.dumps`,
    so every value reads back, or is refused, as if the ORM had saved it."""
    now = timezone.now()
    values = [
        {"name": "Müller", "quote": '"\\', "n": 1.5, "big": 10**20, "none": None, "t": True,
         "list": [1, None, "x"], "nested": {"deep": [0.1, None]}, "null": "null"},
        {1: "one", "lone": "\ud800", "e": 1e16},
        {},
    ]
    ids = insert(Person, ["email", "attributes", "created_at", "updated_at"],
                 [(f"j{i}@x.io", value, now, now) for i, value in enumerate(values)],
                 returning=True)
    saved = [Person.objects.create(email=f"orm{i}@x.io", attributes=value)
             for i, value in enumerate(values)]
    for pk, by_orm in zip(ids, saved, strict=True):
        raw = Person.objects.get(pk=pk).attributes
        assert repr(raw) == repr(Person.objects.get(pk=by_orm.pk).attributes)
    # json.dumps writes NaN, which no JSON column accepts; orjson alone would store null.
    for refused in ({"n": float("nan")}, {"list": [None, float("-inf")]}):
        with pytest.raises(IntegrityError), transaction.atomic():
            insert(Person, ["email", "attributes", "created_at", "updated_at"],
                   [("nan@x.io", refused, now, now)])
    with pytest.raises(TypeError, match="not JSON serializable"):
        insert(Person, ["email", "attributes", "created_at", "updated_at"],
               [("t@x.io", {"when": now}, now, now)])
