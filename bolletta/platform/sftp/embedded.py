"""The platform's SFTP server wired to the SFTP accounts and to job opening."""

from __future__ import annotations

from pathlib import Path

from bolletta.platform.jobs.inbox import open_job_from_upload
from bolletta.platform.runtime import Runtime
from bolletta.platform.sftp.server import SftpServer
from bolletta.tenants.accounts import authenticate_sftp


def build_sftp_server(rt: Runtime, *, host: str, port: int) -> SftpServer:
    """An SFTP server whose logins are the SFTP accounts and whose uploads open jobs."""

    def authenticate(username: str, password: str) -> str | None:
        return authenticate_sftp(rt.db, username, password)

    def on_upload(tenant: str, path: Path, relative: str) -> None:
        open_job_from_upload(rt, tenant, path, relative)

    data = rt.settings.data_path
    return SftpServer(
        host=host, port=port, host_key_path=data / "sftp_host_key", root_dir=data / "sftp",
        authenticate=authenticate, on_upload=on_upload,
    )
