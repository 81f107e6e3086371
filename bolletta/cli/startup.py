"""The start-up step of every long-running command: one log line with its configuration, secrets redacted."""

from __future__ import annotations

import json
import logging

from bolletta.platform.settings import Settings
from bolletta.platform.settings_doc import redacted

logger = logging.getLogger("bolletta.startup")

LONG_RUNNING_COMMANDS = frozenset({"serve", "worker", "scheduler", "sftp"})
"""Commands that log at info level without ``--verbose``, so their start and configuration show."""


def log_configuration(process: str, settings: Settings) -> None:
    """Log one line with the process name and its settings, secrets and URL passwords masked."""
    logger.info("%s starting with configuration %s", process, json.dumps(redacted(settings), sort_keys=True))
