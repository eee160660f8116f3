"""Errors with an HTTP meaning, raised by domain code and rendered by the base handler.

Domain services raise these without knowing about HTTP requests; ``APIHandler.write_error``
turns each into the error body documented in docs/http.md: ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str | None = None,
        details: list | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message or self.default_message())
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.message = message or self.default_message()
        self.details = details or []
        self.headers = headers or {}

    def default_message(self) -> str:
        return self.code.replace("_", " ")

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationError(ApiError):
    """422 with one ``{"field", "message"}`` detail per invalid field."""

    status, code = 422, "validation_error"

    def __init__(self, details: list[dict], message: str = "the request is not valid"):
        super().__init__(message, details)

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([{"field": field, "message": message}])


class NotFoundError(ApiError):
    status, code = 404, "not_found"


class ConflictError(ApiError):
    status, code = 409, "conflict"


class InvalidJSONError(ApiError):
    status, code = 400, "invalid_json"


class UnauthorizedError(ApiError):
    status, code = 401, "unauthorized"


class PayloadTooLargeError(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaTypeError(ApiError):
    status, code = 415, "unsupported_media_type"


class RateLimitedError(ApiError):
    status, code = 429, "rate_limited"


class ServiceUnavailableError(ApiError):
    status, code = 503, "service_unavailable"


# Codes for plain HTTP statuses raised by Tornado itself (unknown route, wrong method, ...).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}
