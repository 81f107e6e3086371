"""Provider parsers kept apart from the network: Skebby's guessed push report, inline e-mail images."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bolletta.channels.base import Attachment, CallbackRequest, ChannelContext, OutgoingMessage
from bolletta.channels.skebby import SkebbyChannel, parse_push_report
from bolletta.channels.smtp import SmtpChannel, SmtpSettings


def test_push_report_maps_status_and_time() -> None:
    report = parse_push_report({"order_id": "ticket-7-1", "status": "DLVRD", "delivery_date": "20261205103000"})
    assert report.status == "delivered"
    assert report.idempotency_key == "ticket-7-1"
    assert report.at == datetime(2026, 12, 5, 9, 30, tzinfo=UTC)  # 10:30 in Rome


def test_push_report_blacklisted_is_an_opt_out() -> None:
    report = parse_push_report({"order_id": "ticket-8-1", "status": "BLACKLISTED"})
    assert (report.status, report.opt_out) == ("failed", True)


def test_push_report_without_order_id_is_malformed() -> None:
    with pytest.raises(ValueError, match="order_id"):
        parse_push_report({"status": "DLVRD"})


def test_push_reports_need_the_tenant_token() -> None:
    settings = SkebbyChannel.settings_from_dict({"user_key": "U", "access_token": "A", "callback_token": "s3cret"})
    channel = SkebbyChannel(settings, ChannelContext(tenant_slug="acme"))
    body = b"order_id=ticket-7-1&status=DLVRD"
    good = CallbackRequest(method="POST", url="https://p/x?token=s3cret", headers={}, body=body,
                           query={"token": "s3cret"})
    bad = CallbackRequest(method="POST", url="https://p/x?token=guess", headers={}, body=body, query={"token": "guess"})
    assert channel.verify_callback(good) and not channel.verify_callback(bad)
    assert channel.parse_callback(good)[0].status == "delivered"


def test_inline_images_are_related_to_the_html_part() -> None:
    channel = SmtpChannel(SmtpSettings(from_address="bollette@acme.example"), ChannelContext(tenant_slug="acme"))
    logo = Attachment(filename="logo.png", content_type="image/png", data=b"\x89PNG fake", content_id="logo@acme")
    message = OutgoingMessage(kind="email", to="c@example.org", subject="S", text="T",
                              html='<img src="cid:logo@acme">', idempotency_key="k", inline_images=(logo,))
    composed = channel.compose(message)
    related = next(part for part in composed.walk() if part.get_content_type() == "multipart/related")
    image = next(part for part in related.walk() if part.get_content_type() == "image/png")
    assert image["Content-ID"] == "<logo@acme>"
    assert image.get_content() == b"\x89PNG fake"
