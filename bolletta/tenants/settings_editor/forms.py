"""Turning a section's form into settings values and back.

Every input is a string (or absent, for an unticked checkbox). :func:`read_form` returns the value
of each field in the shape ``TenantConfig`` stores, or a problem for a field it cannot read, such
as letters where a number goes, so the page shows it next to that field.
"""

from __future__ import annotations

from typing import Any

from bolletta.platform.i18n.message import T_, Text
from bolletta.tenants.settings_editor.fields import Field, Section


def value_at(plain: dict[str, Any], path: str) -> Any:
    """Return the value at dotted ``path`` in encoded settings, or ``None`` when a part is missing."""
    value: Any = plain
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def set_at(plain: dict[str, Any], path: str, value: Any) -> None:
    """Set dotted ``path`` in encoded settings to ``value``.

    An empty content block or shared account choice is removed, so an unchanged form changes nothing.
    """
    *parents, leaf = path.split(".")
    target = plain
    for parent in parents:
        child = target.get(parent)
        target[parent] = child = dict(child) if isinstance(child, dict) else {}
        target = child
    if parents in (["portal", "blocks"], ["channel_accounts"]) and not value:
        target.pop(leaf, None)
        return
    target[leaf] = value


def drop_unused_templates(plain: dict[str, Any]) -> None:
    """Remove from encoded settings each WhatsApp template whose form was left empty.

    The section shows every page language, so a language without a template submits empty inputs.
    A category of ``UTILITY``, the default, alone does not make a template.
    """
    templates = plain.get("whatsapp_templates") or {}
    plain["whatsapp_templates"] = {
        language: template for language, template in templates.items()
        if any(template.get(name) for name in ("name", "language_code", "body_parameters", "url_button"))
        or template.get("category") not in (None, "", "UTILITY")
    }


def shown_value(item: Field, value: Any) -> str:
    """Return a stored value as the text its input shows."""
    if value is None or item.kind in ("secret", "secret_text"):
        return ""
    if item.kind == "checkbox":
        return "1" if value else ""
    if item.kind == "recipients":
        return "\n".join(f"{entry['channel']} {entry['address']}" for entry in value)
    if item.kind == "pairs":
        return "\n".join(f"{key} = {entry}" for key, entry in value.items())
    if item.kind == "rules":
        return "\n".join(f"{keyword} = {category}" for keyword, category in value)
    if item.kind == "glossary":
        return "\n".join(f"{language}: {source} = {target}" for language, words in value.items()
                         for source, target in words.items())
    if item.kind == "links":
        return "\n".join(f"{section} | {label} | {url}" for section, links in value.items() for label, url in links)
    if isinstance(value, list):
        return "\n".join(str(entry) for entry in value)
    return str(value)


def form_values(section: Section, plain: dict[str, Any]) -> dict[str, str]:
    """Return the text of every input of ``section`` from encoded settings."""
    return {item.path: shown_value(item, value_at(plain, item.path)) for item in section.fields}


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _numbered_lines(raw: str) -> list[tuple[int, str]]:
    """Return the non-blank lines with their line numbers, blank lines counted as the textarea shows them."""
    return [(number, line.strip()) for number, line in enumerate(raw.splitlines(), start=1) if line.strip()]


def _bad_line(number: int, line: str) -> Text:
    # ``line`` tells read_form to key the problem by the line, so the page shows "Line N:" before it.
    return T_("The line {value} is not in the form shown in the label.", value=line[:80], line=number)


def _split_pair(line: str, separator: str) -> tuple[str, str] | None:
    key, found, value = line.partition(separator)
    if not found or not key.strip() or not value.strip():
        return None
    return key.strip(), value.strip()


def _read_number(item: Field, raw: str) -> int | Text:
    text = raw.strip()
    low = item.minimum if item.minimum is not None else 0
    high = item.maximum if item.maximum is not None else "∞"
    try:
        number = int(text)
    except ValueError:
        return T_("{value} is not a whole number; enter one from {low} to {high}.", value=text[:40], low=low,
                  high=str(high))
    if number < low or (item.maximum is not None and number > item.maximum):
        return T_("{value} is outside the allowed range, {low} to {high}.", value=number, low=low, high=str(high))
    return number


def _read_decimal(item: Field, raw: str) -> float | Text:
    text = raw.strip().replace(",", ".")
    low = item.minimum if item.minimum is not None else 0
    high = item.maximum if item.maximum is not None else "∞"
    try:
        number = float(text)
    except ValueError:
        return T_("{value} is not a number; enter one from {low} to {high}, such as 12,5.", value=text[:40], low=low,
                  high=str(high))
    if not low <= number <= (item.maximum if item.maximum is not None else float("inf")):
        return T_("{value} is outside the allowed range, {low} to {high}.", value=text[:40], low=low, high=str(high))
    return number


def _read_pairs(raw: str, separator: str) -> list[tuple[str, str]] | Text:
    pairs = []
    for number, line in _numbered_lines(raw):
        pair = _split_pair(line, separator)
        if pair is None:
            return _bad_line(number, line)
        pairs.append(pair)
    return pairs


def _read_glossary(raw: str) -> dict[str, dict[str, str]] | Text:
    glossary: dict[str, dict[str, str]] = {}
    for number, line in _numbered_lines(raw):
        language, _, rest = line.partition(":")
        pair = _split_pair(rest, "=")
        if pair is None or not language.strip():
            return _bad_line(number, line)
        glossary.setdefault(language.strip(), {})[pair[0]] = pair[1]
    return glossary


def _read_links(raw: str) -> dict[str, list[list[str]]] | Text:
    links: dict[str, list[list[str]]] = {}
    for number, line in _numbered_lines(raw):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3 or not all(parts):
            return _bad_line(number, line)
        links.setdefault(parts[0], []).append([parts[1], parts[2]])
    return links


def _read_recipients(raw: str) -> list[dict[str, str]] | Text:
    recipients = []
    for number, line in _numbered_lines(raw):
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            return _bad_line(number, line)
        recipients.append({"channel": parts[0], "address": parts[1]})
    return recipients


def read_value(item: Field, raw: str | None) -> Any:
    """Return the stored form of one input's text, or a :class:`Text` saying why it cannot be read."""
    text = raw or ""
    if item.kind == "checkbox":
        return bool(text)
    if item.kind == "number":
        return _read_number(item, text)
    if item.kind == "decimal":
        return _read_decimal(item, text)
    if item.kind == "lines":
        return _lines(text)
    if item.kind == "recipients":
        return _read_recipients(text)
    if item.kind == "pairs":
        pairs = _read_pairs(text, "=")
        return pairs if isinstance(pairs, Text) else dict(pairs)
    if item.kind == "rules":
        rules = _read_pairs(text, "=")
        return rules if isinstance(rules, Text) else [list(rule) for rule in rules]
    if item.kind == "glossary":
        return _read_glossary(text)
    if item.kind == "links":
        return _read_links(text)
    if item.kind in ("textarea", "secret_text"):
        return text.strip("\r\n")
    return text.strip()


def read_form(fields: list[Field], data: dict[str, str]) -> tuple[dict[str, Any], dict[str, Text]]:
    """Read ``fields`` from a submitted form as (values by path, problems by path).

    The problem of one bad line is keyed by the path and the line number (``portal.voices.4``).
    An empty secret input is left out of the values, so the stored secret is kept. An ``image``
    field is never read from a form: only its upload form sets it.
    """
    values: dict[str, Any] = {}
    problems: dict[str, Text] = {}
    for item in fields:
        if item.kind == "image" or (item.kind in ("secret", "secret_text") and not data.get(item.path)):
            continue
        value = read_value(item, data.get(item.path))
        if isinstance(value, Text):
            line = value.params.get("line")
            problems[f"{item.path}.{line}" if isinstance(line, int) else item.path] = value
        else:
            values[item.path] = value
    return values, problems
