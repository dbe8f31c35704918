"""Segments: saved conditions over hub people or objects, checked once and run as one query.

A segment's conditions are JSON, a list of
    {"attribute": "plan", "operator": "equals", "value": "pro"}
    {"operator": "related_to", "object_type": "Account", "match": "all", "conditions": [...]}
joined by all (AND) or any (OR). An attribute is a key of the record's JSON `attributes`,
or a column: `email` and `customer_id` (people), `object_id` (objects).

They are checked by `mappings.conditions.problems` on every save. `matching(conditions, join, people=...)` turns checked conditions into one `Q`, evaluated by
the database (SQLite or PostgreSQL alike, see mappings/attribute_sql.py), never in Python:
1. text operators (equals, not_equals, contains, starts_with, in_list) compare the value as
   text: strings, and numbers written as text ("5" equals 5); equals "true"/"false" (or a JSON
   boolean) also matches the JSON booleans. contains and starts_with ignore case; equals does
   not. not_equals also matches records without the attribute.
2. greater and less compare JSON numbers only (a number stored as text is not a number).
3. before, after and within_days read a JSON number as a Unix time (seconds; from
   100,000,000,000 on, milliseconds) and a string as ISO-8601 (no offset: UTC); anything else
   never matches. within_days N: from N days ago up to now (not in the future).
4. is_set: present, not null and not ""; is_not_set: the opposite.
5. related_to: a person related (workspace.Relationship) to a live object of the type whose
   own attributes meet the nested conditions (none: any such object); in an objects segment,
   an object related to a person meeting them. Nested conditions cannot nest again.
On SQLite each use of a JSON value parses the record's JSON again, so conditions are tested
cheapest first (with join all, every text prefilter first) and each value is used as few
times as possible.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any, NamedTuple

from django.db.models import Exists, F, OuterRef, Q, TextField, Value
from django.db.models.functions import Cast
from django.db.models.lookups import (
    Exact,
    IContains,
    In,
    IsNull,
    IStartsWith,
    Range,
)

from mappings.attribute_sql import (
    BOOLEAN,
    MILLISECONDS_FROM,
    NULL,
    NUMBER,
    STRING,
    IsoEpoch,
    JSONNumber,
    JSONString,
    JSONText,
    JSONType,
    MayHold,
    NumberBetween,
    Within,
    plain,
)
from mappings.conditions import COLUMNS, instant, numeric
from workspace.models import Relationship

SECONDS_PER_DAY = 86_400
# Stands for "no bound" in a comparison (the largest float).
HUGE = 1.7e308
# An `in_list` of more values is not prefiltered as text (see attribute_sql.MayHold).
MAX_PREFILTER = 20
# The order the database tests conditions in (joined all or any alike): cheapest first, so
# most rows are decided before a date is parsed or a relationship looked up.
COST = {"equals": 0, "in_list": 0, "is_set": 1, "is_not_set": 1, "not_equals": 1,
        "contains": 1, "starts_with": 1, "greater": 2, "less": 2, "before": 3, "after": 3,
        "within_days": 3, "related_to": 4}


def matching(conditions: list[dict], join: str, *, people: bool, now: float | None = None,
             prefix: str = "") -> Q:
    """One Q for checked conditions (`problems` found none); `now`: Unix seconds (tests)."""
    now = time.time() if now is None else now
    ordered = sorted(conditions, key=lambda c: COST[c["operator"]])
    # With join all, every text prefilter comes first (the conditions then skip their own),
    # so rows that most conditions refuse are never parsed.
    hoisted = join != "any"
    parts = [_condition(c, people=people, now=now, prefix=prefix, prefiltered=hoisted)
             for c in ordered]
    if join == "any":
        combined = Q()
        for part in parts:
            combined = (combined | part) if combined else part
        return combined
    combined = Q()
    for part in [_prefilter(c, people=people, prefix=prefix) for c in ordered] + parts:
        combined &= part
    return combined


def _prefilter(condition: dict, *, people: bool, prefix: str) -> Q:
    """The text prefilter a condition's own test starts with (Q(): none)."""
    if condition["operator"] not in ("equals", "in_list") or \
            condition.get("attribute") in COLUMNS[people]:
        return Q()
    values = condition["value"] if condition["operator"] == "in_list" else [condition["value"]]
    return _may_hold(F(prefix + "attributes"), values)


def _may_hold(column: Any, values: list[Any]) -> Q:
    """`MayHold` for values that are all plain text (not numbers, not "true"/"false", which
    also match numbers and booleans); Q() when they are not."""
    texts = [str(v) for v in values]
    if len(texts) > MAX_PREFILTER or any(
            isinstance(value, bool) or numeric(value) is not None for value in values) or any(
            text in ("true", "false") or not plain(text) for text in texts):
        return Q()
    return Q(MayHold(column, texts))


def _condition(condition: dict, *, people: bool, now: float, prefix: str,
               prefiltered: bool = False) -> Q:
    """One condition's Q (`prefiltered`: its `_prefilter` is already in the query)."""
    operator = condition["operator"]
    if operator == "related_to":
        return _related(condition, people=people, now=now)
    attribute, value = condition["attribute"], condition.get("value")
    if attribute in COLUMNS[people]:
        return _column(F(prefix + attribute), operator, value)
    column = F(prefix + "attributes")
    kind = JSONType(column, attribute)
    text = Cast(JSONText(column, attribute), TextField())
    present = In(kind, [*NUMBER, *STRING, *BOOLEAN, "object", "array"])
    empty = Q(In(kind, STRING)) & Q(Exact(text, ""))
    missing = Q(IsNull(kind, True)) | Q(In(kind, NULL))
    if operator == "is_set":
        return Q(present) & ~empty
    if operator == "is_not_set":
        return missing | empty
    if operator == "equals":
        return _equals(kind, column, attribute, value, prefiltered=prefiltered)
    if operator == "not_equals":
        return ~_equals(kind, column, attribute, value) | missing
    scalar = Q(In(kind, [*STRING, *NUMBER]))
    if operator == "contains":
        return scalar & Q(IContains(text, str(value)))
    if operator == "starts_with":
        return scalar & Q(IStartsWith(text, str(value)))
    if operator == "in_list":
        return _one_of(kind, column, attribute, value, prefiltered=prefiltered)
    if operator == "greater":
        return _number_between(kind, column, attribute, Bounds(low=numeric(value)))
    if operator == "less":
        return _number_between(kind, column, attribute, Bounds(high=numeric(value)))
    if operator == "before":
        return _moment_between(kind, column, attribute, Bounds(high=instant(value)))
    if operator == "after":
        return _moment_between(kind, column, attribute, Bounds(low=instant(value)))
    return _moment_between(kind, column, attribute, Bounds(
        now - numeric(value) * SECONDS_PER_DAY, now, inclusive=True))


def _equals(kind: Any, column: Any, attribute: str, value: Any, *,
            prefiltered: bool = False) -> Q:
    """Equal as text, as a number when the value is one, as a boolean when it is one."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return _one_of(kind, column, attribute, [value], prefiltered=prefiltered)


def _one_of(kind: Any, column: Any, attribute: str, values: list[Any], *,
            prefiltered: bool = False) -> Q:
    """A JSON string equal to one of the values as text, or a number equal to one of them
    as a number, or a boolean named "true"/"false" among them."""
    texts = [str(v) for v in values]
    found = (Q() if prefiltered else _may_hold(column, values)) \
        & Q(In(JSONString(column, attribute), texts))
    numbers = [numeric(v) for v in values if numeric(v) is not None]
    if numbers:
        found |= Q(In(JSONNumber(column, attribute), numbers)) & Q(In(kind, NUMBER))
    for name in {"true", "false"} & set(texts):
        # SQLite names the type of true "true"; PostgreSQL names it "boolean", text "true".
        found |= Q(Exact(kind, name)) | (Q(Exact(kind, "boolean"))
                                         & Q(Exact(JSONText(column, attribute), name)))
    return found


class Bounds(NamedTuple):
    """From `low` to `high` (None: no bound), both excluded unless `inclusive`."""

    low: float | None = None
    high: float | None = None
    inclusive: bool = False

    def limits(self, low: float | None = None, high: float | None = None) -> tuple[float, float]:
        """The bounds (or `low`/`high` given instead) both included: an excluded bound is the
        next float inward, a missing one the largest number (above every number, below
        SQLite's text)."""
        low = (-HUGE if self.low is None else self.low) if low is None else low
        high = (HUGE if self.high is None else self.high) if high is None else high
        if not self.inclusive:
            low, high = math.nextafter(low, HUGE), math.nextafter(high, -HUGE)
        return low, high

    def q(self, expression: Any) -> Q:
        """`expression` within the bounds, as one BETWEEN (computed once on SQLite, where each
        use of a JSON value parses the JSON again)."""
        return Q(Within(expression, *self.limits()))

    def numbers(self, column: Any, attribute: str, low: float | None = None,
                high: float | None = None) -> Q:
        """The attribute a JSON number within the bounds (or `low`/`high`)."""
        return Q(NumberBetween(column, attribute, *self.limits(low, high)))


def _number_between(kind: Any, column: Any, attribute: str, bounds: Bounds) -> Q:
    return bounds.numbers(column, attribute) & Q(In(kind, NUMBER))


def _moment_between(kind: Any, column: Any, attribute: str, bounds: Bounds) -> Q:
    """A Unix time (seconds, or milliseconds from MILLISECONDS_FROM) or an ISO-8601 text
    within the bounds (Unix seconds).

    Text is first compared as text with the dates a day around the bounds (no offset moves
    an instant by a day), so only the few texts near the bounds are parsed. `IsoEpoch`
    reads any value safely (a number's text is no date), so it needs no type test.
    """
    low = -HUGE if bounds.low is None else bounds.low
    high = HUGE / 1000 if bounds.high is None else bounds.high
    seconds = bounds.numbers(column, attribute, low, min(high, MILLISECONDS_FROM - 1))
    millis = bounds.numbers(column, attribute, max(low * 1000, MILLISECONDS_FROM), high * 1000)
    text = JSONText(column, attribute)
    # "0000" is below every date and above every number (SQLite compares text above them).
    first = (_day(low - SECONDS_PER_DAY) if bounds.low is not None else "") or "0000"
    last = (_day(high + 2 * SECONDS_PER_DAY) if bounds.high is not None else "") or "A"
    return ((seconds | millis) & Q(In(kind, NUMBER))) | (
        Q(Range(text, (first, last))) & bounds.q(IsoEpoch(text)))


def _day(moment: float) -> str:
    """The UTC date of a Unix time as ISO text ("" outside years 1 to 9999)."""
    try:
        return dt.datetime.fromtimestamp(moment, dt.UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return ""


def _column(column: F, operator: str, value: Any) -> Q:
    """A condition on a text column (email, customer_id, object_id)."""
    missing = Q(IsNull(column, True)) | Q(Exact(column, ""))
    if operator == "is_set":
        return ~missing
    if operator == "is_not_set":
        return missing
    if operator == "in_list":
        return Q(In(column, [str(v) for v in value]))
    if operator == "contains":
        return Q(IContains(column, str(value)))
    if operator == "starts_with":
        return Q(IStartsWith(column, str(value)))
    text = "true" if value is True else "false" if value is False else str(value)
    if operator == "equals":
        return Q(Exact(column, Value(text)))
    return ~Q(Exact(column, Value(text))) | missing


def _related(condition: dict, *, people: bool, now: float) -> Q:
    """Exists a live relationship to a live record of the other kind meeting the conditions."""
    other = "object__" if people else "person__"
    links = Relationship.objects.filter(
        **{"deleted_at__isnull": True, f"{other}deleted_at__isnull": True,
           "person" if people else "object": OuterRef("pk")})
    if people:
        links = links.filter(object__type__singular=condition["object_type"])
    links = links.filter(matching(condition.get("conditions", []),
                                  condition.get("match", "all"), people=not people, now=now,
                                  prefix=other))
    return Q(Exists(links))
