"""Dramatiq actor that speaks a bill's summary into the audio cache."""

from __future__ import annotations

import logging
from pathlib import Path

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.speech.synthesis import cached_mp3
from bolletta.platform.speech.voices import find_voice

logger = logging.getLogger(__name__)


@dramatiq.actor(max_retries=2, min_backoff=2_000, time_limit=300_000)
def synthesize_summary(tenant: str, key: str, voice_id: str, text: str) -> None:
    """Speak ``text`` with ``voice_id`` into the tenant's cache under ``key``.

    The text is the summary as read aloud (amounts, dates, the utility's name), composed by the web
    request that needed it; it names no customer.
    """
    rt = runtime.current()
    voice = find_voice(Path(rt.settings.data_path), voice_id)
    if voice is None:
        logger.warning("tenant %s: voice %s is not installed; the page falls back to the browser", tenant, voice_id)
        return
    cached_mp3(rt.storage, tenant, key, text, voice)
    logger.info("tenant %s: summary audio %s ready", tenant, key)
