"""The platform's SFTP server wired to the SFTP accounts, tenant settings and job opening."""

from __future__ import annotations

from pathlib import Path

import paramiko

from bolletta.platform.jobs.inbox import open_job_from_upload
from bolletta.platform.runtime import Runtime
from bolletta.platform.sftp.server import IDLE_TIMEOUT_SECONDS, SftpServer
from bolletta.platform.sftp.throttle import ThrottleSettings
from bolletta.tenants.accounts import authenticate_sftp, authenticate_sftp_key
from bolletta.tenants.registry import get_tenant, tenant_config


def build_sftp_server(
    rt: Runtime, *, host: str, port: int, throttle: ThrottleSettings | None = None,
    idle_timeout: float = IDLE_TIMEOUT_SECONDS,
) -> SftpServer:
    """Build an SFTP server whose logins are the SFTP accounts and whose uploads open jobs."""

    def authenticate(username: str, password: str) -> str | None:
        return authenticate_sftp(rt.db, username, password)

    def authenticate_key(username: str, key: paramiko.PKey) -> str | None:
        return authenticate_sftp_key(rt.db, username, key)

    def quota_for(tenant: str) -> int | None:
        return tenant_config(get_tenant(rt.db, tenant)).sftp_quota_bytes

    def on_upload(tenant: str, path: Path, relative: str) -> None:
        open_job_from_upload(rt, tenant, path, relative)

    data = rt.settings.data_path
    return SftpServer(
        host=host, port=port, host_key_path=data / "sftp_host_key", root_dir=data / "sftp",
        authenticate=authenticate, authenticate_key=authenticate_key, on_upload=on_upload,
        throttle=throttle, quota_for=quota_for, idle_timeout=idle_timeout,
    )
