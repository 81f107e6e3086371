"""Dramatiq actors that speak bills' summaries into the audio cache."""

from __future__ import annotations

import logging
from pathlib import Path

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.speech import job_audio
from bolletta.platform.speech.synthesis import cached_mp3
from bolletta.platform.speech.voices import find_voice

logger = logging.getLogger(__name__)

QUEUE = "speech"
"""Queue of the audio made after parsing: a worker can be given it alone (``bolletta worker --queues
speech``), and a job of many bills never delays the default queue's work."""


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


@dramatiq.actor(queue_name=QUEUE, max_retries=3, time_limit=600_000)
def synthesize_job_speech(tenant: str, job_id: int) -> None:
    """Queue the read-aloud audio of every bill of a parsed job."""
    job_audio.queue_job_audio(runtime.current(), tenant, job_id)


@dramatiq.actor(queue_name=QUEUE, max_retries=2, min_backoff=5_000, time_limit=900_000)
def synthesize_bill_speech(tenant: str, bill_ids: list[int]) -> None:
    """Speak the summaries of ``bill_ids`` in each language with a server voice, skipping cached audio."""
    files_made = job_audio.synthesize_bills(runtime.current(), tenant, bill_ids)
    logger.info("tenant %s: %d summary audio files made for %d bills", tenant, files_made, len(bill_ids))
