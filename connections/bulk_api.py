"""Bulk API 2.0: query jobs page by page, ingest jobs with per-record results.

`BulkApi` is handed the client's choke point, its reader (for reading result pages ahead) and
its pause (a sleep that keeps the caller's heartbeat going): each HTTP request goes through the
choke point (budget, refresh, retries), so a session expiring during a long job is refreshed
like any other call. Polling starts fast and slows down; a job still running at `poll_timeout`
is aborted and reported as Transient.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import compress
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from simple_salesforce.util import call_salesforce

from connections import conf
from connections.ahead import Reader, as_is, read_ahead
from connections.errors import (
    SalesforceError,
    SalesforceRejected,
    Transient,
    check_write_target,
)
from connections.page_process import PageProcess

if TYPE_CHECKING:
    import requests
    from simple_salesforce import Salesforce

    from connections.transport import Call

logger = logging.getLogger(__name__)

INGEST_OPERATIONS = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})
# Salesforce accepts 150 MB per upload (after base64 on its side); stay well below.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# An explicit null in Bulk CSV; an empty cell means "leave the field as it is".
CSV_NULL = "#N/A"
JSON = "application/json"
CSV = "text/csv"
P = TypeVar("P")


@dataclass(frozen=True)
class BulkPosition:
    """Where a query job's reading stands: the job, and the locator of the next results page
    ("null" once every page was read)."""

    job_id: str
    locator: str


@dataclass(frozen=True)
class BulkPage(Generic[P]):
    """A prepared results page, and the position right after it."""

    prepared: P
    position: BulkPosition


class BulkApi:
    """Bulk API 2.0 jobs, made through the calls it is handed (SalesforceClient owns one)."""

    def __init__(self, call: Call, reader: Reader, pause: Callable[[float], None]) -> None:
        self.call = call
        self.reader = reader
        self.pause = pause

    def query(self, soql: str, *, include_deleted: bool = False, poll_timeout: float = 600,
              prepare: Callable[[list[dict]], P] = as_is,
              page_records: int | None = None) -> Iterator[P]:
        """Run a query job and yield its results a page at a time, as REST-shaped dicts.

        CSV cells stay strings; empty cells become None and `Parent.Field` columns are nested
        like the REST API nests them (`{"Account": {"Name": ...}}`, None when all empty).
        Pages are read ahead and `prepare`d like `query_pages` does; empty pages are skipped.
        """
        for page in self.resumable_query(soql, include_deleted=include_deleted,
                                         poll_timeout=poll_timeout, prepare=prepare,
                                         page_records=page_records):
            yield page.prepared

    def resumable_query(self, soql: str, *, include_deleted: bool = False,
                        poll_timeout: float = 600, prepare: Callable[[list[dict]], P] = as_is,
                        page_records: int | None = None, resume: BulkPosition | None = None,
                        apart: bool = False) -> Iterator[BulkPage[P]]:
        """`query`, with where each page leaves the job: save a page's `position` with what it
        applied, and a later call given it as `resume` goes on from there.

        1. A job to resume is asked for its state: complete or still running, it is read from
           the saved locator; failed, aborted or gone (Salesforce keeps results for days, not
           for ever), a new job starts from nothing, and the log says why.
        2. Each page comes with the job id and the locator of the page after it.
        3. `apart`: each results page is parsed and `prepare`d in a forked `PageProcess`, on
           another core than the caller's writes (where a process can be forked). `prepare`
           must then not touch the database, and what it returns must pickle; its errors are
           raised here as they were raised there.
        """
        page_records = page_records or int(conf.get("SALESFORCE_BULK_QUERY_PAGE_RECORDS"))
        job_id = self._job_to_resume(resume, poll_timeout) if resume else None
        locator = resume.locator if job_id and resume else ""
        if job_id is None:
            operation = "queryAll" if include_deleted else "query"
            job = self.json(lambda sf: _request(sf, "POST", "query",
                                                json={"operation": operation, "query": soql}))
            job_id = job["id"]
            self.wait_for_job("query", job_id, poll_timeout)
        work = _preparing(prepare)
        helper = PageProcess.start(work, name="bulk results") if apart else None

        def results(locator: str) -> Callable[[Salesforce], tuple[Any, str]]:
            params = {"maxRecords": page_records, **({"locator": locator} if locator else {})}

            def read(sf: Salesforce) -> tuple[Any, str]:
                response = _request(sf, "GET", f"query/{job_id}/results", params=params,
                                    accept=CSV)
                content = response.content
                return (helper.run(content) if helper else work(content),
                        response.headers.get("Sforce-Locator") or "null")
            return read

        def following(answer: tuple[Any, str]) -> Callable[[Salesforce], Any] | None:
            return None if answer[1] == "null" else results(answer[1])

        reads = read_ahead(self.reader, results(locator), following)
        try:
            for answer, after in reads:
                prepared = PageProcess.load(answer) if helper else answer
                if prepared is not None:
                    yield BulkPage(prepared, BulkPosition(job_id, after))
        finally:
            reads.close()  # settles a read still in flight before its helper goes
            if helper is not None:
                helper.close()

    def _job_to_resume(self, resume: BulkPosition, poll_timeout: float) -> str | None:
        """The job id if its results can still be read (waiting for it if still running)."""
        try:
            state = self.job("query", resume.job_id).get("state")
            if state not in ("Failed", "Aborted"):
                self.wait_for_job("query", resume.job_id, poll_timeout)
                return resume.job_id
        except SalesforceRejected as error:
            state = f"gone ({error.error_code})"
        logger.warning("bulk query job %s is %s: starting a new job", resume.job_id, state)
        return None

    def ingest(self, sobject: str, operation: str, records: list[dict], *,
               external_id_field: str | None = None, poll_timeout: float = 600) -> list[dict]:
        """Insert/update/upsert/delete through ingest jobs; every record's result comes back.

        Results look like sObject Collections results plus the row Salesforce echoed:
        `{"id", "success", "created", "errors": [{"statusCode", "message", "fields"}], "record"}`
        (successes first, then failures, then rows the job never processed).
        """
        name = check_write_target(operation, INGEST_OPERATIONS, sobject, external_id_field)
        results: list[dict] = []
        for payload in _csv_uploads(records):
            results.extend(self._ingest_job(name, operation, payload, external_id_field,
                                            poll_timeout))
        return results

    def job(self, kind: str, job_id: str) -> dict:
        """The state of a `kind` ("query" or "ingest") job."""
        return self.json(lambda sf: _request(sf, "GET", f"{kind}/{job_id}"))

    def json(self, request: Callable[[Salesforce], requests.Response]) -> dict:
        """One Bulk API request through the choke point, its JSON answer."""
        return self.call(lambda sf: request(sf).json())

    def wait_for_job(self, kind: str, job_id: str, poll_timeout: float) -> dict:
        """Poll until JobComplete; Failed/Aborted → SalesforceRejected; too long → abort, Transient.

        The waits between polls go through `pause`, so the caller's heartbeat keeps going.
        """
        deadline = time.monotonic() + poll_timeout
        delay = float(conf.get("SALESFORCE_BULK_POLL_INTERVAL"))
        cap = float(conf.get("SALESFORCE_BULK_POLL_MAX_INTERVAL"))
        while True:
            job = self.job(kind, job_id)
            state = job.get("state")
            if state == "JobComplete":
                return job
            if state in ("Failed", "Aborted"):
                raise SalesforceRejected(f"BULK_JOB_{state.upper()}",
                                         job.get("errorMessage") or f"the {kind} job {state}")
            if time.monotonic() + delay > deadline:
                self._abort_job(kind, job_id)
                raise Transient(f"bulk {kind} job {job_id} still {state} after "
                                f"{poll_timeout:.0f}s; aborted it")
            self.pause(delay)
            delay = min(delay * 2, cap)

    def _ingest_job(self, name: str, operation: str, payload: bytes,
                    external_id_field: str | None, poll_timeout: float) -> list[dict]:
        spec: dict[str, Any] = {"object": name, "operation": operation, "contentType": "CSV",
                                "lineEnding": "LF", "columnDelimiter": "COMMA"}
        if external_id_field:
            spec["externalIdFieldName"] = external_id_field
        job_id = self.json(lambda sf: _request(sf, "POST", "ingest", json=spec))["id"]
        try:
            self.call(lambda sf: _request(sf, "PUT", f"ingest/{job_id}/batches", data=payload,
                                          content_type=CSV))
            self.json(lambda sf: _request(sf, "PATCH", f"ingest/{job_id}",
                                          json={"state": "UploadComplete"}))
        except SalesforceError:
            self._abort_job("ingest", job_id)
            raise
        self.wait_for_job("ingest", job_id, poll_timeout)
        results: list[dict] = []
        for kind in ("successfulResults", "failedResults", "unprocessedrecords"):
            response = self.call(lambda sf, k=kind: _request(
                sf, "GET", f"ingest/{job_id}/{k}/", accept=CSV))
            results.extend(_ingest_result(kind, row) for row in _csv_rows(response))
        return results

    def _abort_job(self, kind: str, job_id: str) -> None:
        try:
            self.json(lambda sf: _request(sf, "PATCH", f"{kind}/{job_id}",
                                          json={"state": "Aborted"}))
        except SalesforceError as error:
            # The job may already be finished or gone; the caller reports the real failure.
            logger.warning("could not abort bulk %s job %s: %s", kind, job_id, error)


def _request(sf: Salesforce, method: str, path: str, *, content_type: str = JSON,
             accept: str = JSON, **kwargs: Any) -> requests.Response:
    headers = {**sf.headers, "Content-Type": content_type, "Accept": accept}
    return call_salesforce(url=sf.bulk2_url + path, method=method, session=sf.session,
                           headers=headers, **kwargs)


def _csv_rows(response: requests.Response) -> csv.DictReader:
    """Bulk CSV is UTF-8. `response.text` would guess ISO-8859-1 for a `text/csv` answer
    without a charset and turn every non-ASCII name into mojibake."""
    return csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))


def _preparing(prepare: Callable[[list[dict]], P]) -> Callable[[bytes], P | None]:
    """A results page's CSV → `prepare(records)`, or None for a page without records."""
    def work(content: bytes) -> P | None:
        records = _records(content)
        return prepare(records) if records else None
    return work


def _records(content: bytes) -> list[dict[str, Any]]:
    """A results page as REST-shaped dicts; the column layout is read once per page."""
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    columns = next(rows, None)
    if not columns:
        return []
    if any("." in column for column in columns):
        return [_nest(dict(zip(columns, row, strict=False))) for row in rows if row]
    # No parent columns (the common case): one flat dict per row, empty cells as None. A
    # whole row is a copy of `blank` updated with its non-empty cells, all in C.
    blank = dict.fromkeys(columns)
    width = len(columns) if len(blank) == len(columns) else -1  # a repeated column: one by one
    records = []
    for row in rows:
        if len(row) == width:
            record = blank.copy()
            record.update(compress(zip(columns, row, strict=True), row))
            records.append(record)
        elif row:  # a short row has only the columns it reaches
            records.append({column: cell or None
                            for column, cell in zip(columns, row, strict=False)})
    return records


def _nest(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column, raw in row.items():
        value = raw if raw != "" else None
        target = record
        *parents, leaf = column.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return {key: _empty_parent(value) for key, value in record.items()}


def _empty_parent(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    value = {k: _empty_parent(v) for k, v in value.items()}
    return None if all(v is None for v in value.values()) else value


def _cell(value: Any) -> str:
    if value is None:
        return CSV_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _csv_uploads(records: list[dict]) -> Iterator[bytes]:
    """CSV bodies of at most MAX_UPLOAD_BYTES; a key absent from a row is an empty cell."""
    columns: list[str] = []
    for record in records:
        columns.extend(k for k in record if k != "attributes" and k not in columns)
    header = _csv_line(columns)
    body: list[bytes] = []
    size = len(header)
    for record in records:
        line = _csv_line([_cell(record[c]) if c in record else "" for c in columns])
        if body and size + len(line) > MAX_UPLOAD_BYTES:
            yield header + b"".join(body)
            body, size = [], len(header)
        body.append(line)
        size += len(line)
    if body:
        yield header + b"".join(body)


def _csv_line(cells: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue().encode("utf-8")


def _ingest_result(kind: str, row: dict[str, str]) -> dict[str, Any]:
    record_id = row.pop("sf__Id", "") or None
    created = row.pop("sf__Created", "") == "true"
    error = row.pop("sf__Error", "")
    if kind == "successfulResults":
        return {"id": record_id, "success": True, "created": created, "errors": [],
                "record": row}
    if kind == "unprocessedrecords":
        error = error or "UNPROCESSED:the job ended before this record was processed"
    # `CODE:message:Field1,Field2 --`; the message itself may contain colons, and only the
    # ` --` suffix says a field list is there at all.
    code, _, rest = error.partition(":")
    message, fields = rest.strip(), ""
    if message.endswith("--"):
        message, _, fields = message.removesuffix("--").rstrip().rpartition(":")
    return {"id": record_id, "success": False, "created": False, "record": row,
            "errors": [{"statusCode": code, "message": message or rest or error,
                        "fields": [f.strip() for f in fields.split(",") if f.strip()]}]}
