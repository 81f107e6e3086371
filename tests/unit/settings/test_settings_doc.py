"""The configuration reference, the redacted start-up line and the checks on settings values."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import Settings, load_settings
from bolletta.platform.settings_doc import field_docs, redacted, reference_markdown

REPOSITORY = Path(__file__).resolve().parents[3]


def test_reference_file_is_current() -> None:
    written = (REPOSITORY / "docs" / "configuration.md").read_text(encoding="utf-8")

    assert written == reference_markdown(), "run: bolletta settings doc > docs/configuration.md"


def test_every_setting_documented() -> None:
    docs = field_docs()
    reference = reference_markdown()

    for field in msgspec.structs.fields(Settings):
        assert docs.get(field.name), f"{field.name} has no docstring"
        assert f"## `BOLLETTA_{field.name.upper()}`" in reference


def test_reference_shows_types_and_limits() -> None:
    reference = reference_markdown()

    assert "## `BOLLETTA_HTTP_PORT`" in reference
    assert "- Type: integer (from 0, up to 65535)\n- Default: `8000`" in reference
    assert "- Type: comma-separated list of text\n- Default: (empty)" in reference


def test_redacted_hides_secrets_and_url_passwords() -> None:
    settings = load_settings(
        {}, secret_key="s" * 40, previous_secret_keys=["vecchio-segreto-1", "vecchio-segreto-2"],
        database_url="postgresql+psycopg://bolletta:pw-database@db.internal/bolletta",
        broker_url="amqp://guest:pw-broker@127.0.0.1:5672/%2F", smtp_url="smtps://notifiche:pw-smtp@smtp.example.it",
        voice_index_url="https://voci:pw-voices@127.0.0.1/indice.json",
    )

    values = redacted(settings)
    text = json.dumps(values)

    for secret in ("s" * 40, "vecchio-segreto", "pw-database", "pw-broker", "pw-smtp", "pw-voices"):
        assert secret not in text
    assert values["secret_key"] == "(set)"
    assert values["previous_secret_keys"] == "(2 set)"
    assert values["database_url"] == "postgresql+psycopg://bolletta:***@db.internal/bolletta"
    assert values["http_port"] == 8000


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BOLLETTA_HTTP_PORT", "70000", "Expected `int` <= 65535 - at `BOLLETTA_HTTP_PORT`"),
        ("BOLLETTA_SCHEDULER_INTERVAL_SECONDS", "0",
         "Expected `float` > 0.0 - at `BOLLETTA_SCHEDULER_INTERVAL_SECONDS`"),
        ("BOLLETTA_ARCHIVE_MAX_ENTRIES", "-5", "Expected `int` >= 1 - at `BOLLETTA_ARCHIVE_MAX_ENTRIES`"),
        ("BOLLETTA_SFTP_PORT", "ventidue", "Expected `int`, got `str` - at `BOLLETTA_SFTP_PORT`"),
    ],
)
def test_bad_value_names_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({variable: value})

    assert expected in str(raised.value)


def test_scheduler_logs_redacted_configuration(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""), "BOLLETTA_DATA_DIR": str(tmp_path),
        "BOLLETTA_BROKER_URL": "redis://:pw-redis@127.0.0.1:1/0", "BOLLETTA_SECRET_KEY": "k" * 48,
    }
    process = subprocess.Popen([sys.executable, "-m", "bolletta", "scheduler"], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    # The start-up line comes after the imports, which take seconds on a loaded machine.
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        line = process.stderr.readline()
        lines.append(line)
        if "scheduler starting" in line:
            break
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=60)
    errors = "".join(lines) + rest

    assert "scheduler starting with configuration" in errors
    assert '"broker_url": "redis://:***@127.0.0.1:1/0"' in errors
    assert "pw-redis" not in errors
    assert "k" * 48 not in errors
