"""`query/` and `queryAll/`: run SOQL through `soql.run_query`, page results behind locators.

Pages are projected from the records as they are when the page is fetched (a record purged
meanwhile is skipped). To keep `query_all_iter` fast, the next page is rendered on a
background thread while the client parses the current one, and used only if no record (and
not the clock) changed in between.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import partial
from typing import TYPE_CHECKING

from . import soql
from .cursors import Cursor, Prefetch
from .errors import ApiError
from .wire import Response

if TYPE_CHECKING:
    from .rest import Call
    from .store import Org

log = logging.getLogger(__name__)

DEFAULT_BATCH = 2000
MIN_BATCH, MAX_BATCH = 200, 2000
_BATCH_OPTION = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}


def handle(call: Call) -> Response:
    if len(call.segments) == 2:
        return _more(call, call.segments[1])
    text = call.request.query.get("q")
    if not text:
        raise ApiError(400, "MALFORMED_QUERY",
                       "A query string must be provided in the q parameter")
    include_deleted = call.segments[0] == "queryAll"
    try:
        result = soql.run_query(text, call.org, include_deleted=include_deleted)
    except soql.SoqlError as error:
        raise ApiError(400, error.error_code, error.message) from None
    if result.count_only:
        body = {"totalSize": result.total_size, "done": True, "records": []}
        return Response(200, json.dumps(body).encode(), dict(_JSON_HEADERS))
    cursor = Cursor(result, call.version, _batch_size(call))
    return _page(call.org, cursor, None, 0, call.version)


def _batch_size(call: Call) -> int:
    option = _BATCH_OPTION.search(call.request.headers.get("sforce-query-options", ""))
    if option is None:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, int(option.group(1))))


def _more(call: Call, reference: str) -> Response:
    locator, _, offset_text = reference.rpartition("-")
    cursor = call.org.cursors.get(locator) if offset_text.isdigit() else None
    if cursor is None or int(offset_text) > len(cursor.result.ids):
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(call.org, cursor, locator, int(offset_text), call.version)


def _page(org: Org, cursor: Cursor, locator: str | None, offset: int,
          version: str) -> Response:
    ids = cursor.result.ids
    if locator is None and offset + cursor.batch_size < len(ids):
        locator = org.cursors.open(cursor)
    body = _prefetched(org, cursor, offset, version)
    if body is None:
        body = _render(org, cursor, locator, offset, version)
    end = offset + cursor.batch_size
    if locator is not None and end < len(ids):
        _prefetch(org, cursor, locator, end, version)
    return Response(200, body, dict(_JSON_HEADERS))


def _prefetched(org: Org, cursor: Cursor, offset: int, version: str) -> bytes | None:
    pending = cursor.prefetch
    if pending is None or pending.offset != offset or pending.api_version != version:
        return None
    pending.ready.wait()
    cursor.prefetch = None
    return pending.body if pending.data_version == org.data_version() else None


def _prefetch(org: Org, cursor: Cursor, locator: str, offset: int, version: str) -> None:
    pending = Prefetch(offset, version, org.data_version())
    cursor.prefetch = pending

    def work() -> None:
        try:
            pending.body = _render(org, cursor, locator, offset, version)
        except Exception:
            # The foreground request renders the page itself; log why prefetching failed.
            log.exception("prefetching query page at offset %d failed", offset)
        finally:
            pending.ready.set()

    threading.Thread(target=work, name="sfemulator-prefetch", daemon=True).start()


def _render(org: Org, cursor: Cursor, locator: str | None, offset: int, version: str) -> bytes:
    result = cursor.result
    chunk = result.ids[offset : offset + cursor.batch_size]
    get_record = partial(org.get_record, compound=result.selects_compound)
    project = result.project
    records = []
    for record_id in chunk:
        record = get_record(record_id)
        if record is not None:
            records.append(project(record, version))
    end = offset + len(chunk)
    done = end >= len(result.ids)
    body: dict[str, object] = {"totalSize": result.total_size, "done": done}
    if not done:
        body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    body["records"] = records
    # One dumps per page; compact separators keep big pages small on the wire.
    return json.dumps(body, separators=(",", ":")).encode("utf-8")
