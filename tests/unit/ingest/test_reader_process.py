"""Reading a flow in a second process gives what reading it in the caller's process gives."""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import pickle
import signal
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bolletta.platform.demo.bulk_flow import write_bulk_flow
from bolletta.platform.i18n.message import T_, render
from bolletta.platform.ingest import reader_process
from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.reader_process import ReaderProcessDied, ReaderProcessError, iter_flow_in_process
from bolletta.platform.ingest.records import IgnoredEntry, ParsedBill
from bolletta.platform.ingest.stream import iter_flow


@pytest.fixture(scope="module")
def samples_archive(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every FatturaPA sample (valid, invalid and malicious) in one archive."""
    folder = samples_dir / "fatturapa"
    path = tmp_path_factory.mktemp("samples") / "samples.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for sample in sorted(folder.rglob("*")):
            if sample.is_file():
                archive.write(sample, sample.relative_to(folder).as_posix())
    return path


@pytest.fixture(scope="module")
def bulk_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bulk") / "flow.zip"
    write_bulk_flow(path, 450, pdf_every=10, pdf_bytes=2048)
    return path


def test_samples_give_the_same_items(samples_archive: Path) -> None:
    serial = list(iter_flow(samples_archive, "samples.zip", ArchiveLimits()))
    parallel = list(iter_flow_in_process(samples_archive, "samples.zip", ArchiveLimits()))

    assert [type(item).__name__ for item in parallel] == [type(item).__name__ for item in serial]
    assert parallel == serial
    assert any(isinstance(item, ParsedBill) for item in serial)


def test_options_reach_the_child(samples_archive: Path) -> None:
    options: dict[str, Any] = {
        "series_pattern": r"(?P<series>[A-Z]+)?.*", "customer_code_source": "id_documento_contratto",
        "flow_formats": ["fatturapa"],
    }
    serial = list(iter_flow(samples_archive, "samples.zip", ArchiveLimits(), **options))
    parallel = list(iter_flow_in_process(samples_archive, "samples.zip", ArchiveLimits(), **options))

    assert parallel == serial


def test_bulk_flow_keeps_order_and_pdfs(bulk_archive: Path) -> None:
    serial = list(iter_flow(bulk_archive, "flow.zip", ArchiveLimits()))
    parallel = list(iter_flow_in_process(bulk_archive, "flow.zip", ArchiveLimits()))

    assert len(parallel) > reader_process.BATCH_ITEMS * 4
    assert parallel == serial


def test_archive_rejection_is_the_same(bulk_archive: Path) -> None:
    limits = ArchiveLimits(max_total_bytes=200_000)
    serial: list[Any] = []
    with pytest.raises(ArchiveRejected) as serial_error:
        serial.extend(iter_flow(bulk_archive, "flow.zip", limits))
    parallel: list[Any] = []
    with pytest.raises(ArchiveRejected) as parallel_error:
        parallel.extend(iter_flow_in_process(bulk_archive, "flow.zip", limits))

    assert parallel == serial
    assert render(parallel_error.value.text, "en") == render(serial_error.value.text, "en")


def test_closing_early_ends_the_child(bulk_archive: Path) -> None:
    items = iter_flow_in_process(bulk_archive, "flow.zip", ArchiveLimits())
    next(items)
    children = multiprocessing.active_children()
    items.close()

    assert not any(child.name == "bolletta-flow-reader" and child.is_alive() for child in children)


def test_positions_and_plugins_rejected(bulk_archive: Path) -> None:
    with pytest.raises(ValueError, match="positions or plugins"):
        next(iter_flow_in_process(bulk_archive, "flow.zip", ArchiveLimits(), positions={}))


class _Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle this error")


def _failing_flow(*args: Any, **kwargs: Any) -> Iterator[Any]:
    raise _Unpicklable("reader bug")
    yield


def test_unpicklable_error_sent_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(reader_process, "iter_flow", _failing_flow)
    receiving, sending = multiprocessing.Pipe(duplex=False)

    reader_process._read_and_send(sending, tmp_path / "flow.zip", "flow.zip", ArchiveLimits(), {})
    kind, error = pickle.loads(receiving.recv_bytes())

    assert kind == "error"
    assert isinstance(error, ReaderProcessError)
    assert error.error_name == "_Unpicklable"


def _bill(number: str, **changes: Any) -> ParsedBill:
    fields: dict[str, Any] = {
        "source_file": f"{number}.xml", "document_number": number, "issue_date": date(2026, 11, 5),
        "year": 2026, "amount_due": Decimal("10.50"), "customer_code": "RSSMRA80A01H501U",
        "customer_name": "Mario Rossi",
    }
    return ParsedBill(**(fields | changes))


def test_pack_keeps_order_and_types() -> None:
    batch: list[Any] = [
        _bill("1"),
        IgnoredEntry(file="notes.txt", reason=T_("not a bill")),
        _bill("2", details={"tariff": Decimal("0.10")}),
        _bill("3", details={"bands": ("F1", "F2")}),
        _bill("4", warnings=[T_("check {value}", value=True)]),  # type: ignore[arg-type]
        _bill("5", total=Decimal("1.10"), details={"nested": {"list": [1, 2.5, None, "x"]}}),
    ]

    count, positions, _, others = packed = reader_process._pack(batch)
    unpacked: list[Any] = reader_process._unpack(packed)

    assert count == len(batch)
    assert positions == [0, 5]  # the others carry values MessagePack would turn into strings or lists
    assert [position for position, _ in others] == [1, 2, 3, 4]
    assert unpacked == batch
    assert [type(item) for item in unpacked] == [type(item) for item in batch]
    assert type(unpacked[2].details["tariff"]) is Decimal
    assert type(unpacked[3].details["bands"]) is tuple
    assert str(unpacked[5].total) == "1.10"


@pytest.mark.parametrize("count", [0, 1, 15, 16, 300])
def test_join_array_matches_msgpack(count: int) -> None:
    items = [f"item {index}" for index in range(count)]

    joined = reader_process._join_array([msgspec.msgpack.encode(item) for item in items])

    assert joined == msgspec.msgpack.encode(items)


def test_pipe_buffer_widened() -> None:
    receiving, sending = multiprocessing.Pipe(duplex=False)

    reader_process._widen(receiving)

    if hasattr(fcntl, "F_GETPIPE_SZ"):
        assert fcntl.fcntl(receiving.fileno(), fcntl.F_GETPIPE_SZ) == reader_process.PIPE_BYTES
    receiving.close()
    sending.close()


def test_finish_logs_reader_usage(bulk_archive: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=reader_process.__name__):
        list(iter_flow_in_process(bulk_archive, "flow.zip", ArchiveLimits()))

    [record] = [record for record in caplog.records if hasattr(record, "reader_usage")]
    assert record.reader_usage["cpu_seconds"] > 0
    assert record.reader_usage["peak_rss_mb"] > 0


def test_killed_child_raises(bulk_archive: Path) -> None:
    items = iter_flow_in_process(bulk_archive, "flow.zip", ArchiveLimits())
    next(items)
    [child] = [child for child in multiprocessing.active_children() if child.name == "bolletta-flow-reader"]
    os.kill(child.pid or 0, signal.SIGKILL)

    with pytest.raises(ReaderProcessDied, match="exit code -9"):
        for _ in items:
            pass
