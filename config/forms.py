"""Form pieces shared by the apps' forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput

# Limits of any JSON an operator types or uploads: far above a real mapping, far below harm.
JSON_MAX_BYTES = 64 * 1024
JSON_MAX_DEPTH = 8


def _depth(text: str) -> int:
    """How deeply brackets nest in JSON text, strings skipped; counted before parsing, so
    nesting that would exhaust the parser's recursion is refused without parsing it."""
    deepest = level = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level -= 1
    return deepest


class BoundedJSONField(forms.JSONField):
    """A JSON form field that refuses text over `max_bytes` or nested deeper than `max_depth`,
    with a message saying which, instead of failing deep inside the parser."""

    def __init__(self, *, max_bytes: int = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH,
                 **kwargs: Any) -> None:
        self.max_bytes, self.max_depth = max_bytes, max_depth
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        problem = self._problem(value)
        if problem is not None:
            raise problem
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # The page shows refused text back as typed, without parsing it.
        if not self.disabled and self._problem(data) is not None:
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)

    def _problem(self, value: Any) -> ValidationError | None:
        if not isinstance(value, str):
            return None
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes:
            return ValidationError(
                f"Too large: {size:,} bytes of JSON; at most {self.max_bytes:,}.",
                code="too_large")
        depth = _depth(value)
        if depth > self.max_depth:
            return ValidationError(f"Nested {depth} levels deep; at most {self.max_depth}.",
                                   code="too_deep")
        return None
