"""NGSI-LD errors (ETSI GS CIM 009, clause 5.5.2) rendered as RFC 7807 ProblemDetails."""

from __future__ import annotations

from typing import Any

import orjson

ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiError(Exception):
    """Base class: ``status`` and ``title`` per error type, ``detail`` per occurrence."""

    name = "InternalError"
    status = 500
    title = "Internal error"

    def __init__(self, detail: str = "", *, status: int | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if status is not None:
            self.status = status

    @property
    def type(self) -> str:
        return ERROR_BASE + self.name

    def problem(self) -> dict[str, Any]:
        detail = self.detail
        if detail == self.title:
            detail = detail + "."
        return {"type": self.type, "title": self.title, "status": self.status, "detail": detail}

    def body(self) -> bytes:
        return orjson.dumps(self.problem())


class InvalidRequest(NgsiError):
    name, status, title = "InvalidRequest", 400, "Invalid request"


class BadRequestData(NgsiError):
    name, status, title = "BadRequestData", 400, "Bad request data"


class AlreadyExists(NgsiError):
    name, status, title = "AlreadyExists", 409, "Already exists"


class OperationNotSupported(NgsiError):
    name, status, title = "OperationNotSupported", 422, "Operation not supported"


class ResourceNotFound(NgsiError):
    name, status, title = "ResourceNotFound", 404, "Resource not found"


class InternalError(NgsiError):
    name, status, title = "InternalError", 500, "Internal error"


class TooComplexQuery(NgsiError):
    name, status, title = "TooComplexQuery", 403, "Too complex query"


class TooManyResults(NgsiError):
    name, status, title = "TooManyResults", 403, "Too many results"


class LdContextNotAvailable(NgsiError):
    name, status, title = "LdContextNotAvailable", 503, "@context not available"


class NoMultiTenantSupport(NgsiError):
    name, status, title = "NoMultiTenantSupport", 501, "No multi-tenant support"


class NonexistentTenant(NgsiError):
    name, status, title = "NonexistentTenant", 404, "Nonexistent tenant"


class Conflict(NgsiError):
    """409 for a conflicting request that is not about existence (e.g. deleting a hosted context)."""

    name, status, title = "Conflict", 409, "Conflict"


class ServiceUnavailable(NgsiError):
    """503: the broker cannot serve the request now (every database connection of this worker is
    busy, or the database is unreachable); the client should retry. No NGSI-LD type fits, so it
    carries InternalError."""

    name, status, title = "InternalError", 503, "Service unavailable"


class TransientConflict(ServiceUnavailable):
    """A write lost a race with concurrent writes (deadlock, serialization failure) and was
    rolled back completely; running it again will succeed."""


class UnsupportedMediaType(NgsiError):
    """HTTP 415; ETSI has no dedicated type, Orion-LD and the test suite use InvalidRequest."""

    name, status, title = "InvalidRequest", 415, "Unsupported media type"


class NotAcceptable(NgsiError):
    """HTTP 406; rendered with the InvalidRequest type (no dedicated NGSI-LD type)."""

    name, status, title = "InvalidRequest", 406, "Not acceptable"


class PayloadTooLarge(NgsiError):
    name, status, title = "InvalidRequest", 413, "Payload too large"


class MethodNotAllowed(NgsiError):
    name, status, title = "InvalidRequest", 405, "Method not allowed"

    def __init__(self, detail: str = "", *, allow: bytes = b""):
        super().__init__(detail)
        self.allow = allow  # the Allow header: the methods the route has


class Unauthorized(NgsiError):
    """HTTP 401: no or no valid credentials. NGSI-LD defines no error type for access control, so
    these use the RFC 9457 ``about:blank`` type (the HTTP status says it all)."""

    name, status, title = "Unauthorized", 401, "Unauthorized"

    @property
    def type(self) -> str:
        return "about:blank"


class Forbidden(NgsiError):
    """HTTP 403: valid credentials without the right (scope, tenant or entity type)."""

    name, status, title = "Forbidden", 403, "Forbidden"

    @property
    def type(self) -> str:
        return "about:blank"


class NotImplementedYet(NgsiError):
    name, status, title = "OperationNotSupported", 501, "Not implemented"


BY_NAME = {
    c.name: c
    for c in (
        InvalidRequest,
        BadRequestData,
        AlreadyExists,
        OperationNotSupported,
        ResourceNotFound,
        InternalError,
        TooComplexQuery,
        TooManyResults,
        LdContextNotAvailable,
        NoMultiTenantSupport,
        NonexistentTenant,
    )
}
