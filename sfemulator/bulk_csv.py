"""CSV as Bulk API 2.0 speaks it: job dialects, upload parsing, result and query files.

Uploads follow Salesforce's cell rules: an empty cell leaves the field alone, `#N/A` sets
it to null. Output cells are always quoted, as Salesforce writes them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

DELIMITERS = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL_MARKER = "#N/A"


class BatchError(Exception):
    """The upload as a whole is unusable; the job fails with this message."""


@dataclass(frozen=True)
class Dialect:
    """A job's `columnDelimiter` and `lineEnding`."""

    column_delimiter: str = "COMMA"
    line_ending: str = "LF"

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.column_delimiter]

    @property
    def terminator(self) -> str:
        return LINE_ENDINGS[self.line_ending]

    def writer(self, buffer: io.StringIO) -> Any:
        return csv.writer(
            buffer, delimiter=self.delimiter, lineterminator=self.terminator, quoting=csv.QUOTE_ALL
        )


@dataclass
class Upload:
    """A parsed upload: the header as sent and the rows as lists of raw cells."""

    header: list[str]
    rows: list[list[str]]


def parse_upload(data: bytes, dialect: Dialect) -> Upload:
    """Parse uploaded CSV bytes, failing like Salesforce does on unusable files.

    1. Decode UTF-8 (a byte-order mark is allowed) and check the line ending matches the job's.
    2. Read the header and rows strictly; every row must have the header's width.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BatchError(f"ClientInputError : Invalid UTF-8 in upload: {error.reason}") from None
    _check_line_ending(text, dialect)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header or header == [""]:
            raise BatchError("InvalidBatch : The CSV file has no header row")
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise BatchError(
                    f"InvalidBatch : Wrong number of columns in row {reader.line_num}: "
                    f"expected {len(header)}, found {len(row)}"
                )
            rows.append(row)
    except csv.Error as error:
        raise BatchError(
            f"InvalidBatch : Failed to parse CSV at line {reader.line_num}: {error}"
        ) from None
    return Upload(header, rows)


def _check_line_ending(text: str, dialect: Dialect) -> None:
    """Salesforce rejects a file whose header line does not end as the job declared."""
    first_newline = text.find("\n")
    if first_newline < 0:
        return
    crlf = first_newline > 0 and text[first_newline - 1] == "\r"
    if crlf != (dialect.line_ending == "CRLF"):
        raise BatchError(
            "ClientInputError : LineEnding is invalid on user data. "
            f"Current LineEnding setting is {dialect.line_ending}"
        )


def cell_value(cell: str) -> tuple[bool, str | None]:
    """(present, value): empty cells are absent, `#N/A` is an explicit null."""
    if cell == "":
        return False, None
    if cell == NULL_MARKER:
        return True, None
    return True, cell


def format_error(error_code: str, message: str, fields: Sequence[str]) -> str:
    """`sf__Error` text: `CODE:message:Field1,Field2 --`."""
    names = ",".join(fields)
    return f"{error_code}:{message}:{names} --" if names else f"{error_code}:{message}:--"


def write_rows(dialect: Dialect, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file with a header row, every cell quoted."""
    buffer = io.StringIO()
    writer = dialect.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def csv_cell(value: Any) -> str:
    """How Salesforce writes a value into a query result cell."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def csv_datetime(value: Any) -> Any:
    """Bulk query files write datetimes with `Z` where REST writes `+0000`."""
    if isinstance(value, str) and value.endswith("+0000"):
        return value[:-5] + "Z"
    return value


def flatten(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (column, value) for a projected JSON record, parents as `Account.Name` columns."""
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
