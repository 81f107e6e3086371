"""Piper voice files in the data directory: listing them and installing them from a voice index.

A voice is a model file ``<id>.onnx`` and its configuration ``<id>.onnx.json`` in
``<data_dir>/voices/``. The index (``BOLLETTA_VOICE_INDEX_URL``) is a JSON object mapping voice ids
to ``{"language": "en_US", "files": {"<id>.onnx": {"url": ..., "sha256": ...}, ...}}``; a download
whose SHA-256 differs from the index is rejected and nothing is installed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from bolletta.platform.errors import BollettaError

VOICE_ID = re.compile(r"^[A-Za-z]{2,3}_[A-Za-z]{2}-[A-Za-z0-9_]+-(x_low|low|medium|high)$")
"""Piper's voice naming: ``<language>_<REGION>-<name>-<quality>``, such as ``it_IT-paola-medium``."""
DOWNLOAD_TIMEOUT_SECONDS = 60.0
MAX_VOICE_BYTES = 200 * 1024 * 1024


class VoiceError(BollettaError):
    """Raised when a voice cannot be found, downloaded or verified."""


@dataclass(frozen=True)
class InstalledVoice:
    voice_id: str
    model: Path
    config: Path


def voices_dir(data_dir: Path) -> Path:
    return data_dir / "voices"


def installed_voices(data_dir: Path) -> list[InstalledVoice]:
    """List the voices whose model and configuration are both in the data directory, by id."""
    folder = voices_dir(data_dir)
    if not folder.is_dir():
        return []
    found = []
    for model in sorted(folder.glob("*.onnx")):
        config = model.with_name(model.name + ".json")
        if config.is_file():
            found.append(InstalledVoice(voice_id=model.stem, model=model, config=config))
    return found


def find_voice(data_dir: Path, voice_id: str) -> InstalledVoice | None:
    """Return the installed voice ``voice_id``, else ``None``."""
    return next((voice for voice in installed_voices(data_dir) if voice.voice_id == voice_id), None)


def read_index(index_url: str, client: httpx.Client) -> dict[str, dict[str, object]]:
    """Download and decode the voice index at ``index_url``."""
    if not index_url:
        raise VoiceError("No voice index is set. Set BOLLETTA_VOICE_INDEX_URL to the URL of a voice index.")
    try:
        response = client.get(index_url)
        response.raise_for_status()
        index = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise VoiceError(f"Reading the voice index {index_url} failed: {exc}. Check the URL and try again.") from exc
    if not isinstance(index, dict):
        raise VoiceError(f"The voice index {index_url} is not a JSON object of voices.")
    return index


def install_voice(data_dir: Path, voice_id: str, index_url: str, client: httpx.Client | None = None) -> InstalledVoice:
    """Download ``voice_id``'s files from the index, check their SHA-256 and install them together."""
    if not VOICE_ID.match(voice_id):
        raise VoiceError(f"{voice_id!r} is not a Piper voice id such as it_IT-paola-medium.")
    own_client = client is None
    http = client or httpx.Client(timeout=DOWNLOAD_TIMEOUT_SECONDS, follow_redirects=True)
    try:
        entry = read_index(index_url, http).get(voice_id)
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, dict):
            raise VoiceError(f"The voice index has no voice {voice_id}. Run `bolletta voices list --available`.")
        wanted = {f"{voice_id}.onnx", f"{voice_id}.onnx.json"}
        if not wanted <= set(files):
            raise VoiceError(f"The index entry of {voice_id} lacks {', '.join(sorted(wanted - set(files)))}.")
        contents = {name: _download(http, index_url, name, files[name]) for name in sorted(wanted)}
    finally:
        if own_client:
            http.close()
    folder = voices_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        partial = folder / (name + ".part")
        partial.write_bytes(content)
        partial.replace(folder / name)
    voice = find_voice(data_dir, voice_id)
    assert voice is not None
    return voice


def _download(client: httpx.Client, index_url: str, name: str, spec: object) -> bytes:
    if not isinstance(spec, dict) or not isinstance(spec.get("url"), str) or not isinstance(spec.get("sha256"), str):
        raise VoiceError(f"The index entry of {name} needs a url and a sha256.")
    url = urljoin(index_url, spec["url"])
    try:
        with client.stream("GET", url) as response:
            response.raise_for_status()
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_VOICE_BYTES:
                    raise VoiceError(f"{name} is larger than {MAX_VOICE_BYTES // (1024 * 1024)} MiB; not installed.")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise VoiceError(f"Downloading {name} from {url} failed: {exc}.") from exc
    content = b"".join(chunks)
    digest = hashlib.sha256(content).hexdigest()
    if digest != spec["sha256"].lower():
        raise VoiceError(f"{name} has SHA-256 {digest}, but the index expects {spec['sha256']}. Nothing was installed.")
    return content
