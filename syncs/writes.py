"""The batch writer: records written to one Salesforce object, one result per record, in order.

sObject Collections (200 a call, allOrNone false) below the bulk threshold, one Bulk API 2.0
ingest job per column set above it. Bulk results (successful, failed, unprocessed) are always
downloaded and matched back to the record they belong to: by Id (update, delete), by the
external id (upsert), by the row as sent (insert). Rows with different column sets go in
different jobs, so no row is padded with a column it did not have (in Bulk CSV an empty cell
leaves a field alone and `#N/A` clears it). Records Salesforce reports locked
(UNABLE_TO_LOCK_ROW) are sent again in smaller batches, `LOCK_ROUNDS` rounds at most: through
collections, halving each round; through Bulk API 2.0, a new job of only the locked rows, then
halving. A record still locked after the last round keeps its failure, saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connections.bulk_api import CSV_NULL
from connections.errors import RETRYABLE_CODES

if TYPE_CHECKING:
    from connections.client import SalesforceClient

BULK_OPERATIONS = {"create": "insert", "update": "update", "upsert": "upsert",
                   "delete": "delete"}
# Rounds of resending locked records, each in batches half the size of the last.
LOCK_ROUNDS = 3


def nested(record: dict[str, Any]) -> dict[str, Any]:
    """JSON for a record: an external-id lookup `Account.Ext__c` becomes `{"Account": {...}}`."""
    body: dict[str, Any] = {}
    for key, value in record.items():
        head, _, rest = key.partition(".")
        if rest:
            body.setdefault(head, {})[rest] = value
        else:
            body[key] = value
    return body


def failure(code: str, message: str) -> dict[str, Any]:
    return {"id": None, "success": False, "errors": [{"statusCode": code, "message": message,
                                                      "fields": []}]}


def error_code(result: dict[str, Any]) -> str:
    errors = result.get("errors") or []
    return str(errors[0].get("statusCode") or "") if errors else ""


def _cell(value: Any) -> str:
    """A value as its Bulk CSV cell reads back in the job's results."""
    if value is None:
        return CSV_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class BatchWriter:
    """Writes records of one object through the client it is handed, with the action's
    headers; `bulk_from`: the batch size from which Bulk API 2.0 is used (None: never)."""

    def __init__(self, client: SalesforceClient, sobject: str, headers: dict[str, str], *,
                 bulk_from: int | None, external_id_field: str | None = None) -> None:
        self.client = client
        self.sobject = sobject
        self.headers = headers
        self.bulk_from = bulk_from
        self.external_id_field = external_id_field
        self.jobs = 0

    def uses_bulk(self, count: int) -> bool:
        return self.bulk_from is not None and count >= self.bulk_from

    def write(self, operation: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One result per record, in order: `{"id", "success", "created", "errors"}`."""
        if not records:
            return []
        if self.uses_bulk(len(records)):
            return self._bulk(operation, records)
        return self._collections(operation, records)

    # -- sObject Collections ---------------------------------------------------------------

    def _collections(self, operation: str, records: list[dict[str, Any]]) -> list[dict]:
        bodies = [record["Id"] for record in records] if operation == "delete" else \
            [nested(record) for record in records]
        results = self._send(operation, bodies)
        return resend_locked(results, lambda part: self._send(operation, [bodies[i]
                                                                         for i in part]))

    def _send(self, operation: str, bodies: list[Any]) -> list[dict]:
        return self.client.collection(operation, self.sobject, bodies,
                                      external_id_field=self.external_id_field
                                      if operation == "upsert" else None,
                                      headers=self.headers)

    # -- Bulk API 2.0 ----------------------------------------------------------------------

    def _bulk(self, operation: str, records: list[dict[str, Any]]) -> list[dict]:
        """Jobs of every record, then new, smaller jobs of the rows found locked."""
        results = self._jobs(operation, records)
        return resend_locked(results, lambda part: self._jobs(operation, [records[i]
                                                                          for i in part]),
                             whole_first=True)

    def _jobs(self, operation: str, records: list[dict[str, Any]]) -> list[dict]:
        """One job per column set; each result matched back to its record."""
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, record in enumerate(records):
            columns = ("Id",) if operation == "delete" else tuple(sorted(record))
            groups.setdefault(columns, []).append(index)
        results: list[dict] = [failure("NO_RESULT", "the bulk job returned no result for "
                                       "this record") for _ in records]
        for columns, indexes in groups.items():
            rows = [{column: records[i][column] for column in columns} for i in indexes]
            self.jobs += 1
            answers = self.client.bulk_ingest(
                self.sobject, BULK_OPERATIONS[operation], rows,
                external_id_field=self.external_id_field if operation == "upsert" else None)
            waiting: dict[tuple, list[int]] = {}
            for index, row in zip(indexes, rows, strict=True):
                waiting.setdefault(self._key(operation, row), []).append(index)
            for answer in answers:
                slots = waiting.get(self._key(operation, answer.get("record") or {}))
                if slots:
                    results[slots.pop(0)] = answer
        return results

    def _key(self, operation: str, row: dict[str, Any]) -> tuple:
        """What identifies a row in a job's results (the results echo each row as cells)."""
        if operation in ("update", "delete"):
            return (_cell(row.get("Id"))[:15],)
        if operation == "upsert":
            return (_cell(row.get(self.external_id_field or "")).casefold(),)
        return tuple(sorted((column, _cell(value)) for column, value in row.items()))


def resend_locked(results: list[dict], send: Callable[[list[int]], list[dict]], *,
                  whole_first: bool = False) -> list[dict]:
    """Send the records whose result says locked again, `send(indexes)` a batch at a time.

    1. Each round takes the records still locked, in batches of half the last size (with
       `whole_first`, the first round sends them all in one batch: a bulk job costs calls).
    2. After `LOCK_ROUNDS` rounds, a record still locked keeps its failure, which says so.
    """
    size = len(results)
    for round_ in range(LOCK_ROUNDS):
        locked = [i for i, result in enumerate(results) if error_code(result)
                  in RETRYABLE_CODES]
        if not locked:
            return results
        size = min(size, len(locked))
        if not (whole_first and round_ == 0):
            size = max(1, size // 2)
        for start in range(0, len(locked), size):
            part = locked[start:start + size]
            for index, result in zip(part, send(part), strict=True):
                results[index] = result
    for result in results:
        if error_code(result) in RETRYABLE_CODES:
            error = result["errors"][0]
            error["message"] = (f"{error.get('message') or ''} (still locked after "
                                f"{LOCK_ROUNDS} resends in smaller batches)").strip()
    return results
