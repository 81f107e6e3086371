"""``Storage.delete_prefix`` on local files and in an S3 bucket: only the tenant's folder goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bolletta.platform.settings import load_settings
from bolletta.platform.storage import LocalStorage, Storage, storage_from_settings
from tests.integration.storage.s3_server import running_s3

BUCKET = "bollette"
KEYS = [("acme", "speech/B1/it-1.mp3"), ("acme", "speech/B1/en-2.mp3"), ("acme", "speech/B10/it-3.mp3"),
        ("acme", "speech/B1.mp3"), ("beta", "speech/B1/it-1.mp3")]
"""B10 and B1.mp3 share the text prefix ``speech/B1`` without being in its folder; beta is another tenant."""


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "storage")
        return
    with running_s3(monkeypatch) as url:
        client: Any = boto3.client("s3", endpoint_url=url, region_name="eu-south-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-south-1"})
        yield storage_from_settings(load_settings({}, data_dir=str(tmp_path), storage_url=f"s3://{BUCKET}/prod",
                                                  s3_endpoint_url=url, s3_region="eu-south-1"))


def test_delete_prefix_only_folder(storage: Storage) -> None:
    for tenant, key in KEYS:
        storage.put(tenant, key, b"ID3")

    removed = storage.delete_prefix("acme", "speech/B1")
    again = storage.delete_prefix("acme", "speech/B1")

    assert removed == 2
    assert again == 0
    assert not storage.exists("acme/speech/B1/it-1.mp3")
    assert not storage.exists("acme/speech/B1/en-2.mp3")
    assert storage.exists("acme/speech/B10/it-3.mp3")
    assert storage.exists("acme/speech/B1.mp3")
    assert storage.exists("beta/speech/B1/it-1.mp3")


@pytest.mark.parametrize("prefix", ["../beta/speech", "speech/../../beta", ""])
def test_delete_prefix_rejects_escape(storage: Storage, prefix: str) -> None:
    storage.put("beta", "speech/B1/it-1.mp3", b"ID3")

    with pytest.raises(ValueError, match="not a plain relative path"):
        storage.delete_prefix("acme", prefix)
    assert storage.exists("beta/speech/B1/it-1.mp3")
