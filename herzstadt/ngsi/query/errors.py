"""The one exception the query package raises for bad input."""

from __future__ import annotations


class QuerySyntaxError(ValueError):
    """A query parameter (``q``, ``type``, ``scopeQ``, ``georel``, ...) is malformed or invalid.

    ``param`` names the parameter, ``position`` is the 0-based character offset of the problem
    (``None`` when the problem is not at one place) and ``detail`` the bare explanation. ``str(exc)``
    is the full human message; the HTTP layer maps it to a 400 BadRequestData / InvalidRequest.
    """

    def __init__(self, param: str, detail: str, position: int | None = None):
        self.param = param
        self.detail = detail
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"Invalid {param}{where}: {detail}")

    @property
    def message(self) -> str:
        return str(self)
