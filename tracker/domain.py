"""The error every service raises when a business rule refuses a change."""

from __future__ import annotations


class DomainError(ValueError):
    """A change that breaks a rule; ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
