"""Bulk API 2.0: every request under `/services/data/vXX.X/jobs/`.

The server authenticates and counts the call, then hands it to `handle`, which routes it
to one small function per resource. Jobs and their state machine live in bulk_jobs.py,
record processing in bulk_ingest.py, query results in bulk_results.py, CSV rules in
bulk_csv.py.
"""

from __future__ import annotations

import json
from typing import Any

from sfemulator import bulk_ingest, bulk_jobs, bulk_results, soql
from sfemulator.bulk_csv import (
    DELIMITERS,
    LINE_ENDINGS,
    Dialect,
    write_rows,
)
from sfemulator.bulk_jobs import (
    IngestJob,
    Job,
    QueryJob,
    board_for,
    job_state_error,
    now_text,
    reset,
)
from sfemulator.errors import ApiError

__all__ = ["handle", "reset"]

INGEST_OPERATIONS = frozenset(["insert", "update", "upsert", "delete", "hardDelete"])
QUERY_OPERATIONS = frozenset(["query", "queryAll"])
RESULT_KINDS = {
    "successfulresults": "successes",
    "failedresults": "failures",
    "unprocessedrecords": "unprocessed",
}
MAX_UPLOAD_BYTES = 150 * 1024 * 1024
JSON_TYPE = "application/json;charset=UTF-8"
Response = tuple[int, dict[str, str], bytes]


def handle(
    org: Any,
    method: str,
    rest_path: str,
    query: dict[str, Any],
    headers: dict[str, str],
    body: bytes,
    version: str,
) -> Response:
    """Serve one Bulk API 2.0 request; errors come back as Salesforce's JSON array."""
    parts = [part for part in rest_path.strip("/").split("/") if part]
    try:
        return _route(org, method.upper(), parts, _flat(query), body, version)
    except ApiError as error:
        return _json(error.status, error.as_json())


def _route(
    org: Any, method: str, parts: list[str], query: dict[str, str], body: bytes, version: str
) -> Response:
    if not parts or parts[0] not in ("ingest", "query"):
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    kind = parts[0]
    board = board_for(org)
    if len(parts) == 1:
        _allow(method, "GET", "POST")
        if method == "GET":
            return _json(
                200,
                {
                    "done": True,
                    "records": [job.summary() for job in board.of_kind(kind)],
                    "nextRecordsUrl": None,
                },
            )
        if kind == "ingest":
            return _json(200, _create_ingest(org, _body_json(body), version).summary())
        return _json(200, _create_query(org, _body_json(body), version))
    job = board.get(kind, parts[1])
    if len(parts) == 2:
        _allow(method, "GET", "PATCH", "DELETE")
        if method == "GET":
            return _json(200, job.info())
        if method == "PATCH":
            return _json(200, _change_state(org, job, _body_json(body)))
        if job.state not in bulk_jobs.FINISHED and job.state != bulk_jobs.UPLOAD_COMPLETE:
            raise job_state_error(job, "UploadComplete, JobComplete, Aborted or Failed")
        board.remove(job.id)
        return 204, {}, b""
    resource = parts[2].lower()
    if len(parts) == 3 and isinstance(job, IngestJob) and resource == "batches":
        _allow(method, "PUT")
        return _upload(job, body)
    if len(parts) == 3 and isinstance(job, IngestJob) and resource in RESULT_KINDS:
        _allow(method, "GET")
        return _ingest_results(job, RESULT_KINDS[resource])
    if len(parts) == 3 and isinstance(job, QueryJob) and resource == "results":
        _allow(method, "GET")
        return bulk_results.query_results(job, query)
    raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def _create_ingest(org: Any, spec: dict[str, Any], version: str) -> IngestJob:
    """Validate a create-job request the way Salesforce does, then register the Open job."""
    operation = spec.get("operation")
    if operation not in INGEST_OPERATIONS:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    sobject = org.schema.get(str(spec.get("object") or ""))
    if sobject is None:
        raise ApiError(
            400, "INVALIDJOB", f"InvalidJob : Unable to find object: {spec.get('object')}"
        )
    if spec.get("contentType", "CSV") != "CSV":
        raise ApiError(
            400, "INVALIDJOB", f"InvalidJob : Unsupported content type: {spec['contentType']}"
        )
    external_id = None
    if operation == "upsert":
        external_id = _external_id_field(sobject, spec.get("externalIdFieldName"))
    board = board_for(org)
    now = now_text(org)
    job = IngestJob(
        id=board.ids.new(bulk_jobs.JOB_PREFIX),
        kind="ingest",
        operation=operation,
        sobject=sobject.name,
        dialect=_dialect(spec),
        api_version=version,
        created_by=_user_id(org),
        created_date=now,
        state=bulk_jobs.OPEN,
        external_id_field=external_id,
    )
    board.add(job)
    return job


def _external_id_field(sobject: Any, name: Any) -> str:
    if not name:
        raise ApiError(
            400,
            "INVALIDJOB",
            "InvalidJob : External ID was blank for "
            f"{sobject.name}. An External ID must be specified for upsert.",
        )
    found = sobject.field(str(name))
    if found is None or not (found.external_id or found.name == "Id"):
        raise ApiError(
            400,
            "INVALIDJOB",
            f"InvalidJob : Field name provided, {name} for external id "
            f"field is not an External ID field or does not exist on {sobject.name}",
        )
    return found.name


def _create_query(org: Any, spec: dict[str, Any], version: str) -> dict[str, Any]:
    """Run the SOQL now (a bad query is refused at creation, as on Salesforce) and freeze the
    result's CSV cells, since the job completes at once.

    The response says UploadComplete, as Salesforce's does; the first poll then sees the
    job finished, or Failed / stuck InProgress when a bulk fault is switched on.
    """
    operation = spec.get("operation", "query")
    if operation not in QUERY_OPERATIONS:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    text = spec.get("query")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "INVALIDJOB", "InvalidJob : A query is required for query jobs")
    with org.lock:
        try:
            # Resolved first: a compound field refuses the job before the query runs.
            columns, datetime_columns = bulk_results.query_columns(org, text)
            result = soql.run_query(text, catalog=org, include_deleted=operation == "queryAll")
        except soql.SoqlError as error:
            raise ApiError(400, error.error_code, error.message) from None
        if result.count_only:
            raise ApiError(400, "INVALIDJOB", "InvalidJob : Aggregate queries are not supported")
        fault = bulk_jobs.take_fault(org)
        # The job completes at once (unless a fault says otherwise): freeze its result now.
        rows = [] if fault else bulk_results.snapshot(org, result, columns, datetime_columns, version)
    board = board_for(org)
    now = now_text(org)
    job = QueryJob(
        id=board.ids.new(bulk_jobs.JOB_PREFIX),
        kind="query",
        operation=operation,
        sobject=result.sobject,
        dialect=_dialect(spec),
        api_version=version,
        created_by=_user_id(org),
        created_date=now,
        state=bulk_jobs.UPLOAD_COMPLETE,
        query=text,
        columns=columns,
        rows=rows,
    )
    created = job.summary()
    board.add(job)
    org.usage.count_bulk_work(query_jobs=1)
    if fault == "fail":
        job.set_state(bulk_jobs.FAILED, now, bulk_jobs.FAULT_MESSAGE)
    elif fault == "hang":
        job.set_state(bulk_jobs.IN_PROGRESS, now)
    else:
        job.set_state(bulk_jobs.JOB_COMPLETE, now)
    return created


def _change_state(org: Any, job: Job, spec: dict[str, Any]) -> dict[str, Any]:
    """PATCH a job: close an Open ingest job, or abort any unfinished job.

    The reply shows the state just set; the worker may move on before it is sent.
    """
    wanted = spec.get("state")
    if wanted == bulk_jobs.UPLOAD_COMPLETE and isinstance(job, IngestJob):
        if job.state != bulk_jobs.OPEN:
            raise job_state_error(job, bulk_jobs.OPEN)
        if job.data is None:
            job.set_state(
                bulk_jobs.FAILED, now_text(org), "InvalidBatch : No data was uploaded for this job"
            )
            return job.summary()
        job.set_state(bulk_jobs.UPLOAD_COMPLETE, now_text(org))
        closed = job.summary()
        bulk_ingest.start(org, job)
        return closed
    if wanted == bulk_jobs.ABORTED:
        if job.state in bulk_jobs.FINISHED:
            raise job_state_error(job, "Open, UploadComplete or InProgress")
        job.set_state(bulk_jobs.ABORTED, now_text(org))
        return job.summary()
    raise ApiError(400, "INVALIDJOBSTATE", f"Invalid job state: {wanted}")


def _upload(job: IngestJob, body: bytes) -> Response:
    """PUT the job's CSV; Salesforce takes one upload per job and only while it is Open."""
    if job.state != bulk_jobs.OPEN:
        raise job_state_error(job, bulk_jobs.OPEN)
    if job.data is not None:
        raise ApiError(
            400, "INVALIDJOBSTATE", "Invalid job state: data was already uploaded for this job"
        )
    if not body:
        raise ApiError(400, "INVALIDBATCH", "InvalidBatch : The upload is empty")
    if len(body) > MAX_UPLOAD_BYTES:
        raise ApiError(400, "INVALIDBATCH", "InvalidBatch : The upload exceeds 150 MB")
    job.data = body
    return 201, {}, b""


def _ingest_results(job: IngestJob, which: str) -> Response:
    """successfulResults / failedResults / unprocessedrecords as CSV, header always present."""
    header, rows = job.result_rows(which)
    if which == "successes":
        header = ["sf__Id", "sf__Created", *header]
    elif which == "failures":
        header = ["sf__Id", "sf__Error", *header]
    return 200, {"Content-Type": bulk_results.CSV_TYPE}, write_rows(job.dialect, header, rows)


def _dialect(spec: dict[str, Any]) -> Dialect:
    delimiter = spec.get("columnDelimiter", "COMMA")
    line_ending = spec.get("lineEnding", "LF")
    if delimiter not in DELIMITERS:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid columnDelimiter: {delimiter}")
    if line_ending not in LINE_ENDINGS:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid lineEnding: {line_ending}")
    return Dialect(delimiter, line_ending)


def _user_id(org: Any) -> str:
    return str(getattr(org, "user_id", "") or "005000000000000AAA")


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
        )


def _body_json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Invalid JSON in request body: {error}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return value


def _flat(query: dict[str, Any]) -> dict[str, str]:
    """Accept both `parse_qs` lists and plain strings from the server."""
    return {
        key: value[0] if isinstance(value, list) and value else value
        for key, value in query.items()
    }


def _json(status: int, payload: Any) -> Response:
    return status, {"Content-Type": JSON_TYPE}, json.dumps(payload).encode("utf-8")
