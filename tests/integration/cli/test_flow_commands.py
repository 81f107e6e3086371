"""`bolletta schema flow` and `bolletta flow inspect` through the click command."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bolletta.cli.main import main
from bolletta.platform.demo.flow import build_demo_flow

RECORD: dict[str, Any] = {
    "format": "bolletta-smart/1",
    "document": {"number": "G-2025-77", "issue_date": "2025-09-02", "due_date": "2025-09-30",
                 "amount_due": "96.40", "period": {"from": "2025-07-01", "to": "2025-08-31"}},
    "customer": {"code": "C-77", "name": "Paolo Verdi"},
    "supply": {"service": "gas", "pdr": "00881234567890"},
    "costs": [{"category": "consumption_quota", "part": "sale", "label": "Quota consumi", "amount": "60.00"},
              {"category": "vat", "label": "IVA 10%", "amount": "8.76"}],
    "consumption": {"unit": "Smc", "billed": "88", "history": [{"period": "2025-05", "value": "40"}]},
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_DATABASE_URL": "", "BOLLETTA_BROKER_URL": ""}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def test_schema_flow_prints_schema(env: dict[str, str]) -> None:
    result = run(env, "schema", "flow")

    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema["$ref"] == "#/$defs/FlowRecord"
    assert set(schema["$defs"]["FlowRecord"]["required"]) == {"format", "document", "customer", "supply"}


def test_schema_flow_validates_record(env: dict[str, str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(run(env, "schema", "flow").output)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    validator.validate(RECORD)
    broken = json.loads(json.dumps(RECORD))
    broken["document"]["issue_date"] = "02/09/2025"
    assert not validator.is_valid(broken)


def test_inspect_jsonl_file(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "emissione.jsonl"
    path.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    result = run(env, "flow", "inspect", str(path))

    assert result.exit_code == 0, result.output
    bill, summary = json_lines(result.output)
    assert bill["document_number"] == "G-2025-77"
    assert (bill["service"], bill["pdr"]) == ("gas", "00881234567890")
    assert bill["consumption"] == {"value": "88", "unit": "Smc"}
    assert bill["period"] == {"from": "2025-07-01", "to": "2025-08-31"}
    assert summary["summary"]["bills"] == 1


def test_inspect_samples_with_rejections(env: dict[str, str], tmp_path: Path, samples_dir: Path) -> None:
    fatturapa = samples_dir / "fatturapa"
    archive = tmp_path / "flusso.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(fatturapa / "oca_l10n_italy" / "IT01234567890_FPR03.xml.p7m", "firmate/FPR03.xml.p7m")
        handle.write(fatturapa / "fatturaelettronica_net" / "IT02182030391_31_tampered.xml.p7m", "rotta.xml.p7m")
        handle.write(fatturapa / "malicious" / "entity_expansion.xml", "xxe.xml")
    result = run(env, "flow", "inspect", "--lang", "it", str(archive))

    assert result.exit_code == 1, result.output
    lines = json_lines(result.output)
    assert [line["document_number"] for line in lines if "document_number" in line] == ["123", "456"]
    problems = {line["file"]: line for line in lines if "problem" in line}
    assert set(problems) == {"rotta.xml.p7m", "xxe.xml"}
    assert problems["rotta.xml.p7m"]["reason"].startswith("rotta.xml.p7m non è un file firmato leggibile")
    assert "root:" not in result.output
    assert lines[-1]["summary"] == {"bills": 2, "rejected": 2, "ignored": 0, "contacts": 0,
                                    "archive_rejected": False}


def test_inspect_demo_flow(env: dict[str, str], tmp_path: Path) -> None:
    demo = build_demo_flow(issue_date=date(2026, 11, 3))
    path = tmp_path / demo.filename
    path.write_bytes(demo.archive)
    result = run(env, "flow", "inspect", str(path))

    assert result.exit_code == 0, result.output
    lines = json_lines(result.output)
    assert [line["document_number"] for line in lines if "document_number" in line] == demo.document_numbers
    assert lines[-1]["summary"]["rejected"] == 0


def test_inspect_bad_option(env: dict[str, str], samples_dir: Path) -> None:
    path = samples_dir / "fatturapa" / "oca_l10n_italy" / "IT01234567890_FPR03.xml"
    result = CliRunner().invoke(main, ["flow", "inspect", "--customer-code-source", "nope", str(path)], env=env)

    assert result.exit_code == 2
    assert "nope" in result.output
    assert "Traceback" not in result.output
