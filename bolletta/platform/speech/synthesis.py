"""Speaking a text with a Piper voice and encoding it as MP3 (``lameenc``), cached per bill and language.

A loaded voice is kept per process, because loading takes most of a second while a short summary
is spoken in one or two. The cache key holds the text and voice digest, so a bill whose summary
changes (paid, overdue) gets new audio and the old file is simply never asked for again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from functools import cache
from typing import TYPE_CHECKING

from bolletta.platform.speech.voices import InstalledVoice
from bolletta.platform.storage import Storage

MP3_BITRATE_KBPS = 48
"""Mono speech at 48 kbit/s: about 6 KB per second of audio."""
MP3_QUALITY = 5
"""LAME's speed/quality trade-off, 2 (best) to 7 (fastest)."""
ENGINE_MODULES = ("piper", "lameenc")
"""Packages that speak and encode; imported only when audio is made, so a web or worker process
without them still starts and the pages fall back to the browser's speech synthesis."""
_voice_locks: dict[str, threading.Lock] = {}

if TYPE_CHECKING:
    from piper import PiperVoice


def missing_engine() -> str | None:
    """Return the first of :data:`ENGINE_MODULES` that is not installed, else ``None``."""
    return next((name for name in ENGINE_MODULES if importlib.util.find_spec(name) is None), None)


@cache
def _load(model: str, config: str) -> PiperVoice:
    from piper import PiperVoice

    return PiperVoice.load(model, config_path=config)


def audio_key(public_id: str, language: str, voice: InstalledVoice, text: str) -> str:
    """Storage key, below the tenant's prefix, of the bill's audio for this text and voice."""
    digest = hashlib.sha256(f"{voice.voice_id}\n{text}".encode()).hexdigest()[:20]
    return f"speech/{public_id}/{language}-{digest}.mp3"


def synthesize_mp3(text: str, voice: InstalledVoice) -> bytes:
    """Speak ``text`` with ``voice`` and return MP3 bytes (mono, the voice's sample rate)."""
    lock = _voice_locks.setdefault(voice.voice_id, threading.Lock())
    with lock:  # an ONNX session per voice, used by one thread at a time
        piper_voice = _load(str(voice.model), str(voice.config))
        chunks = list(piper_voice.synthesize(text))
    if not chunks:
        raise ValueError("the voice produced no audio for an empty text")
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(chunks[0].sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
    return bytes(encoder.encode(pcm) + encoder.flush())


def cached_mp3(storage: Storage, tenant: str, key: str, text: str, voice: InstalledVoice) -> str:
    """Synthesise into the cache unless the audio is there; return the full storage key."""
    full_key = f"{tenant}/{key}"
    if not storage.exists(full_key):
        storage.put(tenant, key, synthesize_mp3(text, voice))
    return full_key
