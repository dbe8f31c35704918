"""The error every emulator layer raises; the REST layer renders it as Salesforce's JSON array."""

from __future__ import annotations

from collections.abc import Sequence


class ApiError(Exception):
    """A Salesforce API error: HTTP status, errorCode, message and the fields it concerns."""

    def __init__(
        self, status: int, error_code: str, message: str, fields: Sequence[str] = ()
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields)

    def as_json(self) -> list[dict[str, object]]:
        """The REST body: always an array, even for a single error."""
        return [{"message": self.message, "errorCode": self.error_code, "fields": self.fields}]

    def as_collection_error(self) -> dict[str, object]:
        """sObject Collections report the same error with `statusCode` instead of `errorCode`."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields}


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def limit_exceeded() -> ApiError:
    return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
