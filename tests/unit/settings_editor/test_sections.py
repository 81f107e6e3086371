"""The settings sections cover every setting, and their forms read back what they show."""

from __future__ import annotations

import msgspec
import pytest

from bolletta.platform.i18n.message import Text, render
from bolletta.platform.portal.language import PAGE_LANGUAGES
from bolletta.tenants import config as tenant_settings
from bolletta.tenants.config import (
    Branding,
    PortalSettings,
    QuietHours,
    RetentionSettings,
    TenantConfig,
    encode_config,
)
from bolletta.tenants.settings_editor.fields import PLATFORM_ONLY_SETTINGS, SECTION_LIST, SECTIONS, Field, Section
from bolletta.tenants.settings_editor.forms import (
    drop_unused_templates,
    form_values,
    read_form,
    read_value,
    value_at,
)

EDITED_ELSEWHERE = {
    "message_texts": "the backoffice's message text editor",
    "enabled_channels": "the console's tenant page",
    "channel_settings": "the console's plugin settings pages",
    "gateway_settings": "the console's plugin settings pages",
}
NESTED = {"branding": Branding, "portal": PortalSettings, "quiet_hours": QuietHours, "retention": RetentionSettings}

FILLED = TenantConfig(
    vat_number="01234560017", notification_emails=["a@acme.example", "b@acme.example"],
    test_recipients=[tenant_settings.TestRecipient(channel="sms", address="+39 333 1234567")],
    portal=PortalSettings(voices={"en": "en_US-joe-medium"}, glossary={"en": {"Quota fissa": "Fixed fee"}},
                          extra_links={"dati": [("Area clienti", "https://acme.example/area")]},
                          blocks={"importi": "Scade il {{ due_date }}."}),
    cost_rules=[("quota fissa", "fixed_quota"), ("accise", "taxes")],
    whatsapp_templates={language: tenant_settings.WhatsappTemplate(
        name=f"bolletta_pronta_{language}", language_code=language, body_parameters=["utility", "link"],
        url_button=language == "it") for language in PAGE_LANGUAGES},
    email_header_key="assets/email-header-0123456789abcdef", email_header_type="image/png",
    sftp_poll=tenant_settings.SftpPollSettings(host="sftp.acme.example", username="bolletta", password="segreto",
                                               host_key_fingerprint="SHA256:abc", timeout_seconds=12.5),
)


def _all_paths() -> set[str]:
    paths = set()
    for name in TenantConfig.__struct_fields__:
        nested = NESTED.get(name)
        paths |= {f"{name}.{field}" for field in nested.__struct_fields__} if nested else {name}
    return paths


def test_every_setting_has_a_place() -> None:
    edited = {item.path for section in SECTION_LIST for item in section.fields}
    edited_or_parent = {".".join(path.split(".")[:end]) for path in edited for end in range(1, path.count(".") + 2)}
    missing = [path for path in _all_paths() if path not in edited_or_parent and path.split(".")[0] not in
               EDITED_ELSEWHERE]

    assert missing == []


def test_platform_only_names_exist() -> None:
    paths = _all_paths()
    for name in PLATFORM_ONLY_SETTINGS:
        assert name in paths or name in TenantConfig.__struct_fields__, name


def test_sections_own_disjoint_settings() -> None:
    owners: dict[str, str] = {}
    for section in SECTION_LIST:
        for key in section.keys:
            assert key not in owners, f"{key} is in sections {owners.get(key)} and {section.name}"
            owners[key] = section.name


@pytest.mark.parametrize("section", SECTION_LIST, ids=lambda section: section.name)
def test_form_reads_back_stored_values(section: Section) -> None:
    plain = msgspec.json.decode(msgspec.json.encode(encode_config(FILLED)))  # tuples become lists, as in the database
    values, problems = read_form(list(section.fields), form_values(section, plain))

    assert problems == {}
    for path, value in values.items():
        assert "secret" not in section.field(path).kind  # type: ignore[union-attr]
        stored = value_at(plain, path)
        assert value == ("" if stored is None else stored), path


def test_secret_never_shown() -> None:
    plain = encode_config(FILLED)
    shown = form_values(SECTIONS["sftp-server"], plain)

    assert shown["sftp_poll.password"] == ""
    assert "segreto" not in shown.values()


def test_retention_limits_match_config() -> None:
    section = SECTIONS["retention"]
    for info in msgspec.inspect.type_info(RetentionSettings).fields:  # type: ignore[union-attr]
        item = section.field(f"retention.{info.name}")
        assert item is not None
        assert (item.minimum, item.maximum) == (info.type.ge, info.type.le), info.name


@pytest.mark.parametrize(("raw", "msgid"), [
    ("quindici", "{value} is not a whole number; enter one from {low} to {high}."),
    ("0", "{value} is outside the allowed range, {low} to {high}."),
    ("51", "{value} is outside the allowed range, {low} to {high}."),
])
def test_bad_number_named(raw: str, msgid: str) -> None:
    problem = read_value(Field("test_batch_size", "", "number", 1, 50), raw)

    assert isinstance(problem, Text)
    assert problem.msgid == msgid


@pytest.mark.parametrize(("kind", "raw"), [
    ("pairs", "en en_US-joe-medium"),
    ("glossary", "en Quota fissa = Fixed fee"),
    ("links", "dati | Area clienti"),
    ("recipients", "collaudo@acme.example"),
])
def test_malformed_line_named(kind: str, raw: str) -> None:
    problem = read_value(Field("x", "", kind), raw)

    assert isinstance(problem, Text)
    assert problem.params["value"] == raw


def test_image_fields_never_read_from_form() -> None:
    section = SECTIONS["images"]
    values, problems = read_form(list(section.fields), {"email_header_key": "../other/assets/secret.png",
                                                        "email_header_type": "text/html"})

    assert values == {}
    assert problems == {}


def test_empty_templates_dropped() -> None:
    plain = {"whatsapp_templates": {
        "it": {"name": "bolletta_pronta", "language_code": "it", "category": "UTILITY", "body_parameters": ["link"],
               "url_button": False},
        "en": {"name": "", "language_code": "", "category": "", "body_parameters": [], "url_button": False},
        "de": {"name": "", "language_code": "", "category": "UTILITY", "body_parameters": [], "url_button": False},
        "fr": {"name": "", "language_code": "", "category": "MARKETING", "body_parameters": [],
               "url_button": False},
    }}

    drop_unused_templates(plain)

    assert sorted(plain["whatsapp_templates"]) == ["fr", "it"]


def test_unreadable_port_names_range() -> None:
    problem = read_value(SECTIONS["sftp-server"].field("sftp_poll.port"), "abc")  # type: ignore[arg-type]

    assert isinstance(problem, Text)
    assert render(problem, "it") == "abc non è un numero intero: inseriscine uno da 1 a 65535."


@pytest.mark.parametrize("path", ["bills_by_email", "channel_mode", "costs_layout", "sftp_poll.after_download"])
def test_choice_fields_keep_values(path: str) -> None:
    item = next(field for section in SECTION_LIST for field in section.fields if field.path == path)

    assert item.kind == "choice"
    for value, label in item.choices:
        assert read_value(item, value) == value
        assert render(Text(label), "it") != label, label
