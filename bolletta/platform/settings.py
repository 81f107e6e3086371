"""Configuration from ``BOLLETTA_*`` environment variables, validated at start.

Every field of :class:`Settings` is read from the variable named ``BOLLETTA_`` plus the field name in
upper case (``data_dir`` from ``BOLLETTA_DATA_DIR``). An optional ``.env`` file in the working
directory is read first; real environment variables win over it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from bolletta.platform.errors import ConfigurationError

ENV_PREFIX = "BOLLETTA_"


Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
"""A TCP port; 0 picks a free one where the command allows it."""
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Process-wide settings. Tenant settings live on the tenant record, not here."""

    data_dir: str = "data"
    """Folder for the SQLite files, stored objects, SFTP areas and the demo's generated secret."""

    database_url: str = ""
    """SQLAlchemy URL of PostgreSQL (``postgresql+psycopg://user@host/db``); empty means SQLite
    files in ``data_dir`` (``platform.db`` and one ``tenants/<slug>.db`` per tenant)."""

    database_pool_size: PositiveInt = 5
    """PostgreSQL connections each process keeps open in each of its two pools (web requests use the
    async one, workers and background loops the sync one)."""

    database_max_overflow: NonNegativeInt = 10
    """Connections a pool may open beyond ``database_pool_size`` under load, closed when returned. A
    web process serves at most about ``database_pool_size + database_max_overflow`` requests at once;
    the others wait for a connection."""

    database_pool_timeout: PositiveFloat = 30.0
    """Seconds a request or task waits for a free pooled connection before it fails (a web request
    then fails with HTTP 500). Sum every process's two pools against PostgreSQL's ``max_connections``."""

    broker_url: str = ""
    """``redis://`` or ``amqp://`` URL of the Dramatiq broker; empty means the in-memory
    ``StubBroker`` with a worker inside the same process."""

    broker_namespace: str = "bolletta"
    """Prefix of the broker's Redis keys, so several installations (or test runs) can share one Redis."""

    secret_key: str = ""
    """Master secret, at least 32 characters. Keys for sessions, ticket HMACs and signed
    notifications are derived from it with HKDF. Required outside the demo."""

    previous_secret_keys: list[str] = []
    """Earlier master secrets, kept so outstanding ticket links still resolve after a rotation."""

    encryption_keys: list[str] = []
    """Fernet keys (newest first) that encrypt tenant secrets at rest; empty derives one from
    ``secret_key``."""

    platform_host: str = "127.0.0.1:8000"
    """Host (with port when not 80/443) of the backoffice, admin, API and provider callbacks."""

    public_base_url: str = "http://127.0.0.1:8000"
    """Base URL where providers and the sandbox gateway post server-to-server notifications."""

    cookie_secure: bool = True
    """Send cookies with ``Secure`` and the ``__Host-`` prefix. Only the plain-HTTP demo turns it off."""

    staff_idle_timeout_seconds: PositiveInt = 30 * 60
    """Seconds without a request after which a backoffice session ends. Activity restarts the count,
    but no session lasts more than 8 hours after sign-in, so a value above 28800 has no effect."""

    voice_index_url: str = ""
    """URL of the Piper voice index that ``bolletta voices install`` reads: a JSON object mapping each
    voice id to ``{"language": ..., "files": {name: {"url": ..., "sha256": ...}}}``. Relative file
    URLs resolve against the index URL."""

    tenant_path_prefix: bool = False
    """Serve customer pages under ``/c/<slug>/`` on the platform host instead of per-tenant domains
    (development, demo and tests)."""

    smtp_url: str = "smtp://127.0.0.1:1025"
    """SMTP server for staff notification e-mails, ``smtp://host:port`` or ``smtps://user:pass@host``."""

    mail_from: str = "Bolletta Smart <noreply@bolletta.localhost>"
    """Sender of staff notification e-mails."""

    operations_email: str = ""
    """The platform operator's address, copied on every job notification; empty sends none."""

    http_host: str = "127.0.0.1"
    """Address the web server binds."""

    http_port: Port = 8000
    """TCP port the web server binds."""

    trusted_proxies: list[str] = []
    """Addresses or networks of reverse proxies (such as ``127.0.0.1`` for nginx on the same machine)
    whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers give the client's address and scheme;
    empty trusts no header, so the client address is the peer's."""

    sftp_host: str = "127.0.0.1"
    """Address the embedded SFTP server binds."""

    sftp_port: Port = 2222
    """TCP port the embedded SFTP server binds."""

    metrics_token: str = ""
    """Bearer token Prometheus must send to read ``/metrics``; empty leaves ``/metrics`` open on the
    platform host, for installations where only the internal network reaches it."""

    log_format: Literal["text", "json"] = "text"
    """``text`` for people reading a terminal, ``json`` (one object per line, with tenant, job, ticket and
    payment ids as fields) for a log collector in production."""

    storage_url: str = ""
    """Where archives and PDFs are stored: empty for files under ``data_dir``, or ``s3://bucket/prefix`` for
    an S3-compatible bucket. boto3 reads the credentials from its usual sources (``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, or an instance role)."""

    s3_endpoint_url: str = ""
    """Endpoint of an S3-compatible service other than AWS, such as ``https://s3.example.it``."""

    s3_region: str = ""
    """Region of the bucket, such as ``eu-south-1``; empty lets boto3 choose."""

    scheduler_interval_seconds: PositiveFloat = 30.0
    """How often the scheduler looks for periodic work that is due, such as polling remote SFTP servers."""

    fatturapa_xsd_dir: str = ""
    """Folder holding the official FatturaPA XSDs; when set, bills failing them carry warnings."""

    archive_max_entries: PositiveInt = 300_000
    """Maximum number of entries in one uploaded archive (100,000 bills with a PDF each fit)."""

    archive_max_entry_bytes: PositiveInt = 200 * 1024 * 1024
    """Maximum uncompressed size of one archive entry, in bytes, counted while extracting."""

    archive_max_total_bytes: PositiveInt = 20 * 1024 * 1024 * 1024
    """Maximum uncompressed size of a whole archive, in bytes, counted while extracting."""

    archive_max_ratio: PositiveInt = 200
    """Maximum compression ratio (uncompressed / compressed) of one entry larger than 1 MiB."""

    flow_reader_process_min_bytes: int = 4 * 1024 * 1024
    """Archives of at least this many bytes are read in a second process while the job stores the bills
    already read, when the machine has two CPUs or more and the load average leaves one free; 0 reads
    every archive so, and a negative value none."""

    attachment_max_bytes: PositiveInt = 20 * 1024 * 1024
    """Maximum decoded size of one FatturaPA attachment, in bytes."""

    upload_max_bytes: PositiveInt = 512 * 1024 * 1024
    """Maximum size of a flow uploaded through the backoffice or the API, in bytes (request body).
    The upload is spooled to a temporary file and the job opens from it in chunks, so size it to
    the temporary folder's free space."""

    api_rate_limit_per_minute: PositiveInt = 600
    """Requests one API token may make per calendar minute; the next one gets 429 with ``Retry-After``.
    The counters live in Redis when the broker is Redis, so every web process shares them."""

    @property
    def data_path(self) -> Path:
        """``data_dir`` as an absolute path."""
        return Path(self.data_dir).resolve()

    @property
    def uses_sqlite(self) -> bool:
        """True when no database URL is set or it names SQLite."""
        return not self.database_url or self.database_url.startswith("sqlite")


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _parse_value(name: str, raw: str, field_type: Any) -> Any:
    if field_type == list[str]:
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment (and ``.env``), then apply ``overrides``.

    Raises:
        ConfigurationError: a variable has a value of the wrong type; the message names it.
    """
    env = dict(_read_dotenv(Path(".env")))
    env.update(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(Settings):
        key = ENV_PREFIX + field.name.upper()
        if key in env:
            raw[field.name] = _parse_value(key, env[key], field.type)
    raw.update(overrides)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec names the field as `$.field`; map it back to the variable the operator set.
        message = str(exc)
        for field in msgspec.structs.fields(Settings):
            message = message.replace(f"$.{field.name}", ENV_PREFIX + field.name.upper())
        raise ConfigurationError(f"Invalid setting: {message}. Fix the variable and start again.") from exc
