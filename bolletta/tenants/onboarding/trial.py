"""Test sends from the wizard: one sample message through the channel plugin a draft chose.

The message carries made-up bill data, never a customer's, and is marked as a test. It goes
through the plugin exactly as dispatch would send it, with the draft's texts, sender, WhatsApp
template and e-mail image. The page then shows whether the provider accepted it, or the provider's error.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import phonenumbers

from bolletta.channels.base import Attachment, Channel, ChannelContext, OutgoingMessage
from bolletta.channels.errors import ChannelConfigError, ChannelError
from bolletta.channels.outbox import OutboxChannel
from bolletta.platform import clock
from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.dispatch import secrets as channel_secrets
from bolletta.platform.dispatch.channels import installed_channels, smtp_defaults
from bolletta.platform.dispatch.rendering import EMAIL_HEADER_CID, provider_template, render_message, template_params
from bolletta.platform.dispatch.shared_accounts import find_account
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.links import ticket_link
from bolletta.tenants.onboarding import checks, steps
from bolletta.tenants.onboarding.activation import build_config
from bolletta.tenants.onboarding.drafts import Draft

logger = logging.getLogger(__name__)

SAMPLE_TOKEN = str(checks.SAMPLE_FIELDS["link"]).rsplit("/", 1)[-1]
"""Made-up ticket token of the link in test messages; no ticket has it, so the link opens no bill."""
TEST_MARKER = "[PROVA] "
"""Put before a test SMS or WhatsApp text that does not start with a marker of its own."""
TEXT_MARKERS = ("[TEST]", TEST_MARKER.strip())
KEPT_IN_PLATFORM = T_("This plugin keeps the messages in the platform instead of sending them, so it cannot be tried. "
                      "Choose a provider's plugin to send a test.")


@dataclass(frozen=True)
class TrialOutcome:
    """Outcome of a test send: ``ok`` with the provider's message id, or the problem."""

    ok: bool
    message: Text


def sample_bill() -> Bill:
    """Return an unsaved bill with made-up data, the one every test message describes."""
    return Bill(document_number=str(checks.SAMPLE_FIELDS["document_number"]), document_type="TD01",
                service="electricity", due_date=date(2026, 12, 31), amount_due=Decimal("84.20"), currency="EUR",
                customer_name=str(checks.EMAIL_SAMPLE_FIELDS["customer_name"]), language=None)


def trial_recipients(draft: Draft, kind: str, typed: str) -> list[str]:
    """Return where the test goes: the address the admin typed, else the draft's test recipients of ``kind``."""
    if typed.strip():
        return [typed.strip()]
    flow = draft.answers["flow"]
    assert isinstance(flow, steps.Flow)
    return [recipient.address for recipient in flow.test_recipients if recipient.channel == kind]


def send_trial(rt: Runtime, draft: Draft, kind: str, typed: str, actor: str) -> list[TrialOutcome]:
    """Send one sample ``kind`` message to each trial recipient; return one outcome per recipient."""
    recipients = trial_recipients(draft, kind, typed)
    if not recipients:
        return [TrialOutcome(False, T_("Type a recipient, or add test recipients for {kind} in the flow step.",
                                       kind=kind))]
    wrong = [checks.recipient_problem(kind, address) for address in recipients]
    if any(wrong):
        return [TrialOutcome(False, problem) for problem in wrong if problem is not None]
    if kept_in_platform(draft, kind):
        return [TrialOutcome(False, KEPT_IN_PLATFORM)]
    failing = text_problems(rt, draft, kind)
    if failing:
        return failing
    try:
        channel = draft_channel(rt, draft, kind)
    except ConfigurationError as exc:
        return [TrialOutcome(False, T_("The channel cannot send: {error}", error=str(exc)))]
    link = trial_link(rt, draft)
    outcomes = [_send_one(channel, draft, kind, address, link) for address in recipients]
    with rt.db.platform_session() as session:
        session.add(PlatformAuditEntry(
            at=clock.now(), actor=actor, action="onboarding.test_sent", target=f"draft:{draft.id}",
            detail={"kind": kind, "plugin": channel.id, "sent": sum(o.ok for o in outcomes),
                    "failed": sum(not o.ok for o in outcomes)}))
        session.commit()
    return outcomes


def kept_in_platform(draft: Draft, kind: str) -> bool:
    """Return whether the draft's plugin for ``kind`` keeps messages in the platform (``outbox``) instead of sending."""
    senders = draft.answers["senders"]
    assert isinstance(senders, steps.Senders)
    plugin = installed_channels().plugins.get(senders.channel_plugins.get(kind, ""))
    return plugin is not None and issubclass(plugin, OutboxChannel)


def text_problems(rt: Runtime, draft: Draft, kind: str) -> list[TrialOutcome]:
    """Return one outcome per saved ``kind`` text that fails the messages step's checks.

    A test must show what customers would get, so a text that fails its checks is never sent.
    """
    messages = draft.answers["messages"]
    problems = checks.messages_problems(messages, rt.db, draft.id)  # type: ignore[arg-type]
    return [TrialOutcome(False, T_("No test is sent because the saved text {field} fails its check: {problem} "
                                   "Correct it in the message texts step.", field=key, problem=problem))
            for key, problem in problems.items() if _message_kind(key) == kind]


def _message_kind(problem_key: str) -> str:
    """Return the kind of message a problem of the messages step is about (``texts.it.sms``: ``sms``)."""
    if problem_key.startswith("whatsapp_templates."):
        return "whatsapp"
    part = problem_key.split(".")[-1]
    return "email" if part.startswith("email") else part


def trial_link(rt: Runtime, draft: Draft) -> str:
    """Return the sample link of the draft's messages: its own link domain, or the platform's host and its id."""
    company = draft.answers["company"]
    assert isinstance(company, steps.Company)
    return ticket_link(rt.settings, company.slug or f"draft-{draft.id}", build_config(draft), SAMPLE_TOKEN)


def draft_channel(rt: Runtime, draft: Draft, kind: str) -> Channel:
    """Build the plugin the draft chose for ``kind`` with the draft's settings, or its shared account's.

    A test message sent through a shared account is not counted as the account's usage.

    Raises:
        ConfigurationError: no plugin is chosen, it is not installed, the chosen shared account is
            missing or uses another plugin, or the settings do not validate.
    """
    senders = draft.answers["senders"]
    assert isinstance(senders, steps.Senders)
    plugin_id = senders.channel_plugins.get(kind, "")
    plugin = installed_channels().plugins.get(plugin_id)
    if plugin is None:
        raise ConfigurationError(f"no installed channel plugin {plugin_id!r} is chosen for {kind} messages")
    raw = dict(senders.channel_settings.get(plugin_id, {}))
    account_name = senders.channel_accounts.get(kind)
    if account_name:
        account = find_account(rt.db, account_name)
        if account is None or account.plugin != plugin_id:
            raise ConfigurationError(f"the shared account {account_name!r} chosen for {kind} messages is missing "
                                     f"or does not use {plugin_id!r}; choose another account in the senders step")
        raw = dict(account.settings)
    if plugin_id == "smtp":
        raw = smtp_defaults(rt, build_config(draft)) | raw
    try:
        settings = plugin.settings_from_dict(channel_secrets.reveal(rt, raw, plugin.secret_fields))
        return plugin(settings, ChannelContext(tenant_slug=f"draft-{draft.id}"))
    except ChannelConfigError as exc:
        raise ConfigurationError(str(exc)) from exc


def _send_one(channel: Channel, draft: Draft, kind: str, address: str, link: str) -> TrialOutcome:
    problem = checks.recipient_problem(kind, address)
    if problem is not None:
        return TrialOutcome(False, problem)
    try:
        result = channel.send(sample_message(draft, kind, address, link))
    except (ChannelError, OSError) as exc:
        logger.warning("onboarding: test %s message of draft %d through %s failed: %s", kind, draft.id,
                       channel.id, type(exc).__name__)
        return TrialOutcome(False, T_("The provider did not take the test message: {error}", error=str(exc)))
    if result.status == "rejected":
        return TrialOutcome(False, T_("The provider rejected the test message: {error}", error=result.error or ""))
    return TrialOutcome(True, T_("Test message sent to {address} (provider id {id}).", address=address,
                                 id=result.provider_message_id or "-"))


def sample_message(draft: Draft, kind: str, address: str, link: str) -> OutgoingMessage:
    """Return the test message to ``address``, rendered from the draft's texts and settings.

    An SMS or WhatsApp text gets :data:`TEST_MARKER` in front unless it already starts with a marker,
    because a tenant's own text may ignore ``is_test``.
    """
    config = build_config(draft)
    company, messages = draft.answers["company"], draft.answers["messages"]
    assert isinstance(company, steps.Company) and isinstance(messages, steps.Messages)
    utility = config.branding.display_name or company.legal_name or "Bolletta Smart"
    bill = sample_bill()
    rendered = render_message(kind, bill=bill, config=config, utility=utility, link=link,
                              expires_at=clock.now() + timedelta(days=config.ticket_validity_days),
                              is_test=True)
    text = rendered.text
    if kind != "email" and not text.startswith(TEXT_MARKERS):
        text = TEST_MARKER + text
    if kind != "email":
        number = phonenumbers.parse(address, "IT")
        address = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    images: tuple[Attachment, ...] = ()
    image = messages.email_header
    if kind == "email" and rendered.html and image is not None:
        extension = "png" if image.content_type == "image/png" else "jpg"
        images = (Attachment(filename=f"header.{extension}", content_type=image.content_type, data=image.data,
                             content_id=EMAIL_HEADER_CID),)
    return OutgoingMessage(
        kind=kind, to=address, text=text, subject=rendered.subject, html=rendered.html,
        idempotency_key=f"trial-{secrets.token_hex(12)}", tenant_slug=f"draft-{draft.id}",
        sender=(config.email_sender if kind == "email" else config.sms_sender) or None,
        link=link, language=rendered.language,
        template_params=template_params(bill, config, utility, rendered.language),
        template=provider_template(config, kind, rendered.language), inline_images=images)
