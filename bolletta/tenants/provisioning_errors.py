"""Messages for the platform admin and server log lines for a part of a new tenant that cannot be made.

The admin gets a translatable message that names the part (database schema, SFTP area, storage,
first account, invitation) and the setting or folder to check. The exception itself goes to the
server log only, because its text is English, often long, and may quote a database statement with
its parameters, a connection URL or the invited person's e-mail address. :func:`log_failure`
removes those before logging.
"""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path

from sqlalchemy.exc import StatementError

from bolletta.platform.errors import BollettaError
from bolletta.platform.i18n.message import T_, Text, render

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@", re.IGNORECASE)
_PASSWORD_PAIR = re.compile(r"(?P<key>password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
HIDDEN = "***"
_MAX_CAUSES = 5


class ProvisioningFailed(BollettaError):
    """Raised when ``part`` of a new tenant could not be made; ``reason`` names it and the fix.

    ``str()`` gives the reason in English, for the command line.
    """

    def __init__(self, part: str, reason: Text) -> None:
        super().__init__(render(reason, "en"))
        self.part = part
        self.reason = reason


def failure_reason(part: str, *, sqlite_folder: Path | None = None, sftp_folder: Path | None = None) -> Text:
    """Return the admin's message for a failed provisioning ``part``.

    ``sqlite_folder`` is the folder of the tenants' database files when the platform runs on SQLite
    (``None`` on PostgreSQL), and ``sftp_folder`` the root of the SFTP areas.
    """
    if part == "tenant" and sqlite_folder is not None:
        return T_("The utility's database file could not be created in {folder}. Check that the folder exists, "
                  "that the service may write to it and that the disk has free space, then try again. The "
                  "server log has the error.", folder=str(sqlite_folder))
    if part == "tenant":
        return T_("The utility's database schema could not be created. Check that PostgreSQL is reachable at "
                  "BOLLETTA_DATABASE_URL and that its user may create schemas in that database, then try "
                  "again. The server log has the database's error.")
    if part == "sftp":
        return T_("The utility's SFTP folders or login could not be created. Check that the service may write "
                  "to {folder}, then try again. The server log has the error.", folder=str(sftp_folder or ""))
    if part == "storage":
        return T_("The utility's files could not be written to the storage. Check BOLLETTA_STORAGE_URL and that "
                  "the storage is reachable and writable, then try again. The server log has the error.")
    if part == "admin":
        return T_("The first administrator account could not be created. Check that the platform database is "
                  "reachable, then try again. The server log has the error.")
    if part == "invitation":
        return T_("The invitation e-mail could not be sent. Check BOLLETTA_SMTP_URL and that the mail server "
                  "accepts the sender in BOLLETTA_MAIL_FROM, then try again. The server log has the mail "
                  "server's answer.")
    return T_("Provisioning failed. The server log has the error; fix its cause, then try again.")


def loggable(exc: BaseException) -> str:
    """Return the exception's class and message without passwords, statement parameters or e-mail addresses.

    A SQLAlchemy statement error is reduced to the database driver's own message, because its text
    also quotes the statement and its parameters (a new tenant's settings hold sealed credentials).
    """
    message = str(exc.orig) if isinstance(exc, StatementError) and exc.orig is not None else str(exc)
    message = _URL_PASSWORD.sub(rf"\g<scheme>:{HIDDEN}@", message)
    message = _PASSWORD_PAIR.sub(rf"\g<key>{HIDDEN}", message)
    message = _EMAIL.sub(HIDDEN, message)
    return f"{type(exc).__name__}: {message}".strip()


def log_failure(logger: logging.Logger, action: str, exc: BaseException) -> None:
    """Log at error level that ``action`` failed, with the :func:`loggable` text of ``exc`` and of its causes.

    The call stack is logged too, as file, line and source line of each frame, without local values.
    """
    chain: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < _MAX_CAUSES:
        chain.append(loggable(current))
        current = current.__cause__
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed: %s\n%s", action, "; caused by ".join(chain), stack.rstrip())
