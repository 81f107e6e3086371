"""Reading a job's summaries aloud in the background once its bills are parsed.

After parsing, every bill gets its audio for each language the tenant offers and has a server
voice for, so the first customer to press play does not wait for Piper. The text and storage key
are the ones the summary page computes for the bill in its current state (payable, paid, overdue),
so the page finds the file. A later change of state makes new audio on the page's first request.
A missing engine (the ``piper-tts`` or ``lameenc`` package) or voice is logged once per process and
skipped: the page then uses the browser's speech synthesis, and ingestion never waits for audio.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from bolletta.platform import tasks
from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.portal.language import offered
from bolletta.platform.portal.page import build_context
from bolletta.platform.portal.summary import summary_view_sync
from bolletta.platform.runtime import Runtime
from bolletta.platform.speech.sentences import compose
from bolletta.platform.speech.synthesis import audio_key, cached_mp3, missing_engine
from bolletta.platform.speech.voices import InstalledVoice, find_voice
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

BILLS_PER_TASK = 10
"""Bills one ``synthesize_bill_speech`` message speaks, so a retry repeats little."""

_logged: set[tuple[str, ...]] = set()
_logged_lock = threading.Lock()


def _log_once(key: tuple[str, ...], message: str, *args: object) -> None:
    """Log a warning the first time ``key`` is seen in this process, so a job of many bills logs once."""
    with _logged_lock:
        if key in _logged:
            return
        _logged.add(key)
    logger.warning(message, *args)


def wants_audio(config: TenantConfig) -> bool:
    """Return whether any language the tenant offers has a server voice set."""
    return any(language in config.portal.voices for language in offered(config.portal))


def server_voices(tenant: str, config: TenantConfig, data_path: Path) -> dict[str, InstalledVoice]:
    """Return the installed voice of each offered language that has one set, logging what is missing."""
    languages = [language for language in offered(config.portal) if language in config.portal.voices]
    if not languages:
        return {}
    engine = missing_engine()
    if engine is not None:
        _log_once(("engine", engine), "speech: the %s package is not installed, so no summary is read by a "
                  "server voice and pages use the browser's speech synthesis; install it to enable Piper", engine)
        return {}
    voices: dict[str, InstalledVoice] = {}
    for language in languages:
        voice_id = config.portal.voices[language]
        voice = find_voice(data_path, voice_id)
        if voice is None:
            _log_once(("voice", tenant, voice_id), "tenant %s: voice %s for %s is not installed, so that "
                      "language uses the browser's speech synthesis; run `bolletta voices install %s`",
                      tenant, voice_id, language, voice_id)
            continue
        voices[language] = voice
    return voices


def queue_job_audio(rt: Runtime, tenant: str, job_id: int) -> int:
    """Queue the audio of every bill of job ``job_id`` in tasks of :data:`BILLS_PER_TASK`; return the task count."""
    config = tenant_config(get_tenant(rt.db, tenant))
    if not server_voices(tenant, config, Path(rt.settings.data_path)):
        return 0
    with rt.db.tenant_session(tenant) as session:
        bill_ids = list(session.scalars(select(Bill.id).where(Bill.job_id == job_id).order_by(Bill.id)))
        batches = [(tenant, bill_ids[start:start + BILLS_PER_TASK])
                   for start in range(0, len(bill_ids), BILLS_PER_TASK)]
        tasks.defer_many(session, "synthesize_bill_speech", batches)
        session.commit()
    logger.info("tenant %s: audio of the %d bills of job %d queued", tenant, len(bill_ids), job_id)
    return len(batches)


def synthesize_bills(rt: Runtime, tenant: str, bill_ids: Sequence[int]) -> int:
    """Speak each bill's summary in every language with a server voice unless cached; return files made.

    A bill that fails is logged and skipped, so one bad bill does not hold back the others.
    """
    tenant_row = get_tenant(rt.db, tenant)
    config = tenant_config(tenant_row)
    voices = server_voices(tenant, config, Path(rt.settings.data_path))
    if not voices:
        return 0
    utility = config.branding.display_name or tenant_row.name
    files_made = 0
    with rt.db.tenant_session(tenant) as session:
        for bill_id in bill_ids:
            try:
                summary = summary_view_sync(session, bill_id, config)
            except NoResultFound:
                continue  # deleted since the job was parsed
            for language, voice in voices.items():
                context = build_context(summary, tenant_row.name, config, language)
                text = compose(context, utility)
                key = audio_key(summary.bill.public_id, language, voice, text)
                if rt.storage.exists(f"{tenant}/{key}"):
                    continue
                try:
                    cached_mp3(rt.storage, tenant, key, text, voice)
                except Exception:
                    logger.exception("tenant %s: speaking the %s summary of bill %d failed", tenant, language, bill_id)
                    continue
                files_made += 1
    return files_made
