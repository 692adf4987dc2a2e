"""Field validators for CRM input."""

import re

from django.core.exceptions import ValidationError

PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")
PHONE_MIN_DIGITS = 6
PHONE_MAX_DIGITS = 15  # E.164


def phone_validate(value: str) -> None:
    """A phone number: optional leading +, digits and the usual separators, 6 to 15 digits."""
    digits = sum(character.isdigit() for character in value)
    if not PHONE_ALLOWED.match(value) or not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        raise ValidationError(
            "Enter a valid phone number: digits, spaces, + ( ) . - only, with 6 to 15 digits.",
            code="invalid_phone",
        )
