"""Message ids that templates translate from a variable, listed here so extraction finds them.

``_(bill.service | capitalize)`` looks up a service name and ``pgettext("message status", status)``
a message's delivery status. Job states have labels of their own (see ``job_states``).
Babel cannot see those ids in the templates, so each one appears below inside ``N_``, the marker
that ``babel.cfg`` registers as an extraction keyword.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction and return it unchanged."""
    return message


def NC_(context: str, message: str) -> str:
    """Mark ``message`` for extraction with a gettext context and return it unchanged."""
    return message


SERVICE_IDS = (
    N_("Electricity"),
    N_("Gas"),
    N_("Water"),
)
"""Service names as templates show them: the stored service capitalized."""

MESSAGE_STATUS_CONTEXT = "message status"

MESSAGE_STATUS_IDS = (
    NC_("message status", "created"),
    NC_("message status", "rejected"),
    NC_("message status", "sent"),
    NC_("message status", "delivered"),
    NC_("message status", "failed"),
    NC_("message status", "timeout"),
    NC_("message status", "uncertain"),
)
"""Delivery statuses of a message, as stored in ``messages.status``."""


EXPORT_STATE_IDS = (
    NC_("export state", "queued"),
    NC_("export state", "running"),
    NC_("export state", "ready"),
    NC_("export state", "failed"),
)
"""States of a background export, shown by ``pgettext("export state", state)``."""

PAYMENT_STATUS_CONTEXT = "payment status"

PAYMENT_STATUS_IDS = (
    NC_("payment status", "created"),
    NC_("payment status", "pending"),
    NC_("payment status", "completed"),
    NC_("payment status", "failed"),
    NC_("payment status", "cancelled"),
    NC_("payment status", "refunded"),
)
"""Statuses of an online payment, shown by ``pgettext("payment status", status)``."""

WEBHOOK_DELIVERY_STATUS_IDS = (
    NC_("webhook delivery status", "pending"),
    NC_("webhook delivery status", "delivered"),
    NC_("webhook delivery status", "failed"),
)
"""Statuses of an outgoing webhook delivery, shown by ``pgettext("webhook delivery status", status)``."""


GATEWAY_NAME_IDS = (
    NC_("gateway name", "Sandbox (simulated payments)"),
)
"""Payment gateway names that need a translation, shown by ``pgettext("gateway name", name)``.

A gateway plugin's ``name`` is English; brand names such as PayPal are shown as they are.
"""
