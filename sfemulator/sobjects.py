"""`/sobjects` resources: describes, single-record CRUD, upsert by external id, updated/deleted."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .clock import format_datetime, parse_datetime
from .errors import ApiError, not_found
from .store import MultipleMatches
from .wire import Response, json_response
from .write_rules import WriteHeaders

if TYPE_CHECKING:
    from .rest import Call, Handler

UPDATED_WINDOW = dt.timedelta(days=30)
DELETED_WINDOW = dt.timedelta(days=15)


def route(method: str, s: list[str]) -> tuple[str, Handler]:
    """Routes below `sobjects`: s[0] is "sobjects"."""
    n = len(s)
    if n == 1 and method == "GET":
        return "describe", global_describe
    if n == 2:
        if method == "GET":
            return "describe", basic_info
        if method == "POST":
            return "sobject-create", create
    if n == 3:
        if s[2] == "describe" and method == "GET":
            return "describe", describe
        if s[2] in ("updated", "deleted") and method == "GET":
            return f"sobject-{s[2]}", updated if s[2] == "updated" else deleted
        kinds = {"GET": ("sobject-get", get), "PATCH": ("sobject-update", update),
                 "DELETE": ("sobject-delete", delete)}
        if method in kinds:
            return kinds[method]
    if n == 4:
        kinds = {"GET": ("sobject-get", get_by_external_id),
                 "PATCH": ("sobject-upsert", upsert),
                 "DELETE": ("sobject-delete", delete_by_external_id)}
        if method in kinds:
            return kinds[method]
    raise not_found()


def _sobject(call: Call) -> str:
    found = call.org.schema.get(call.segments[1])
    if found is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return found.name


def global_describe(call: Call) -> Response:
    types = sorted(call.org.schema.types.values(), key=lambda t: t.name)
    return json_response(200, {"encoding": "UTF-8", "maxBatchSize": 200,
                               "sobjects": [t.summary(call.version) for t in types]})


def basic_info(call: Call) -> Response:
    sobject = call.org.schema.get(_sobject(call))
    assert sobject is not None  # _sobject checked it
    return json_response(200, {"objectDescribe": sobject.summary(call.version),
                               "recentItems": []})


def describe(call: Call) -> Response:
    return json_response(200, call.org.describe(_sobject(call), call.version))


def _body(call: Call) -> dict[str, Any]:
    data = call.request.json()
    if not isinstance(data, dict):
        raise ApiError(400, "JSON_PARSER_ERROR",
                       "Cannot deserialize instance of SObject from a non-object value")
    return data


def create(call: Call) -> Response:
    record_id = call.org.insert(_sobject(call), _body(call), WriteHeaders.of(call.request.headers))
    return json_response(201, {"id": record_id, "success": True, "errors": []},
                         {"Location": call.url(_sobject(call), record_id)})


def render(call: Call, sobject: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record as GET returns it: attributes first, fields in describe order (or `?fields=`)."""
    wanted = call.request.query.get("fields")
    table = call.org.tables[sobject]
    if wanted:
        names = []
        for name in (n.strip() for n in wanted.split(",") if n.strip()):
            field = table.sobject.field(name)
            if field is None:
                raise ApiError(400, "INVALID_FIELD",
                               f"No such column '{name}' on sobject of type {sobject}", [name])
            names.append(field.name)
    else:
        names = [f.name for f in table.sobject.fields]
    out: dict[str, Any] = {"attributes": {"type": sobject,
                                          "url": call.url(sobject, record["Id"])}}
    for name in names:
        out[name] = record[name]
    return out


def get(call: Call) -> Response:
    sobject = _sobject(call)
    record = call.org.get_record(call.segments[2])
    if record is None or call.org.schema.for_id(record["Id"]).name != sobject:
        raise not_found()
    if record["IsDeleted"]:
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return json_response(200, render(call, sobject, record))


def update(call: Call) -> Response:
    call.org.update(_sobject(call), call.segments[2], _body(call),
                    WriteHeaders.of(call.request.headers))
    return Response(204)


def delete(call: Call) -> Response:
    call.org.delete(_sobject(call), call.segments[2], WriteHeaders.of(call.request.headers))
    return Response(204)


def _matches(call: Call) -> tuple[str, list[str]]:
    """Records whose external-id field (segment 2) equals the decoded value (segment 3)."""
    sobject = _sobject(call)
    table = call.org.tables[sobject]
    field = table.sobject.field(call.segments[2])
    if field is None or not field.id_lookup:
        raise not_found("Provided external ID field does not exist or is not accessible: "
                        + call.segments[2])
    if field.name == "Id":
        record = call.org.get_record(call.segments[3])
        live = record is not None and not record["IsDeleted"]
        return sobject, [record["Id"]] if live and record else []
    with call.org.lock:
        return sobject, table.index(field).find(call.segments[3])


def _multiple(call: Call, sobject: str, ids: list[str]) -> Response:
    return json_response(300, [call.url(sobject, record_id) for record_id in ids])


def get_by_external_id(call: Call) -> Response:
    sobject, ids = _matches(call)
    if not ids:
        raise not_found()
    if len(ids) > 1:
        return _multiple(call, sobject, ids)
    return json_response(200, render(call, sobject, call.org.get_record(ids[0]) or {}))


def delete_by_external_id(call: Call) -> Response:
    sobject, ids = _matches(call)
    if not ids:
        raise not_found()
    if len(ids) > 1:
        return _multiple(call, sobject, ids)
    call.org.delete(sobject, ids[0], WriteHeaders.of(call.request.headers))
    return Response(204)


def upsert(call: Call) -> Response:
    sobject = _sobject(call)
    try:
        record_id, created = call.org.upsert(sobject, call.segments[2], call.segments[3],
                                             _body(call), WriteHeaders.of(call.request.headers))
    except MultipleMatches as many:
        return _multiple(call, sobject, many.ids)
    return json_response(201 if created else 200, {
        "id": record_id, "success": True, "errors": [], "created": created})


def _window(call: Call, days: dt.timedelta) -> tuple[str, str, str]:
    """Parse start/end (offset required), truncate to the minute, enforce the window.

    Returns the start, the upper bound and latestDateCovered as stored text. The upper bound
    is min(end, latestDateCovered): nothing changed after the latest date covered is listed,
    so a poller that starts its next window there misses nothing and repeats nothing.
    """
    bounds = []
    for name in ("start", "end"):
        raw = call.request.query.get(name)
        if not raw:
            raise ApiError(400, "MISSING_ARGUMENT", f"{name} parameter is required")
        moment = parse_datetime(raw)
        if moment is None:
            raise ApiError(400, "INVALID_REPLICATION_DATE",
                           f"{name}: '{raw}' is not an ISO-8601 date/time with a time zone "
                           "offset")
        bounds.append(moment.replace(second=0, microsecond=0))
    start, end = bounds
    now = call.org.now()
    if end <= start:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "start date must be before end date")
    if start < now - days:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       f"startDate cannot be more than {days.days} days ago")
    latest = format_datetime(min(end, _minute(now)))
    return format_datetime(start), latest, latest


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def _check_id_limit(call: Call, count: int) -> None:
    """Refuse a window holding more ids than the org allows, as Salesforce does (600,000).

    The whole call fails rather than returning a truncated list, so a poller must narrow its
    window (start and end closer together). Salesforce documents the error code, not the REST
    message text: the message below is our best guess.
    """
    limit = call.org.max_replication_ids
    if count > limit:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", f"The number of ids exceeds the limit of {limit}")


def updated(call: Call) -> Response:
    sobject = _sobject(call)
    low, high, latest = _window(call, UPDATED_WINDOW)
    table = call.org.tables[sobject]
    stamp_col = table.col["SystemModstamp"]
    ids = [record_id for record_id, row in table.scan()
           if not row[table.deleted_col] and low <= row[stamp_col] < high]
    _check_id_limit(call, len(ids))
    return json_response(200, {"ids": ids, "latestDateCovered": latest})


def deleted(call: Call) -> Response:
    """The delete log in the window; earliestDateAvailable is the start of the 15-day window.

    The emulator never purges its delete log early, so the earliest date a caller can ask for
    is always now - 15 days (truncated to the minute), whatever the log holds.
    """
    sobject = _sobject(call)
    low, high, latest = _window(call, DELETED_WINDOW)
    with call.org.lock:
        entries = [(record_id, stamp) for record_id, (name, stamp)
                   in call.org.delete_log.items() if name == sobject and low <= stamp < high]
    _check_id_limit(call, len(entries))
    earliest = _minute(call.org.now() - DELETED_WINDOW)
    return json_response(200, {
        "deletedRecords": [{"id": record_id, "deletedDate": stamp}
                           for record_id, stamp in entries],
        "earliestDateAvailable": format_datetime(earliest),
        "latestDateCovered": latest,
    })
