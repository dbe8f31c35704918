"""Segment conditions: their vocabulary, and the one check every saved segment passes.

`problems(conditions, people=...)` is called by `Segment.clean` and `Segment.save` (so by
the admin form too): each problem names the condition's position (2, or 3.1 inside a
"related to"), its attribute and why it is refused. `numeric` and `instant` read a
condition's value the same way the check and the query (mappings/segments.py) do.
"""

from __future__ import annotations

from typing import Any

from mappings.attribute_sql import MILLISECONDS_FROM
from mappings.values import InvalidValue, to_epoch
from workspace.models import ObjectType

OPERATORS = {
    "equals": "equals", "not_equals": "does not equal", "contains": "contains",
    "starts_with": "starts with", "greater": "is greater than", "less": "is less than",
    "is_set": "is set", "is_not_set": "is not set", "before": "is before", "after": "is after",
    "within_days": "is within the last N days", "in_list": "is one of",
    "related_to": "is related to",
}
TEXT = frozenset({"equals", "not_equals", "contains", "starts_with", "in_list"})
NO_VALUE = frozenset({"is_set", "is_not_set"})
COLUMNS = {True: ("email", "customer_id"), False: ("object_id",)}
JOINS = ("all", "any")
MAX_LIST = 1000
MAX_CONDITIONS = 50


def problems(conditions: Any, *, people: bool, nested: bool = False,
             where: str = "") -> list[str]:
    """What is wrong with these conditions, one message per problem (none: they are fine)."""
    if not isinstance(conditions, list):
        return ["Conditions must be a list."]
    if len(conditions) > MAX_CONDITIONS:
        return [f"At most {MAX_CONDITIONS} conditions, not {len(conditions)}."]
    found = []
    for position, condition in enumerate(conditions, 1):
        place = f"{where}{position}"
        if not isinstance(condition, dict):
            found.append(f"Condition {place}: not an object with an operator.")
            continue
        operator = condition.get("operator")
        name = "related to" if operator == "related_to" else \
            str(condition.get("attribute", ""))[:60] or "no attribute"
        reason = _problem(condition, people=people, nested=nested, place=place)
        if isinstance(reason, list):
            found.extend(reason)
        elif reason:
            found.append(f"Condition {place} ({name}): {reason}")
    return found


def _problem(condition: dict, *, people: bool, nested: bool, place: str) -> str | list[str]:
    operator = condition.get("operator")
    if operator not in OPERATORS:
        return f"unknown operator {operator!r}; one of {', '.join(OPERATORS)}."
    if operator == "related_to":
        return _related_problem(condition, people=people, nested=nested, place=place)
    extra = set(condition) - {"attribute", "operator", "value"}
    if extra:
        return f"unknown keys {', '.join(sorted(map(str, extra)))}."
    attribute = condition.get("attribute")
    if not isinstance(attribute, str) or not attribute.strip():
        return "an attribute is needed (a key of the attributes, or " \
            f"{' or '.join(COLUMNS[people])})."
    if attribute != attribute.strip():
        return f"the attribute {attribute!r} has spaces around it."
    if len(attribute) > 255:
        return "the attribute name is longer than 255 characters."
    if attribute in COLUMNS[not people] and attribute not in COLUMNS[people]:
        return f"{attribute} is not a column of {'people' if people else 'objects'}."
    if attribute in COLUMNS[people] and operator not in TEXT | NO_VALUE:
        return f"{attribute} is text: {OPERATORS[operator]!r} needs an attribute."
    return _value_problem(operator, condition)


def _value_problem(operator: str, condition: dict) -> str:
    has, value = "value" in condition, condition.get("value")
    if operator in NO_VALUE:
        return "takes no value." if has and value is not None else ""
    if not has or value is None:
        return f"{OPERATORS[operator]!r} needs a value."
    if operator == "in_list":
        if not isinstance(value, list):
            return f"'is one of' needs a list of values, not {value!r}."
        if not value or len(value) > MAX_LIST:
            return f"'is one of' needs 1 to {MAX_LIST} values."
        if any(isinstance(v, (bool, list, dict)) or v is None for v in value):
            return "'is one of' takes text and numbers only."
        return ""
    if operator in ("greater", "less", "within_days"):
        if numeric(value) is None:
            return f"{OPERATORS[operator]!r} needs a number, not {value!r}."
        if operator == "within_days" and not 0 < numeric(value) <= 100_000:
            return f"'within the last N days' needs a number of days above 0, not {value!r}."
        return ""
    if operator in ("before", "after"):
        try:
            instant(value)
        except InvalidValue:
            return f"{value!r} is not a date: ISO-8601 (2024-05-01, 2024-05-01T09:30:00Z) " \
                "or a Unix time."
        return ""
    if isinstance(value, (list, dict)):
        return f"{OPERATORS[operator]!r} needs one text, number or boolean value."
    if operator in ("contains", "starts_with") and (isinstance(value, bool) or value == ""):
        return f"{OPERATORS[operator]!r} needs some text."
    return ""


def _related_problem(condition: dict, *, people: bool, nested: bool,
                     place: str) -> str | list[str]:
    if nested:
        return "'related to' cannot be nested in another 'related to'."
    extra = set(condition) - {"operator", "object_type", "match", "conditions"}
    if extra:
        return f"unknown keys {', '.join(sorted(map(str, extra)))}."
    if condition.get("match", "all") not in JOINS:
        return f"match must be 'all' or 'any', not {condition.get('match')!r}."
    kind = condition.get("object_type")
    if people:
        if not isinstance(kind, str) or not ObjectType.objects.filter(singular=kind).exists():
            return f"no object type {kind!r} (the singular name, e.g. 'Account')."
    elif kind not in (None, "", "person"):
        return "in an objects segment, 'related to' means people: leave object_type out."
    if not isinstance(condition.get("conditions", []), list):
        return "its conditions must be a list."
    return problems(condition.get("conditions", []), people=not people, nested=True,
                    where=f"{place}.")


def numeric(value: Any) -> float | None:
    """A condition's value as a number (a number, or text that is one); None if it is not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def instant(value: Any) -> float:
    """A date condition's value as Unix seconds: a Unix time (seconds or milliseconds, as
    stored attributes are read) or ISO-8601 text; InvalidValue if it is neither."""
    number = numeric(value) if not isinstance(value, str) else None
    if number is not None:
        return number / 1000 if abs(number) >= MILLISECONDS_FROM else number
    return float(to_epoch(value, "value"))
