"""Channel settings forms, encrypted secrets, enabling per tenant, and the shared send rate."""

from __future__ import annotations

import threading
import time

import pytest
from dramatiq.rate_limits.backends import StubBackend

from bolletta.channels.skebby import SkebbyChannel
from bolletta.platform.dispatch import ratelimit
from bolletta.platform.dispatch.channels import channel_catalogue, plugin_for_tenant
from bolletta.platform.dispatch.settings_form import enable_channel, form_fields, save_channel_settings
from bolletta.platform.errors import ConfigurationError, PermissionDenied
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.registry import get_tenant, tenant_config
from tests.fakes.skebby import FakeSkebby
from tests.integration.stack_support import create_test_tenant, new_slug

ADMIN = Staff(user_id=None, username="root", role="platform_admin", tenant=None)


def test_form_fields_follow_the_settings_struct() -> None:
    fields = {field.name: field for field in form_fields("smtp")}
    assert fields["security"].type == "choice" and fields["security"].choices == ("none", "starttls", "tls")
    assert fields["password"].secret and fields["dkim_private_key"].secret
    assert fields["from_address"].required and not fields["port"].required
    assert fields["port"].default == 25
    assert "TCP port" in fields["port"].doc


def test_catalogue_lists_every_channel_with_capabilities() -> None:
    entries = {entry["id"]: entry for entry in channel_catalogue()}
    assert {"smtp", "outbox", "skebby", "twilio", "whatsapp"} <= set(entries)
    assert entries["whatsapp"]["kinds"] == ["whatsapp"]
    assert entries["whatsapp"]["capabilities"]["delivery_reports"] is True
    assert entries["skebby"]["secret_fields"] == ["access_token", "callback_token", "password"]


def test_plugin_is_off_until_enabled_and_secrets_are_encrypted(stack: EmbeddedStack, skebby: FakeSkebby) -> None:
    tenant = create_test_tenant(stack, new_slug("st"), notification_emails=[])
    tenant_admin = Staff(user_id=None, username=f"{tenant}.admin", role="tenant_admin", tenant=tenant)
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    with pytest.raises(ConfigurationError, match="not enabled"):
        plugin_for_tenant(stack.rt, tenant, config, "skebby")
    with pytest.raises(PermissionDenied):
        enable_channel(stack.rt, tenant, "skebby", tenant_admin)
    enable_channel(stack.rt, tenant, "skebby", ADMIN)

    with pytest.raises(ConfigurationError, match="timeout_seconds"):
        save_channel_settings(stack.rt, tenant, "skebby", skebby.settings(timeout_seconds=-1), tenant_admin)
    shown = save_channel_settings(stack.rt, tenant, "skebby", skebby.settings(), tenant_admin)
    assert shown["access_token"] == "•••••• (set)"
    stored = tenant_config(get_tenant(stack.rt.db, tenant)).channel_settings["skebby"]
    assert skebby.access_token not in repr(stored)

    save_channel_settings(stack.rt, tenant, "skebby", skebby.settings(access_token="", sender="Nuovo"), tenant_admin)
    channel = plugin_for_tenant(stack.rt, tenant, tenant_config(get_tenant(stack.rt.db, tenant)), "skebby")
    assert isinstance(channel, SkebbyChannel)
    assert channel.settings.access_token == skebby.access_token  # an empty secret kept the stored one
    assert channel.settings.sender == "Nuovo"


class _Rated:
    """Two channel instances of one account with a rate of 5 messages per second."""

    def __init__(self, fake: FakeSkebby) -> None:
        from bolletta.channels.base import ChannelContext

        settings = SkebbyChannel.settings_from_dict(fake.settings(max_rate=5))
        self.channels = [SkebbyChannel(settings, ChannelContext(tenant_slug=f"t{n}")) for n in range(2)]


def test_rate_is_shared_by_instances_of_one_account(skebby: FakeSkebby) -> None:
    ratelimit.use_backend(StubBackend())
    try:
        rated = _Rated(skebby)
        stamps: list[float] = []
        lock = threading.Lock()

        def worker(channel: SkebbyChannel) -> None:
            for _ in range(6):
                ratelimit.wait_turn(channel)
                with lock:
                    stamps.append(time.time())

        threads = [threading.Thread(target=worker, args=(channel,)) for channel in rated.channels]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        ratelimit.use_backend(None)

    assert len(stamps) == 12
    per_second: dict[int, int] = {}
    for stamp in stamps:
        per_second[int(stamp)] = per_second.get(int(stamp), 0) + 1
    assert max(per_second.values()) <= 5
    assert len(per_second) >= 3
