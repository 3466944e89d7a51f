"""Nova's API errors: an exception carrying the HTTP code and Nova's message."""

from __future__ import annotations

# Nova's fault body keys per status code (nova/api/openstack/wsgi.py's _FAULT_NAMES).
FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
               405: "badMethod", 406: "notAcceptable", 409: "conflictingRequest",
               413: "overLimit", 415: "badMediaType", 429: "overLimit", 501: "notImplemented",
               503: "serviceUnavailable"}


class NovaError(Exception):
    """An API error: rendered as ``{"<faultName>": {"code": N, "message": ...}}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, dict[str, object]]:
        """Nova's JSON error body."""
        name = FAULT_NAMES.get(self.code, "computeFault")
        return {name: {"code": self.code, "message": self.message}}


def invalid_state(action: str, server_id: str, attr: str, state: str | None) -> NovaError:
    """409 InstanceInvalidState, worded as Nova words it."""
    return NovaError(409, f"Cannot '{action}' instance {server_id} while it is in "
                          f"{attr} {state}")


def not_found(server_id: str) -> NovaError:
    """404 InstanceNotFound."""
    return NovaError(404, f"Instance {server_id} could not be found.")
