"""`bolletta voices list|install` against a local voice index, and the real Piper path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from bolletta.cli.main import main
from bolletta.platform.speech.synthesis import synthesize_mp3
from bolletta.platform.speech.voices import VoiceError, find_voice, install_voice, installed_voices

VOICE_ID = "en_US-joe-medium"


def run(args: list[str], data_dir: Path, index_url: str):
    env = {"BOLLETTA_DATA_DIR": str(data_dir), "BOLLETTA_VOICE_INDEX_URL": index_url}
    return CliRunner().invoke(main, args, env=env)


def test_install_and_list(tmp_path: Path, voice_index: str) -> None:
    empty = run(["voices", "list"], tmp_path, voice_index)
    available = run(["voices", "list", "--available"], tmp_path, voice_index)
    installed = run(["voices", "install", VOICE_ID], tmp_path, voice_index)
    listed = run(["voices", "list"], tmp_path, voice_index)

    assert "No voices installed" in empty.output
    assert f"{VOICE_ID}\ten_US" in available.output
    assert installed.exit_code == 0, installed.output
    assert VOICE_ID in listed.output
    assert (tmp_path / "voices" / f"{VOICE_ID}.onnx.json").is_file()


def test_wrong_digest_installs_nothing(tmp_path: Path, voice_index: str) -> None:
    result = run(["voices", "install", "en_US-broken-medium"], tmp_path, voice_index)

    assert result.exit_code == 1
    assert "SHA-256" in result.output
    assert installed_voices(tmp_path) == []


@pytest.mark.parametrize(("voice_id", "message"), [
    ("it_IT-nobody-medium", "has no voice it_IT-nobody-medium"),
    ("../../etc/passwd", "is not a Piper voice id"),
])
def test_unknown_or_malformed_voice(tmp_path: Path, voice_index: str, voice_id: str, message: str) -> None:
    with pytest.raises(VoiceError, match=message):
        install_voice(tmp_path, voice_id, voice_index)


def test_missing_index_setting_is_explained(tmp_path: Path) -> None:
    result = run(["voices", "install", VOICE_ID], tmp_path, "")

    assert result.exit_code == 1
    assert "BOLLETTA_VOICE_INDEX_URL" in result.output


def test_piper_speaks_mp3_of_plausible_length(tmp_path: Path, voice_index: str) -> None:
    install_voice(tmp_path, VOICE_ID, voice_index)
    voice = find_voice(tmp_path, VOICE_ID)
    assert voice is not None
    text = "This is your electricity bill from ACME Energia. The amount to pay is 82 euros, by September 19."

    audio = synthesize_mp3(text, voice)
    info = MP3(io.BytesIO(audio)).info

    assert info.channels == 1
    assert info.sample_rate == 22050
    assert 3.0 < info.length < 12.0  # about 18 words at a speaking pace
    assert len(audio) < info.length * 48_000 / 8 * 1.2  # compressed at about 48 kbit/s, not WAV
