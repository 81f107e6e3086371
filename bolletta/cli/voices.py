"""``bolletta voices``: the Piper voices in the data directory that read bills aloud."""

from __future__ import annotations

import sys

import click

from bolletta.platform.settings import load_settings


@click.group()
def voices() -> None:
    """List and install Piper voices (BOLLETTA_DATA_DIR/voices)."""


@voices.command("list")
@click.option("--available", is_flag=True,
              help="List the voices of the voice index (BOLLETTA_VOICE_INDEX_URL) instead.")
def voices_list(available: bool) -> None:
    """List the installed voices, or with --available those the voice index offers."""
    import httpx

    from bolletta.platform.speech.voices import VoiceError, installed_voices, read_index

    settings = load_settings()
    if available:
        try:
            with httpx.Client(timeout=30.0) as client:
                index = read_index(settings.voice_index_url, client)
        except VoiceError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        for voice_id, entry in sorted(index.items()):
            language = entry.get("language", "") if isinstance(entry, dict) else ""
            click.echo(f"{voice_id}\t{language}")
        return
    found = installed_voices(settings.data_path)
    if not found:
        click.echo(f"No voices installed in {settings.data_path / 'voices'}.")
    for voice in found:
        click.echo(f"{voice.voice_id}\t{voice.model}")


@voices.command("install")
@click.argument("voice_id")
def voices_install(voice_id: str) -> None:
    """Download VOICE_ID (such as it_IT-paola-medium) from the voice index and install it."""
    from bolletta.platform.speech.voices import VoiceError, install_voice

    settings = load_settings()
    try:
        voice = install_voice(settings.data_path, voice_id, settings.voice_index_url)
    except VoiceError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"Installed {voice.voice_id} in {voice.model.parent}.")
