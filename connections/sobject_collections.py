"""sObject Collections: up to 200 records a call, one result per record.

`SObjectCollections` is handed the client's choke point (budget, refresh, retries), its retry
count and its pause. Records Salesforce reports locked (UNABLE_TO_LOCK_ROW) were not written,
so they alone are sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connections import transport
from connections.errors import RETRYABLE_CODES, SalesforceError, check_write_target

if TYPE_CHECKING:
    from connections.transport import Call

COLLECTION_SIZE = 200
COLLECTION_METHODS = {"create": "POST", "update": "PATCH", "upsert": "PATCH", "delete": "DELETE"}


class SObjectCollections:
    """sObject Collections writes, made through the calls it is handed (the client owns one).

    `max_retries()`: how many times locked records are sent again. `pause(seconds)`: the
    client's sleep, which keeps the caller's heartbeat going.
    """

    def __init__(self, call: Call, max_retries: Callable[[], int],
                 pause: Callable[[float], None]) -> None:
        self.call = call
        self.max_retries = max_retries
        self.pause = pause

    def write(self, method: str, sobject: str, records: list[dict], *,
              all_or_none: bool = False, external_id_field: str | None = None,
              headers: dict[str, str] | None = None) -> list[dict]:
        """sObject Collections create/update/upsert/delete: per-record results, in order.

        Lists over 200 records are sent 200 at a time; records that failed with
        UNABLE_TO_LOCK_ROW are sent again (with backoff) and the others keep their result.
        """
        name = check_write_target(method, COLLECTION_METHODS, sobject, external_id_field)
        results: list[dict] = []
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = records[start:start + COLLECTION_SIZE]
            results.extend(self._chunk(method, name, chunk, all_or_none, external_id_field,
                                       headers or {}))
        return results

    def _chunk(self, method: str, name: str, chunk: list[dict], all_or_none: bool,
               external_id_field: str | None, headers: dict[str, str]) -> list[dict]:
        results: list[dict] = [{} for _ in chunk]
        pending = list(range(len(chunk)))
        attempt = 0
        while True:
            batch = [chunk[i] for i in pending]
            answer = self._send(method, name, batch, all_or_none, external_id_field, headers)
            if not isinstance(answer, list) or len(answer) != len(batch):
                raise SalesforceError(f"sObject Collections returned {len(answer or [])} results "
                                      f"for {len(batch)} records")
            locked = []
            for index, result in zip(pending, answer, strict=True):
                results[index] = transport.plain(result)
                if _lock_error(result):
                    locked.append(index)
            attempt += 1
            # Records Salesforce reported as locked were certainly not written: safe to resend.
            if not locked or attempt > self.max_retries():
                return results
            # With allOrNone the whole batch was rolled back, so all of it goes again.
            pending = pending if all_or_none else locked
            self.pause(transport.backoff_delay(attempt))

    def _send(self, method: str, name: str, batch: list[dict], all_or_none: bool,
              external_id_field: str | None, headers: dict[str, str]) -> Any:
        http = COLLECTION_METHODS[method]
        if method == "delete":
            ids = ",".join(_record_id(record) for record in batch)
            params = {"ids": ids, "allOrNone": str(all_or_none).lower()}
            return self.call(lambda sf: sf.restful("composite/sobjects", method=http,
                                                   params=params, headers=headers))
        body = {"allOrNone": all_or_none, "records": [
            {**{k: v for k, v in record.items() if k != "attributes"}, "attributes": {"type": name}}
            for record in batch]}
        path = "composite/sobjects"
        if method == "upsert":
            path = f"composite/sobjects/{name}/{external_id_field}"
        # A create that timed out may have happened: never resend it blindly.
        return self.call(lambda sf: sf.restful(path, method=http, json=body, headers=headers),
                         idempotent=method != "create")


def _lock_error(result: dict) -> bool:
    return not result.get("success") and any(
        e.get("statusCode") in RETRYABLE_CODES for e in result.get("errors") or [])


def _record_id(record: Any) -> str:
    value = record if isinstance(record, str) else (record.get("Id") or record.get("id"))
    if not value:
        raise ValueError("a record to delete needs an Id")
    return str(value)
