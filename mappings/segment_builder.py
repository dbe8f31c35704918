"""The segment builder's server half: attribute names to suggest, and the live count.

The add and change page of a segment (mappings/admin.py) is a builder: segment_builder.js
turns condition rows into the conditions JSON and, as they change, posts the unsaved segment
to `members` (debounced). That view checks it with the form the page saves with (so with the
model's `clean`, which is `mappings.conditions.problems`) and answers the members partial:
the count and the first members, or the problems each named. Suggestions are the attribute
keys of a bounded sample of recent records, never a scan of the hub.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import reverse

from mappings.conditions import COLUMNS, NO_VALUE, OPERATORS
from mappings.models import Segment
from workspace.models import Object, ObjectType, Person

PREVIEW = 10
# The suggestions read the keys of this many most recent records of each kind, offer at most
# MAX_KEYS names, and cover the first MAX_TYPES object types (the rest: no suggestions, any
# attribute can still be typed).
SAMPLE = 200
MAX_KEYS = 300
MAX_TYPES = 50
NUMBER_OPERATORS = ("greater", "less", "within_days")


def sampled_keys(rows: QuerySet, columns: tuple[str, ...]) -> list[str]:
    """The record columns, then the attribute keys of the `SAMPLE` most recent rows."""
    found: set[str] = set()
    for attributes in rows.filter(deleted_at__isnull=True).order_by("-pk").values_list(
            "attributes", flat=True)[:SAMPLE]:
        if isinstance(attributes, dict):
            found.update(key for key in attributes if isinstance(key, str))
    return [*columns, *sorted(found - set(columns), key=str.lower)[:MAX_KEYS]]


def builder_config() -> dict[str, Any]:
    """What the builder script needs: operators, which take no value or a number, the
    object types, and the attribute names to suggest for people and for each type."""
    types = list(ObjectType.objects.order_by("singular").values("pk", "singular",
                                                                 "plural")[:MAX_TYPES])
    return {
        "operators": [[key, label] for key, label in OPERATORS.items() if key != "related_to"],
        "noValue": sorted(NO_VALUE),
        "numbers": list(NUMBER_OPERATORS),
        "people": sampled_keys(Person.objects.all(), COLUMNS[True]),
        "types": [{"id": t["pk"], "singular": t["singular"], "plural": t["plural"],
                   "keys": sampled_keys(Object.objects.filter(type_id=t["pk"]), COLUMNS[False])}
                  for t in types],
    }


def members_context(segment: Segment) -> dict[str, Any]:
    """The count and the first `PREVIEW` members of a segment whose conditions are checked."""
    page = "admin:workspace_person_change" if segment.people else \
        "admin:workspace_object_change"
    rows = [{"pk": row.pk, "url": reverse(page, args=[row.pk]), "name": _name(row),
             "attributes": _attributes(row.attributes)} for row in segment.preview(PREVIEW)]
    return {"count": segment.count(), "rows": rows, "people": segment.people,
            "preview": PREVIEW, "problems": []}


def _name(row: Person | Object) -> str:
    if isinstance(row, Object):
        return row.object_id
    return " / ".join(part for part in (row.email, row.customer_id) if part)


def _attributes(attributes: Any) -> str:
    text = json.dumps(attributes, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:200] + "…"


def members(request: HttpRequest, form_class: type) -> HttpResponse:
    """POST: the unsaved segment's members partial, or its problems (status 200 either way:
    the page shows both); staff who may add or change segments only."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not (request.user.has_perm("mappings.add_segment")
            or request.user.has_perm("mappings.change_segment")):
        raise PermissionDenied
    form = form_class(request.POST, instance=Segment())
    if not form.is_valid():
        problems = [message if name in ("conditions", "__all__") else
                    f"{form.fields[name].label}: {message}"
                    for name, messages in form.errors.items() for message in messages]
        return TemplateResponse(request, "admin/mappings/segment/members.html",
                                {"problems": problems})
    return TemplateResponse(request, "admin/mappings/segment/members.html",
                            members_context(form.instance))
