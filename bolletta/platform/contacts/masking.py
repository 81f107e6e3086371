"""Masking of the contacts that rejection reasons quote, for reports e-mailed or downloaded in bulk.

The contacts readers quote the rejected value with ``repr`` in the ``number`` parameter of a
"phone number {number}" message and the ``address`` parameter of an "e-mail address {address}"
message. Other messages use ``number`` for document numbers, which stay as they are.
"""

from __future__ import annotations

from bolletta.platform.i18n.message import Text
from bolletta.platform.privacy import mask_contact

_CONTACT_PARAMS = {"number": "phone number {number}", "address": "e-mail address {address}"}
"""Parameter name, and the msgid fragment that shows the parameter is a contact."""


def masked_reason(reason: Text) -> tuple[Text, str]:
    """Return ``reason`` with any quoted contact masked, and that masked contact (empty if none)."""
    masked_params = dict(reason.params)
    value = ""
    for name, fragment in _CONTACT_PARAMS.items():
        raw = reason.params.get(name)
        if fragment in reason.msgid and isinstance(raw, str):
            value = mask_contact(_unquoted(raw))
            masked_params[name] = repr(value)
    return Text(reason.msgid, masked_params), value


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
