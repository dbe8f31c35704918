"""Applying an ingest job's upload to the org, record by record, in a worker thread.

Salesforce processes uploads in chunks of 200 records; each chunk here holds the org lock
once, so REST calls from other clients interleave with a long job as they would on a real
org. A record that fails is reported in failedResults and the job carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sfemulator.bulk_csv import BatchError, cell_value, format_error, parse_upload
from sfemulator.bulk_jobs import (
    ABORTED,
    FAILED,
    FAULT_MESSAGE,
    IN_PROGRESS,
    JOB_COMPLETE,
    IngestJob,
    now_text,
    take_fault,
)
from sfemulator.errors import ApiError
from sfemulator.ids import to18
from sfemulator.values import MissingRecord, RecordError, ValueTypeError, cross_reference_error
from sfemulator.write_rules import WriteHeaders

log = logging.getLogger(__name__)
CHUNK = 200
# Bulk jobs send no Sforce-* headers: no assignment rule runs, duplicate rules cannot be waived.
BULK_HEADERS = WriteHeaders(bulk=True)
INTERNAL_BATCH = 10_000
ID_ONLY_OPERATIONS = frozenset(["delete", "hardDelete"])


class _RecordFailure(Exception):
    """One row cannot be applied; carries the sf__Error text and the id to report."""

    def __init__(self, error: str, record_id: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.record_id = record_id


def start(org: Any, job: IngestJob) -> None:
    """Process `job` in a daemon thread (it was just closed with UploadComplete)."""
    thread = threading.Thread(
        target=run_guarded, args=(org, job), name=f"bulk-{job.id}", daemon=True
    )
    thread.start()


def run_guarded(org: Any, job: IngestJob) -> None:
    """`run`, but a bug in the emulator fails the job visibly instead of killing the thread."""
    try:
        run(org, job)
    except Exception as error:  # noqa: BLE001 - reported on the job and logged with traceback
        log.exception("bulk job %s crashed", job.id)
        job.set_state(
            FAILED, now_text(org), f"InternalServerError : {type(error).__name__}: {error}"
        )


def run(org: Any, job: IngestJob) -> None:
    """Take the job from UploadComplete to its end state.

    1. Honour an abort that came first, then the bulk fault switch.
    2. Parse the upload and map its header to fields; an unusable file fails the job.
    3. Apply the rows chunk by chunk, stopping at the next row if the job is aborted.
    """
    if job.state == ABORTED:
        return
    job.set_state(IN_PROGRESS, now_text(org))
    fault = take_fault(org)
    if fault == "hang":
        return
    try:
        upload = parse_upload(job.data or b"", job.dialect)
        with job.lock:
            job.upload, job.data = upload, None
        if fault == "fail":
            job.set_state(FAILED, now_text(org), FAULT_MESSAGE)
            return
        apply = _operation(org, job, _columns(org, job, upload.header))
    except BatchError as error:
        job.set_state(FAILED, now_text(org), str(error))
        return
    # Salesforce splits an ingest job into internal batches of 10,000 records.
    org.usage.count_bulk_work(batches=max(1, -(-len(upload.rows) // INTERNAL_BATCH)))
    for start_row in range(0, len(upload.rows), CHUNK):
        with org.lock:
            for row in upload.rows[start_row : start_row + CHUNK]:
                if job.state == ABORTED:
                    return
                _apply_row(job, apply, row)
    with job.lock:
        if job.state == ABORTED:
            return
    job.set_state(JOB_COMPLETE, now_text(org))


def _columns(org: Any, job: IngestJob, header: list[str]) -> list[str]:
    """Canonical field names for the header; an unknown or repeated column fails the batch."""
    sobject = org.schema.get(job.sobject)
    columns: list[str] = []
    for name in header:
        canonical = _column(org, sobject, name.strip()) if sobject else None
        if canonical is None or (job.operation in ID_ONLY_OPERATIONS and canonical != "Id"):
            raise BatchError(f"InvalidBatch : Field name not found : {name}")
        if canonical in columns:
            raise BatchError(f"InvalidBatch : Duplicate field name : {name}")
        columns.append(canonical)
    return columns


def _column(org: Any, sobject: Any, name: str) -> str | None:
    """A header's canonical name: a field, or `Relationship.ExternalIdField` (one level up)."""
    relationship, dot, target_field = name.partition(".")
    if not dot:
        found = sobject.field(name)
        return found.name if found else None
    lookup = sobject.relationship(relationship)
    target = org.schema.get(lookup.reference_to[0]) if lookup and lookup.reference_to else None
    found = target.field(target_field) if target else None
    if found is None or not found.id_lookup:
        return None
    return f"{lookup.relationship_name}.{found.name}"


def _nest(fields: dict[str, Any]) -> dict[str, Any]:
    """`{"Account.Ext__c": "x"}` → `{"Account": {"Ext__c": "x"}}`, the REST body's lookup form."""
    for name in [n for n in fields if "." in n]:
        relationship, _, target_field = name.partition(".")
        fields[relationship] = {target_field: fields.pop(name)}
    return fields


def _operation(
    org: Any, job: IngestJob, columns: list[str]
) -> Callable[[list[str]], tuple[str, bool]]:
    """A function applying one raw row; returns (id, created) or raises _RecordFailure."""
    sobject = job.sobject
    operation = job.operation
    ext = job.external_id_field

    def apply(row: list[str]) -> tuple[str, bool]:
        fields: dict[str, Any] = {}
        for name, cell in zip(columns, row, strict=True):
            present, value = cell_value(cell)
            if present:
                fields[name] = value
        _nest(fields)
        if operation == "insert":
            return org.insert(sobject, fields, BULK_HEADERS), True
        if operation == "upsert" and ext and ext != "Id":
            key = fields.pop(ext, None)
            if key is None:
                raise _RecordFailure(format_error("MISSING_ARGUMENT", f"{ext} not specified", []))
            return org.upsert(sobject, ext, key, fields, BULK_HEADERS)
        record_id = fields.pop("Id", None)
        if operation == "upsert" and record_id is None:
            return org.insert(sobject, fields, BULK_HEADERS), True
        if record_id is None:
            raise _RecordFailure(
                format_error("MISSING_ARGUMENT", f"Id not specified in an {operation} call", [])
            )
        if operation in ("update", "upsert"):
            try:
                org.update(sobject, record_id, fields, BULK_HEADERS)
            except MissingRecord:
                raise cross_reference_error() from None
            return _canonical_id(record_id), False
        if to18(record_id) is None:
            raise RecordError(400, "MALFORMED_ID", f"malformed id {record_id}")
        # The store's hard delete takes any id; a job only touches its own object's records.
        target = org.schema.for_id(record_id)
        if target is None or target.name != sobject:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if operation == "delete":
            try:
                org.delete(sobject, record_id, BULK_HEADERS)
            except MissingRecord:  # purged or never there; the recycle bin's: ENTITY_IS_DELETED
                raise cross_reference_error() from None
        else:
            org.rules.check_locks([to18(record_id)])
            org.hard_delete(record_id)
        return _canonical_id(record_id), False

    def guarded(row: list[str]) -> tuple[str, bool]:
        try:
            return apply(row)
        except ValueTypeError as error:
            given = row[columns.index("Id")] if "Id" in columns and operation != "insert" else ""
            raise _RecordFailure(_deserialize_error(columns, error), given) from None
        except ApiError as error:
            given = row[columns.index("Id")] if "Id" in columns and operation != "insert" else ""
            raise _RecordFailure(
                format_error(error.error_code, error.message, error.fields), given
            ) from None

    return guarded


def _deserialize_error(columns: list[str], error: ValueTypeError) -> str:
    """The sf__Error of a CSV cell that does not parse as its field's type.

    A checkbox takes only true/false: anything else is INVALID_TYPE_ON_FIELD_IN_RECORD, as a
    CSV import reports it (Salesforce Help, "Fixing Import Error: INVALID_TYPE_ON_FIELD_IN_RECORD").
    """
    name = error.field.name
    if error.field.type == "boolean":
        return format_error("INVALID_TYPE_ON_FIELD_IN_RECORD",
                            f"{error.field.label}: value not of required type: {error.value}",
                            [name])
    column = columns.index(name) + 1 if name in columns else 0
    message = (f"Failed to deserialize field at col {column}. Due to, '{error.value}' is not a "
               f"valid value for the type {error.field.soap_type}")
    return format_error("INVALID_FIELD", message, [name])


def _canonical_id(record_id: str) -> str:
    """The 18-character id Salesforce reports, even when the upload used 15 characters."""
    return to18(record_id) or record_id


def _apply_row(
    job: IngestJob, apply: Callable[[list[str]], tuple[str, bool]], row: list[str]
) -> None:
    try:
        record_id, created = apply(row)
    except _RecordFailure as failure:
        with job.lock:
            job.failures.append([failure.record_id, failure.error, *row])
            job.next_row += 1
        return
    with job.lock:
        job.successes.append([record_id, "true" if created else "false", *row])
        job.next_row += 1
