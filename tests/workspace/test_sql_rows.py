"""Statements for many rows at once: multi-row inserts and IN-list lookups of any length."""

from __future__ import annotations

import pytest
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
