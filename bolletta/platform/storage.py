"""Where original archives and bill PDFs are kept; every key starts with the tenant's slug.

Two backends share one interface: files under the data folder (the default), and an S3-compatible
bucket (``BOLLETTA_STORAGE_URL=s3://bucket/prefix``) reached with boto3, for several web and worker
machines. Readers that need a seekable file, such as the archive reader, ask for
:meth:`Storage.local_copy`, which is the file itself on disk and a temporary download from S3.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol
from urllib.parse import urlsplit

from bolletta.platform.db.database import check_slug
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import Settings

PROBE_BYTES = b"bolletta storage probe"
COPY_CHUNK_BYTES = 1024 * 1024


class Storage(Protocol):
    """The operations the platform needs from an object store; keys are ``<tenant>/<path>``."""

    def put(self, tenant: str, key: str, data: bytes) -> str:
        """Store ``data`` under the tenant's prefix and return the full key."""
        ...

    def put_stream(self, tenant: str, key: str, source: IO[bytes]) -> str:
        """Store the bytes of ``source`` from its position on, read in chunks, and return the full key."""
        ...

    def get(self, full_key: str) -> bytes:
        """Return the object's bytes; raise ``FileNotFoundError`` when it is missing."""
        ...

    def exists(self, full_key: str) -> bool:
        """Return whether the object is stored."""
        ...

    def delete(self, full_key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...

    def delete_prefix(self, tenant: str, prefix: str) -> int:
        """Remove every object of the tenant whose key starts with ``prefix/``; return how many."""
        ...

    def local_copy(self, full_key: str) -> contextlib.AbstractContextManager[Path]:
        """Give a local file with the object's bytes for the length of the ``with`` block."""
        ...

    def open(self, full_key: str) -> BinaryIO:
        """Return a binary stream of the object, to send it without loading it whole."""
        ...

    def probe(self) -> None:
        """Write, read back and delete a small object outside every tenant's prefix; raise on failure."""
        ...

    def tenant_keys(self, tenant: str) -> Iterator[str]:
        """Yield the full key of every object under the tenant's prefix (for export and off-boarding)."""
        ...

    def remove_tenant(self, tenant: str) -> None:
        """Delete every object under the tenant's prefix (off-boarding)."""
        ...


def tenant_key(tenant: str, key: str) -> str:
    """Return ``key`` under the tenant's prefix, after checking the slug and the path."""
    parts = key.split("/")
    if not key or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"storage key {key!r} is not a plain relative path")
    return f"{check_slug(tenant)}/{key}"


class LocalStorage:
    """Objects as files under ``root/<tenant>/...``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, tenant: str, key: str, data: bytes) -> str:
        """Store ``data`` under the tenant's prefix and return the full key."""
        stored_key = f"{check_slug(tenant)}/{key}"
        path = self._path(stored_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)
        return stored_key

    def put_stream(self, tenant: str, key: str, source: IO[bytes]) -> str:
        """Copy ``source`` from its position on under the tenant's prefix and return the full key."""
        stored_key = f"{check_slug(tenant)}/{key}"
        path = self._path(stored_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        with temporary.open("wb") as target:
            shutil.copyfileobj(source, target, COPY_CHUNK_BYTES)
        temporary.replace(path)
        return stored_key

    def get(self, full_key: str) -> bytes:
        """Return the object's bytes; raises ``FileNotFoundError`` when it is missing."""
        return self._path(full_key).read_bytes()

    def path(self, full_key: str) -> Path:
        """Return the local file of an object, to read it without loading it whole."""
        return self._path(full_key)

    def exists(self, full_key: str) -> bool:
        """Return whether the object is stored."""
        return self._path(full_key).is_file()

    def delete(self, full_key: str) -> None:
        """Remove the object's file, if there is one."""
        self._path(full_key).unlink(missing_ok=True)

    def delete_prefix(self, tenant: str, prefix: str) -> int:
        """Remove the files below ``<tenant>/<prefix>/`` and the emptied folders; return how many files."""
        folder = self._path(tenant_key(tenant, prefix))
        if not folder.is_dir():
            return 0
        files = [path for path in folder.rglob("*") if path.is_file()]
        for path in files:
            path.unlink(missing_ok=True)
        for path in sorted((item for item in folder.rglob("*") if item.is_dir()), reverse=True):
            path.rmdir()
        folder.rmdir()
        return len(files)

    def open(self, full_key: str) -> BinaryIO:
        """Open the object's file for reading; raises ``FileNotFoundError`` when it is missing."""
        return self._path(full_key).open("rb")

    @contextlib.contextmanager
    def local_copy(self, full_key: str) -> Iterator[Path]:
        """Yield the object's own file."""
        path = self._path(full_key)
        if not path.is_file():
            raise FileNotFoundError(full_key)
        yield path

    def probe(self) -> None:
        """Write, read back and delete a file in the storage root."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f".health-{uuid.uuid4().hex}"
        try:
            path.write_bytes(PROBE_BYTES)
            if path.read_bytes() != PROBE_BYTES:
                raise OSError("the storage returned other bytes than those written")
        finally:
            path.unlink(missing_ok=True)

    def tenant_keys(self, tenant: str) -> Iterator[str]:
        """Yield the full key of every file under the tenant's folder, skipping unfinished writes."""
        folder = self.root / check_slug(tenant)
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                yield path.relative_to(self.root).as_posix()

    def remove_tenant(self, tenant: str) -> None:
        """Delete the tenant's folder with everything in it."""
        shutil.rmtree(self.root / check_slug(tenant), ignore_errors=True)

    def _path(self, full_key: str) -> Path:
        path = (self.root / full_key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key {full_key!r} leaves the storage root")
        return path


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional prefix shared by the whole platform."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", spool_dir: Path | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.spool_dir = spool_dir

    def put(self, tenant: str, key: str, data: bytes) -> str:
        """Upload ``data`` under the tenant's prefix and return the full key."""
        stored_key = tenant_key(tenant, key)
        self.client.put_object(Bucket=self.bucket, Key=self._object_key(stored_key), Body=data)
        return stored_key

    def put_stream(self, tenant: str, key: str, source: IO[bytes]) -> str:
        """Upload ``source`` from its position on (in parts when it is large) and return the full key."""
        stored_key = tenant_key(tenant, key)
        self.client.upload_fileobj(source, self.bucket, self._object_key(stored_key))
        return stored_key

    def get(self, full_key: str) -> bytes:
        """Download the object; raises ``FileNotFoundError`` when it is missing."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._object_key(full_key))
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(full_key) from exc
        body: bytes = response["Body"].read()
        return body

    def exists(self, full_key: str) -> bool:
        """Return whether the object is stored (a ``HEAD`` request)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object_key(full_key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, full_key: str) -> None:
        """Remove the object; S3 reports success for a missing key too."""
        self.client.delete_object(Bucket=self.bucket, Key=self._object_key(full_key))

    def delete_prefix(self, tenant: str, prefix: str) -> int:
        """Remove every object below ``<tenant>/<prefix>/``, listed page by page; return how many."""
        object_prefix = self._object_key(tenant_key(tenant, prefix)) + "/"
        count = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=object_prefix):
            for item in page.get("Contents", []):
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                count += 1
        return count

    def open(self, full_key: str) -> BinaryIO:
        """Return the object's body as a stream; raises ``FileNotFoundError`` when it is missing."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._object_key(full_key))
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(full_key) from exc
        body: BinaryIO = response["Body"]
        return body

    @contextlib.contextmanager
    def local_copy(self, full_key: str) -> Iterator[Path]:
        """Download the object to a temporary file, streamed, and remove the file afterwards."""
        if not self.exists(full_key):
            raise FileNotFoundError(full_key)
        if self.spool_dir is not None:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bolletta-", dir=self.spool_dir) as folder:
            path = Path(folder) / Path(full_key).name
            self.client.download_file(self.bucket, self._object_key(full_key), str(path))
            yield path

    def probe(self) -> None:
        """Upload, download and delete a small object under ``.health/``, outside every tenant."""
        key = f"{self.prefix}/.health/{uuid.uuid4().hex}" if self.prefix else f".health/{uuid.uuid4().hex}"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=PROBE_BYTES)
        try:
            if self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read() != PROBE_BYTES:
                raise OSError("the storage returned other bytes than those written")
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def tenant_keys(self, tenant: str) -> Iterator[str]:
        """Yield the full key of every object under the tenant's prefix, page by page."""
        base = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{base}{check_slug(tenant)}/"):
            for item in page.get("Contents", []):
                yield str(item["Key"])[len(base):]

    def remove_tenant(self, tenant: str) -> None:
        """Delete every object under the tenant's prefix, one listed page at a time."""
        for full_key in list(self.tenant_keys(tenant)):
            self.delete(full_key)

    def _object_key(self, full_key: str) -> str:
        tenant, _, key = full_key.partition("/")
        check_slug(tenant)
        if not key or any(part in ("", ".", "..") for part in key.split("/")):
            raise ValueError(f"storage key {full_key!r} is not a plain relative path")
        return f"{self.prefix}/{full_key}" if self.prefix else full_key


def storage_from_settings(settings: Settings) -> Storage:
    """Return the storage ``BOLLETTA_STORAGE_URL`` names: empty for local files, ``s3://bucket/prefix``.

    Raises:
        ConfigurationError: the URL has another scheme or no bucket.
    """
    url = settings.storage_url
    if not url:
        return LocalStorage(settings.data_path / "storage")
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigurationError(
            f"BOLLETTA_STORAGE_URL must be empty (local files) or s3://bucket/prefix, not {url!r}."
        )
    import boto3

    client = boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url or None, region_name=settings.s3_region or None,
    )
    return S3Storage(client, bucket=parts.netloc, prefix=parts.path, spool_dir=settings.data_path / "spool")
