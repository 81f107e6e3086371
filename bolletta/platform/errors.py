"""Errors of the platform core.

- ``BollettaError``: base of every error raised on purpose by the platform.
  - ``ConfigurationError``: a setting is missing or invalid.
  - ``NotFound``: a record does not exist in the current tenant.
  - ``InvalidTransition``: a job or payment state change is not allowed from its current state.
  - ``PermissionDenied``: the user's role does not allow the action.
  - ``EmptyTestBatch``: an approval of a test batch that reached nobody.
  - ``ReasonRequired``: an action that must say why was sent without a reason.
"""

from __future__ import annotations


class BollettaError(Exception):
    """Base of the platform's own errors; ``str(error)`` is safe to show to staff."""


class ConfigurationError(BollettaError):
    """Raised when a setting is missing or invalid; the message names the variable and the fix."""


class NotFound(BollettaError):
    """Raised when a record does not exist in the current tenant."""


class InvalidTransition(BollettaError):
    """Raised when a state change is not allowed from the record's current state."""


class PermissionDenied(BollettaError):
    """Raised when the user's role does not allow the action."""


class EmptyTestBatch(BollettaError):
    """Raised when staff approve a test batch that reached no test recipient."""


class ReasonRequired(BollettaError):
    """Raised when staff reject a test batch with a blank reason."""
