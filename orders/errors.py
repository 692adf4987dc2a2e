"""Why the orders app refuses a request: one `DomainError` per answer the API gives.

The API's exception handler turns each into the JSON error format with its status and code; the
admin shows `message`. Raise them with `details` (per request field) where the class says so.
"""

from config.domain_errors import VALIDATION_MESSAGE, DomainError


class OrderRejected(DomainError):
    """The order cannot be accepted as sent; `details` say why, per request field (400, like a
    serializer's validation error)."""

    status = 400
    code = "validation_error"
    message = VALIDATION_MESSAGE


class OutOfStock(OrderRejected):
    """Not enough stock for a line; `details` = `{"items": ...}`."""

    status = 409
    code = "out_of_stock"
    message = "Not enough stock for one or more items; see details."


class OrderNotCancellable(OrderRejected):
    """CJ may already have the order (forwarding, placed or later): staff cannot cancel it here."""

    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class OrderNotRetryable(OrderRejected):
    """Forwarding the order again cannot succeed (it is not failed, or a line's variant is no
    longer sold); `message` says why, for staff."""

    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class IdempotencyConflict(DomainError):
    """The Idempotency-Key cannot be honoured; see the two subclasses."""

    status = 409
    code = "conflict"


class IdempotencyKeyMismatch(IdempotencyConflict):
    status = 422
    code = "idempotency_key_mismatch"
    message = "This Idempotency-Key was already used with a different request body."


class IdempotencyKeyInFlight(IdempotencyConflict):
    status = 409
    code = "idempotency_key_in_flight"
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


class QuoteUnavailable(DomainError):
    """No shipping option for this destination and items; `details` name the field (400)."""

    status = 400
    code = "validation_error"
    message = VALIDATION_MESSAGE


class ShippingRefused(QuoteUnavailable):
    """CJ refuses to quote this destination (a permanent CJ error); `details` carry CJ's reason."""


class ShippingUnavailable(DomainError):
    """CJ did not answer the quote (transient, throttled, auth); the buyer may try again."""

    status = 503
    code = "service_unavailable"
    message = "Shipping quotes are unavailable right now; try again shortly."
