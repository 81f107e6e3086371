"""What the summary page offers to read aloud: the text, and the server voice when one is installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bolletta.platform.portal.page import PageContext
from bolletta.platform.speech.sentences import compose
from bolletta.platform.speech.synthesis import audio_key
from bolletta.platform.speech.voices import InstalledVoice, find_voice
from bolletta.tenants.config import TenantConfig


@dataclass(frozen=True)
class SpeechView:
    text: str
    language: str
    voice: InstalledVoice | None
    """The tenant's Piper voice for the language; ``None`` means the browser's speech synthesis reads."""

    def audio_key(self, public_id: str) -> str | None:
        return audio_key(public_id, self.language, self.voice, self.text) if self.voice else None


def speech_view(context: PageContext, utility: str, config: TenantConfig, data_path: Path) -> SpeechView:
    """The read-aloud text of the page's bill and the voice that speaks it."""
    voice_id = config.portal.voices.get(context.language)
    voice = find_voice(data_path, voice_id) if voice_id else None
    return SpeechView(text=compose(context, utility), language=context.language, voice=voice)
