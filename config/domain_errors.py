"""The one base of the errors a use case raises when it refuses a request.

A service raises a `DomainError` subclass; the API's exception handler (`config.api_errors`)
turns every one into the JSON error format with the subclass's HTTP status, so views hold no
`try` ladders. The admin and the management commands show `message`.
"""

from typing import Any

# The message of every validation error, whether DRF's serializers or a service found it.
VALIDATION_MESSAGE = "The request has invalid fields; see details."


class DomainError(Exception):
    """A refused use case: `code` (machine-readable), `message` (a human sentence), `details`
    (per field, as in validation errors) and `status` (the HTTP status the API answers with)."""

    status: int = 400
    code: str = "invalid"
    message: str = "The request cannot be carried out."

    def __init__(
        self, message: str | None = None, *, details: dict[str, Any] | None = None, code: str | None = None
    ) -> None:
        self.message = message or type(self).message
        self.details = details or {}
        if code is not None:
            self.code = code
        super().__init__(self.message)
