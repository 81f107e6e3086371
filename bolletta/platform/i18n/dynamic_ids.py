"""Message ids that templates translate from a variable, listed here so extraction finds them.

``_(job.state)`` looks up a job state name and ``_(bill.service | capitalize)`` a service name.
Babel cannot see those ids in the templates, so each one appears below inside ``N_``, the marker
that ``babel.cfg`` registers as an extraction keyword.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction and return it unchanged."""
    return message


JOB_STATE_IDS = (
    N_("received"),
    N_("parsing"),
    N_("parsed"),
    N_("failed"),
    N_("test_sent"),
    N_("test_rejected"),
    N_("approved"),
    N_("dispatching"),
    N_("paused"),
    N_("dispatched"),
    N_("cancelled"),
)
"""Job state names, as stored in ``jobs.state``."""

SERVICE_IDS = (
    N_("Electricity"),
    N_("Gas"),
    N_("Water"),
)
"""Service names as templates show them: the stored service capitalized."""
