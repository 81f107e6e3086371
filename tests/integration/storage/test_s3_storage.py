"""Archives and PDFs in an S3-compatible bucket, against moto's server on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import msgspec
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import load_settings
from bolletta.platform.stack import start_stack
from bolletta.platform.storage import S3Storage, storage_from_settings
from tests.integration.stack_support import create_test_tenant, run_to_test_sent, stack_settings
from tests.integration.storage.s3_server import running_s3

BUCKET = "bollette"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with running_s3(monkeypatch) as url:
        boto3.client("s3", endpoint_url=url, region_name="eu-south-1").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-south-1"}
        )
        yield url


def _storage(endpoint: str, tmp_path: Path, prefix: str = "prod") -> S3Storage:
    settings = load_settings({}, data_dir=str(tmp_path), storage_url=f"s3://{BUCKET}/{prefix}",
                             s3_endpoint_url=endpoint, s3_region="eu-south-1")
    storage = storage_from_settings(settings)
    assert isinstance(storage, S3Storage)
    return storage


def _object_keys(endpoint: str) -> list[str]:
    client: Any = boto3.client("s3", endpoint_url=endpoint, region_name="eu-south-1")
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_put_get_delete(endpoint: str, tmp_path: Path) -> None:
    storage = _storage(endpoint, tmp_path)

    key = storage.put("acme", "bills/B1/bolletta.pdf", b"%PDF-1.7 finta")

    assert key == "acme/bills/B1/bolletta.pdf"
    assert _object_keys(endpoint) == ["prod/acme/bills/B1/bolletta.pdf"]
    assert storage.exists(key)
    assert storage.get(key) == b"%PDF-1.7 finta"
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.get(key)


def test_put_stream_uploads_in_parts(endpoint: str, tmp_path: Path) -> None:
    # boto3 switches to a multipart upload above 8 MiB, so the archive is sent in parts.
    archive = tmp_path / "flusso.zip"
    archive.write_bytes(os.urandom(9 * 1024 * 1024))
    storage = _storage(endpoint, tmp_path)

    with archive.open("rb") as source:
        key = storage.put_stream("acme", "archives/abc/flusso.zip", source)

    assert key == "acme/archives/abc/flusso.zip"
    assert storage.get(key) == archive.read_bytes()


def test_local_copy_is_removed_after_use(endpoint: str, tmp_path: Path) -> None:
    storage = _storage(endpoint, tmp_path)
    key = storage.put("acme", "archives/abc/flusso.zip", b"PK" + bytes(range(256)) * 100)

    with storage.local_copy(key) as path:
        assert path.read_bytes() == b"PK" + bytes(range(256)) * 100
        assert path.name == "flusso.zip"

    assert not path.exists()
    with pytest.raises(FileNotFoundError), storage.local_copy("acme/archives/missing.zip"):
        pass


@pytest.mark.parametrize("key", ["../beta/bills/x.pdf", "bills/../../beta/x.pdf", "/bills/x.pdf", "bills//x.pdf"])
def test_key_escaping_tenant_rejected(endpoint: str, tmp_path: Path, key: str) -> None:
    storage = _storage(endpoint, tmp_path)

    with pytest.raises(ValueError, match="not a plain relative path"):
        storage.put("acme", key, b"x")
    assert _object_keys(endpoint) == []


def test_probe_leaves_nothing(endpoint: str, tmp_path: Path) -> None:
    storage = _storage(endpoint, tmp_path)

    storage.probe()

    assert _object_keys(endpoint) == []


def test_other_scheme_rejected(tmp_path: Path) -> None:
    settings = load_settings({}, data_dir=str(tmp_path), storage_url="gs://bollette")

    with pytest.raises(ConfigurationError, match="s3://bucket/prefix"):
        storage_from_settings(settings)


def test_main_job_stores_in_bucket(endpoint: str, tmp_path: Path) -> None:
    settings = msgspec.structs.replace(
        stack_settings(tmp_path / "data"), storage_url=f"s3://{BUCKET}/bolletta", s3_endpoint_url=endpoint,
        s3_region="eu-south-1",
    )
    stack = start_stack(settings, create_secret=True, run_scheduler=False)
    try:
        tenant = create_test_tenant(stack, "secchio")
        flow = build_demo_flow()
        run_to_test_sent(stack, tenant, flow)
        with stack.rt.db.tenant_session(tenant) as session:
            pdf_keys = [key for key in session.scalars(select(Bill.pdf_key)) if key]
        stored_pdfs = {stack.rt.storage.get(key) for key in pdf_keys}
    finally:
        stack.stop()

    keys = _object_keys(endpoint)
    assert any(key.startswith("bolletta/secchio/archives/") and key.endswith(flow.filename) for key in keys)
    assert pdf_keys
    assert all(f"bolletta/{key}" in keys for key in pdf_keys)
    assert all(content.startswith(b"%PDF") for content in stored_pdfs)
    assert not (tmp_path / "data" / "storage").exists()
