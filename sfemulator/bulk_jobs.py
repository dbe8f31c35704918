"""Bulk API 2.0 jobs: their state machine, their JSON, and the org's list of them.

An ingest job is Open while data is uploaded, UploadComplete once closed, then InProgress
while a worker thread applies it (see bulk_ingest.py) and JobComplete or Failed. A query
job evaluates its SOQL when created and is JobComplete from the first poll on. Aborted ends
either kind. `org.faults.bulk_mode` is read when a job starts work: "fail" ends it Failed,
"hang" leaves it InProgress for good, as a stuck job on a real org does.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sfemulator.bulk_csv import BatchError, Dialect, Upload, parse_upload
from sfemulator.clock import format_datetime
from sfemulator.errors import ApiError
from sfemulator.ids import IdFactory

JOB_PREFIX = "750"
OPEN, UPLOAD_COMPLETE, IN_PROGRESS = "Open", "UploadComplete", "InProgress"
JOB_COMPLETE, FAILED, ABORTED = "JobComplete", "Failed", "Aborted"
FINISHED = frozenset([JOB_COMPLETE, FAILED, ABORTED])
FAULT_MESSAGE = "InternalServerError : The job failed because of an internal error (emulated fault)"


def job_state_error(job: Job, wanted: str) -> ApiError:
    return ApiError(400, "INVALIDJOBSTATE", f"Invalid job state: {job.state}; expected {wanted}")


@dataclass
class Job:
    """What both job kinds share; `lock` guards state and counters against the worker thread."""

    id: str
    kind: str  # "ingest" or "query"
    operation: str
    sobject: str
    dialect: Dialect
    api_version: str
    created_by: str
    created_date: str
    state: str
    modstamp: str = ""
    error_message: str | None = None
    started: float = field(default_factory=time.monotonic)
    processing_ms: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.modstamp = self.modstamp or self.created_date

    def set_state(self, state: str, now: str, error_message: str | None = None) -> None:
        with self.lock:
            self.state = state
            self.modstamp = now
            if error_message is not None:
                self.error_message = error_message
            if state in FINISHED:
                self.processing_ms = int((time.monotonic() - self.started) * 1000)

    def summary(self) -> dict[str, Any]:
        """The JSON returned on create, close/abort and in job lists."""
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.created_by,
            "createdDate": self.created_date,
            "systemModstamp": self.modstamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Ingest" if self.kind == "ingest" else "V2Query",
            "lineEnding": self.dialect.line_ending,
            "columnDelimiter": self.dialect.column_delimiter,
        }

    def info(self) -> dict[str, Any]:
        """The JSON of `GET jobs/{kind}/{id}`: the summary plus progress counters."""
        with self.lock:
            info = self.summary()
            info.update(self.progress(), retries=0, totalProcessingTime=self.processing_ms)
            if self.error_message:
                info["errorMessage"] = self.error_message
        return info

    def progress(self) -> dict[str, Any]:
        """Kind-specific counters for `info`; called with `lock` held."""
        return {}


@dataclass
class IngestJob(Job):
    """An insert/update/upsert/delete/hardDelete job and its per-record outcome.

    `data` holds the raw upload until the worker parses it into `upload`; `next_row` is the
    first row not yet applied, so an aborted or failed job's unprocessed records are exactly
    `upload.rows[next_row:]`.
    """

    external_id_field: str | None = None
    data: bytes | None = None
    upload: Upload | None = None
    next_row: int = 0
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return len(self.successes) + len(self.failures)

    def parsed(self) -> Upload | None:
        """The upload, parsed on first use; None when nothing usable was uploaded."""
        with self.lock:
            if self.upload is None and self.data is not None:
                try:
                    self.upload = parse_upload(self.data, self.dialect)
                except BatchError:
                    return None
                self.data = None
            return self.upload

    def result_rows(self, which: str) -> tuple[list[str], list[list[str]]]:
        """(original header, rows) for successes, failures or unprocessed records."""
        upload = self.parsed()
        with self.lock:
            header = list(upload.header) if upload else []
            if which == "successes":
                return header, list(self.successes)
            if which == "failures":
                return header, list(self.failures)
            if upload is None or self.state not in (ABORTED, FAILED):
                return header, []
            return header, upload.rows[self.next_row :]

    def summary(self) -> dict[str, Any]:
        info = super().summary()
        if self.external_id_field:
            info["externalIdFieldName"] = self.external_id_field
        if self.state == OPEN:
            info["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
        return info

    def progress(self) -> dict[str, Any]:
        return {
            "numberRecordsProcessed": self.processed,
            "numberRecordsFailed": len(self.failures),
            "apiActiveProcessingTime": self.processing_ms,
            "apexProcessingTime": 0,
        }


@dataclass
class QueryJob(Job):
    """A query/queryAll job and its result: records frozen when the job completed.

    As on Salesforce, results are a snapshot: records changed or deleted after the job
    completed are served as they were then.
    """

    query: str = ""
    columns: list[str] = field(default_factory=list)
    rows: Sequence[list[str]] = field(default_factory=list)

    def progress(self) -> dict[str, Any]:
        processed = len(self.rows) if self.state == JOB_COMPLETE else 0
        return {"numberRecordsProcessed": processed, "isPkChunkingSupported": True}


class JobBoard:
    """The bulk jobs of one org, oldest first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.ids = IdFactory()

    def add(self, job: Job) -> None:
        with self.lock:
            self.jobs[job.id] = job

    def get(self, kind: str, job_id: str) -> Job:
        """The job of that kind, or Salesforce's 404 (an ingest id under query/ is not found)."""
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None or job.kind != kind:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def remove(self, job_id: str) -> None:
        with self.lock:
            self.jobs.pop(job_id, None)

    def stop_all(self) -> None:
        """Abort unfinished jobs so a worker thread stops writing into a reset org."""
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            with job.lock:
                if job.state not in FINISHED:
                    job.state = ABORTED

    def of_kind(self, kind: str) -> list[Job]:
        with self.lock:
            return [job for job in self.jobs.values() if job.kind == kind]


# Boards live beside the org rather than on it so the store needs no bulk knowledge beyond
# calling `reset` when it empties itself.
_boards: weakref.WeakKeyDictionary[Any, JobBoard] = weakref.WeakKeyDictionary()
_boards_lock = threading.Lock()


def board_for(org: Any) -> JobBoard:
    with _boards_lock:
        board = _boards.get(org)
        if board is None:
            board = _boards[org] = JobBoard()
        return board


def reset(org: Any) -> None:
    """Forget every bulk job of `org`, stopping unfinished ones (`Org.reset` calls this)."""
    with _boards_lock:
        board = _boards.pop(org, None)
    if board is not None:
        board.stop_all()


def now_text(org: Any) -> str:
    return format_datetime(org.now())


def take_fault(org: Any) -> str | None:
    """The bulk fault to apply to the job starting work now, if any."""
    faults = getattr(org, "faults", None)
    return getattr(faults, "bulk_mode", None)
