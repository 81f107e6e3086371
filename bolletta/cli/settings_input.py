"""Error messages of ``bolletta tenant settings set`` for a JSON file that does not fit the settings."""

from __future__ import annotations

import re

import msgspec

from bolletta.tenants.config import TenantConfig

_PATH = re.compile(r" - at `(\$[^`]*)`$")
_PATH_PART = re.compile(r"\.(\w+)|\[(\d+|\.\.\.)\]")
"""A field name, a list index, or ``[...]``, which msgspec writes for the value of a mapping."""


def _struct_at(path: str) -> msgspec.inspect.StructType | None:
    """Return the settings struct found at a msgspec error path such as ``$.test_recipients[0]``, or ``None``."""
    info: msgspec.inspect.Type = msgspec.inspect.type_info(TenantConfig)
    for name, index in _PATH_PART.findall(path.removeprefix("$")):
        info = _without_none(info)
        if name and isinstance(info, msgspec.inspect.StructType):
            info = next((field.type for field in info.fields if field.encode_name == name), None)  # type: ignore[assignment]
        elif index == "..." and isinstance(info, msgspec.inspect.DictType):
            info = info.value_type
        elif index.isdigit() and isinstance(info, msgspec.inspect.ListType):
            info = info.item_type
        else:
            return None
        if info is None:
            return None
    info = _without_none(info)
    return info if isinstance(info, msgspec.inspect.StructType) else None


def _without_none(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """Return the struct of an optional one such as ``sftp_poll``; any other type unchanged."""
    if isinstance(info, msgspec.inspect.UnionType):
        return next((member for member in info.types if not isinstance(member, msgspec.inspect.NoneType)), info)
    return info


def validation_message(error: msgspec.ValidationError) -> str:
    """Return the CLI error for a file whose values do not fit :class:`TenantConfig`.

    When the value at fault should be an object, the message lists the fields that object takes,
    required ones first, so the error for a wrong shape shows the right one.
    """
    text = str(error)
    match = _PATH.search(text)
    struct = _struct_at(match.group(1)) if match else None
    hint = ""
    if struct is not None and text.startswith("Expected `object"):
        required = [field.encode_name for field in struct.fields if field.required]
        optional = [field.encode_name for field in struct.fields if not field.required]
        hint = f" It must be an object with the fields {', '.join(required + optional)}"
        hint += f" ({', '.join(required)} required)." if required and optional else "."
    return f"Invalid tenant setting: {text}.{hint} Fix the file and run the command again."
