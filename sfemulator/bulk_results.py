"""A Bulk API 2.0 query job's results: the snapshot taken when it completes, and its pages.

Results are a snapshot, as on Salesforce: records changed or deleted after the job completed
are served as they were then. Pages are CSV with `Sforce-NumberOfRecords` and a
`Sforce-Locator` (the string "null" on the last page).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any

from sfemulator import bulk_jobs, soql_parse, soql_schema
from sfemulator.bulk_csv import csv_cell, csv_datetime, flatten, write_rows
from sfemulator.bulk_jobs import QueryJob, job_state_error
from sfemulator.errors import ApiError

DEFAULT_PAGE = 50_000
CSV_TYPE = "text/csv; charset=UTF-8"
Response = tuple[int, dict[str, str], bytes]


def snapshot(
    org: Any, result: Any, columns: list[str], datetime_columns: frozenset[str], version: str
) -> Sequence[list[str]]:
    """The CSV cells of every matched record as it is now; called with the org lock held.

    A selection without parent fields keeps each record's stored row (an immutable tuple, so
    later writes do not show) and turns a page of them into cells when the page is asked for:
    a large job completes in a fraction of the time, as its pages are read. One with parent
    fields renders every record now, since its parents are read live.
    """
    cells = [(column, _datetime_cell if column in datetime_columns else csv_cell)
             for column in columns]

    def render(record: dict[str, Any]) -> list[str]:
        return [cell(record.get(column)) for column, cell in cells]

    if not any("." in column for column in columns):
        return FrozenRows([org.locate(record_id) for record_id in result.ids],
                          org.formula_context(), render)
    return [render(dict(flatten(result.project(org.get_record(record_id), version))))
            for record_id in result.ids]


class FrozenRows(Sequence):
    """Stored rows frozen when a query job completed; slicing turns them into CSV cells."""

    def __init__(self, rows: list[Any], context: Any, render: Callable[[dict], list[str]]):
        self._rows = rows
        self._context = context
        self._render = render

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._cells(found) for found in self._rows[index]]
        return self._cells(self._rows[index])

    def _cells(self, found: tuple[Any, Any]) -> list[str]:
        table, row = found
        # Bulk queries refuse compound fields, so none is computed.
        return self._render(table.to_dict(row, self._context, compound=False))


def _datetime_cell(value: Any) -> str:
    return csv_cell(csv_datetime(value))


def query_results(job: QueryJob, query: dict[str, str]) -> Response:
    """One page of a finished query job, with the headers simple-salesforce relies on."""
    if job.state != bulk_jobs.JOB_COMPLETE:
        raise job_state_error(job, bulk_jobs.JOB_COMPLETE)
    page_size = _page_size(query.get("maxRecords"))
    start = _decode_locator(query.get("locator"))
    rows = job.rows[start : start + page_size]
    end = start + len(rows)
    headers = {
        "Content-Type": CSV_TYPE,
        "Sforce-NumberOfRecords": str(len(rows)),
        "Sforce-Locator": _encode_locator(end) if end < len(job.rows) else "null",
    }
    return 200, headers, write_rows(job.dialect, job.columns, rows)


def query_columns(org: Any, text: str) -> tuple[list[str], frozenset[str]]:
    """CSV header (the SELECT list, canonically spelt: `account.name` → `Account.Name`) and
    the columns holding datetimes.

    QueryResult does not expose its field paths, so the (already validated) query is resolved
    again through the SOQL module's schema helper.
    """
    query = soql_parse.parse(text)
    schema = soql_schema.Schema(org, text)
    root = schema.root(query.sobject, query.sobject_pos)
    paths = [schema.resolve(root, ref) for ref in query.fields]
    if any(path.field.get("type") == "address" for path in paths):
        # What Bulk API 2.0 answers when a job is created (Bulk 1.0 says FUNCTIONALITY_NOT_ENABLED).
        raise ApiError(400, "API_ERROR", "Selecting compound data not supported in Bulk Query")
    datetimes = frozenset(path.display for path in paths if path.field.get("type") == "datetime")
    return [path.display for path in paths], datetimes


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size <= 0:
        raise ApiError(
            400, "INVALID_PARAMETER", f"maxRecords must be a positive integer, not {raw}"
        )
    return size


def _encode_locator(offset: int) -> str:
    # Salesforce's locators are base64 of the row offset; clients must treat them as opaque.
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode_locator(raw: str | None) -> int:
    if not raw or raw == "null":
        return 0
    try:
        padded = raw + "=" * (-len(raw) % 4)
        return int(base64.b64decode(padded, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(400, "INVALID_LOCATOR", f"Invalid locator: {raw}") from None


