"""Labels of the job states, as staff pages, exports and e-mails show them.

A job state is stored as a code (``test_sent``). The English catalog repeats each msgid, so a code
used as a msgid would show as the code on English pages. Each code therefore has an English label
as its msgid, in the gettext context ``job state``, translated like any other message.
"""

from __future__ import annotations

from bolletta.platform.i18n.catalog import pgettext
from bolletta.platform.i18n.dynamic_ids import NC_

JOB_STATE_CONTEXT = "job state"

JOB_STATE_LABELS = {
    "received": NC_("job state", "received"),
    "parsing": NC_("job state", "parsing"),
    "parsed": NC_("job state", "parsed"),
    "failed": NC_("job state", "failed"),
    "test_sent": NC_("job state", "test sent"),
    "test_rejected": NC_("job state", "test rejected"),
    "approved": NC_("job state", "approved"),
    "dispatching": NC_("job state", "dispatching"),
    "paused": NC_("job state", "paused"),
    "dispatched": NC_("job state", "dispatched"),
    "cancelled": NC_("job state", "cancelled"),
}
"""The English label of each job state code stored in ``jobs.state``."""


def job_state_label(state: str, language: str) -> str:
    """Return the label of job state ``state`` in ``language``; an unknown code is returned as it is."""
    label = JOB_STATE_LABELS.get(state)
    return pgettext(language, JOB_STATE_CONTEXT, label) if label is not None else state
