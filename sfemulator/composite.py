"""sObject Collections (`/composite/sobjects`): up to 200 records per call, allOrNone rollback.

Per-record results come back in request order with `statusCode` (not `errorCode`) in errors.
As on Salesforce (REST API Developer Guide, "sObject Collections"): an update or a delete
naming a well-formed id that does not exist (never did, or purged from the recycle bin) fails
INVALID_CROSS_REFERENCE_KEY (not NOT_FOUND, which only REST's record URLs answer), a delete of
a record in the recycle bin fails ENTITY_IS_DELETED, and an
upsert call that carries one external id twice fails both records with DUPLICATE_VALUE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ApiError, not_found
from .schema import Field, SObjectType
from .values import MissingRecord, RecordError, coerce, cross_reference_error
from .wire import Response, json_response
from .write_rules import WriteHeaders

if TYPE_CHECKING:
    from .rest import Call

MAX_RECORDS = 200
_ROLLED_BACK = ApiError(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                        "Record rolled back because not all records were valid and the request "
                        "was using AllOrNone header")
Operation = Callable[[Any], dict[str, Any]]


class _Rollback(Exception):
    """Raised inside the outer transaction to undo every record of an allOrNone call."""


def handle(call: Call) -> Response:
    s, method = call.segments, call.request.method
    if len(s) == 2 and method == "POST":
        return _each(call, _records(call), lambda record: _create(call, record), creates=True)
    if len(s) == 2 and method == "PATCH":
        return _each(call, _records(call), lambda record: _update(call, record))
    if len(s) == 2 and method == "DELETE":
        return _each(call, _ids(call), lambda record_id: _delete(call, record_id),
                     all_or_none=call.request.query.get("allOrNone", "false").lower() == "true")
    if len(s) == 3 and method == "GET":
        names = [n.strip() for n in call.request.query.get("fields", "").split(",")]
        return _retrieve(call, s[2], _ids(call), [n for n in names if n])
    if len(s) == 3 and method == "POST":
        ids, names = _retrieve_body(call)
        return _retrieve(call, s[2], ids, names)
    if len(s) == 4 and method == "PATCH":
        records = _records(call)
        repeated = _repeated_keys(call, s[2], s[3], records)
        return _each(call, records,
                     lambda record: _upsert(call, s[2], s[3], record, repeated))
    raise not_found()


def locked(call: Call, failure: ApiError) -> Response:
    """An injected UNABLE_TO_LOCK_ROW: every record fails, nothing is written, HTTP 200."""
    method = call.request.method
    retrieve = len(call.segments) == 3
    items = (_ids(call) if method == "DELETE"
             else _records(call) if method != "GET" and not retrieve else [])
    error = failure.as_collection_error()
    return json_response(200, [{"success": False, "errors": [error]} for _ in items])


def _payload(call: Call) -> dict[str, Any]:
    data = call.request.json()
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must contain a records array")
    if len(data["records"]) > MAX_RECORDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call")
    return data


def _records(call: Call) -> list[Any]:
    return _payload(call)["records"]


def _ids(call: Call) -> list[str]:
    ids = [i for i in call.request.query.get("ids", "").split(",") if i]
    if not ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(ids) > MAX_RECORDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call")
    return ids


def _each(call: Call, items: list[Any], operation: Operation,
          all_or_none: bool | None = None, creates: bool = False) -> Response:
    """Apply `operation` per item, each atomically; with allOrNone undo all on any failure."""
    if all_or_none is None:
        all_or_none = bool(_payload(call).get("allOrNone", False))
    org = call.org
    results: list[dict[str, Any]] = []
    try:
        with org.transaction():
            for item in items:
                try:
                    with org.transaction():
                        results.append(operation(item))
                except ApiError as error:
                    results.append(_failure(item, error))
            if all_or_none and any(not r["success"] for r in results):
                raise _Rollback
    except _Rollback:
        results = [_rolled_back(r, creates) if r["success"] else r for r in results]
    return json_response(200, results)


def _failure(item: Any, error: ApiError) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "errors": [error.as_collection_error()]}
    record_id = item if isinstance(item, str) else (
        (item.get("id") or item.get("Id")) if isinstance(item, dict) else None)
    if record_id:
        result = {"id": record_id, **result}
    return result


def _rolled_back(result: dict[str, Any], creates: bool) -> dict[str, Any]:
    rolled: dict[str, Any] = {"success": False,
                              "errors": [_ROLLED_BACK.as_collection_error()]}
    # A rolled-back create has no id any more; updates and deletes keep theirs.
    if not creates and not result.get("created"):
        rolled = {"id": result["id"], **rolled}
    return rolled


def _type_of(record: Any) -> str:
    if not isinstance(record, dict):
        raise RecordError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not sobject:
        raise RecordError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    return sobject


def _fields(record: dict[str, Any], *drop: str) -> dict[str, Any]:
    lowered = {name.lower() for name in drop} | {"attributes"}
    return {k: v for k, v in record.items() if k.lower() not in lowered}


def _create(call: Call, record: Any) -> dict[str, Any]:
    record_id = call.org.insert(_type_of(record), _fields(record),
                                WriteHeaders.of(call.request.headers))
    return {"id": record_id, "success": True, "errors": []}


def _update(call: Call, record: Any) -> dict[str, Any]:
    sobject = _type_of(record)
    record_id = record.get("id") or record.get("Id")
    if not record_id:
        raise RecordError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
    try:
        normal = call.org.update(sobject, record_id, _fields(record, "id"),
                                 WriteHeaders.of(call.request.headers))
    except MissingRecord:
        raise cross_reference_error() from None
    return {"id": normal, "success": True, "errors": []}


def _delete(call: Call, record_id: str) -> dict[str, Any]:
    try:
        deleted = call.org.delete(None, record_id, WriteHeaders.of(call.request.headers))
    except MissingRecord:
        raise cross_reference_error() from None
    return {"id": deleted, "success": True, "errors": []}


def _external_value(record: Any, ext_field: str) -> Any:
    if not isinstance(record, dict):
        return None
    return next((v for k, v in record.items() if k.lower() == ext_field.lower()), None)


def _key(field: Field, value: Any) -> str | None:
    """How the org compares external-id values: coerced, case-insensitive unless the field is."""
    try:
        stored = coerce(field, value)
    except ApiError:
        return None
    if stored is None:
        return None
    return str(stored) if field.case_sensitive else str(stored).lower()


def _repeated_keys(call: Call, sobject_name: str, ext_field: str,
                   records: list[Any]) -> set[str]:
    """External-id values that more than one record of the call carries."""
    sobject: SObjectType | None = call.org.schema.get(sobject_name)
    field = sobject.field(ext_field) if sobject else None
    if field is None or field.name == "Id":
        return set()
    seen: set[str] = set()
    repeated: set[str] = set()
    for record in records:
        key = _key(field, _external_value(record, ext_field))
        if key is not None:
            (repeated if key in seen else seen).add(key)
    return repeated


def _upsert(call: Call, sobject: str, ext_field: str, record: Any,
            repeated: set[str]) -> dict[str, Any]:
    given = _type_of(record)
    if given.lower() != sobject.lower():
        raise RecordError(400, "INVALID_TYPE",
                          f"Record type {given} does not match the URL's {sobject}")
    value = _external_value(record, ext_field)
    if value in (None, ""):
        raise RecordError(400, "MISSING_ARGUMENT", f"{ext_field} not specified", [ext_field])
    field = call.org.table(sobject).sobject.field(ext_field)
    if field is not None and repeated and _key(field, value) in repeated:
        raise RecordError(400, "DUPLICATE_VALUE", f"Duplicate external id specified: {value}")
    record_id, created = call.org.upsert(sobject, ext_field, value, _fields(record, ext_field),
                                         WriteHeaders.of(call.request.headers))
    return {"id": record_id, "success": True, "errors": [], "created": created}


def _retrieve_body(call: Call) -> tuple[list[str], list[str]]:
    """`POST /composite/sobjects/{T}` with `{"ids": [...], "fields": [...]}` (a long id list)."""
    data = call.request.json()
    ids = data.get("ids") if isinstance(data, dict) else None
    names = data.get("fields") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(ids) > 2000:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 2000 records into this call")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ApiError(400, "MISSING_ARGUMENT", "fields parameter is required")
    return ids, [n.strip() for n in names if n.strip()]


def _retrieve(call: Call, sobject_name: str, ids: list[str], names: list[str]) -> Response:
    sobject = call.org.schema.get(sobject_name)
    if sobject is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{sobject_name}' is not supported.")
    if not names:
        raise ApiError(400, "MISSING_ARGUMENT", "fields parameter is required")
    fields = []
    for name in names:
        field = sobject.field(name)
        if field is None:
            raise ApiError(400, "INVALID_FIELD",
                           f"No such column '{name}' on sobject of type {sobject.name}", [name])
        fields.append(field.name)
    out: list[dict[str, Any] | None] = []
    for record_id in ids:
        record = call.org.get_record(record_id)
        if record is None or record["IsDeleted"] or not record["Id"].startswith(
                sobject.key_prefix):
            out.append(None)
            continue
        item: dict[str, Any] = {"attributes": {"type": sobject.name,
                                               "url": call.url(sobject.name, record["Id"])}}
        item.update((name, record[name]) for name in fields)
        out.append(item)
    return json_response(200, out)
