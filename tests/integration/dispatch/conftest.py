"""Fixtures of the dispatch tests: one running stack, a test CA, and the fake providers over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bolletta.platform.stack import EmbeddedStack
from tests.fakes.channel_server import LoopbackCA, make_test_ca
from tests.fakes.skebby import FakeSkebby
from tests.fakes.twilio import FakeTwilio
from tests.fakes.whatsapp import FakeWhatsapp
from tests.integration.stack_support import running_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture(scope="package")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    return make_test_ca(Path(tmp_path_factory.mktemp("ca")))


@pytest.fixture
def skebby(test_ca: LoopbackCA) -> Iterator[FakeSkebby]:
    with FakeSkebby(test_ca) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def twilio(test_ca: LoopbackCA) -> Iterator[FakeTwilio]:
    with FakeTwilio(test_ca) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def whatsapp(test_ca: LoopbackCA) -> Iterator[FakeWhatsapp]:
    with FakeWhatsapp(test_ca) as fake:
        yield fake  # type: ignore[misc]
