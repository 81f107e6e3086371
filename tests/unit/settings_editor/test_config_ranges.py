from __future__ import annotations

import logging

import msgspec
import pytest

from bolletta.tenants.config import TenantConfig, decode_config


def test_stored_value_outside_range_clamped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bolletta.tenants.config"):
        config = decode_config({"ticket_validity_days": -7, "test_batch_size": 999, "fallback_delay_minutes": 30})
        decode_config({"ticket_validity_days": -7})

    assert config.ticket_validity_days == 1
    assert config.test_batch_size == 50
    assert config.fallback_delay_minutes == 30
    warnings = [record.getMessage() for record in caplog.records if "ticket_validity_days" in record.getMessage()]
    assert warnings == ["stored tenant setting ticket_validity_days=-7 is outside 1 to 365; 1 is used until it is "
                        "saved again"]


def test_new_value_outside_range_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int` >= 1 - at `\$.ticket_validity_days`"):
        msgspec.convert({"ticket_validity_days": 0}, TenantConfig)
