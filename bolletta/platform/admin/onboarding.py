"""The onboarding wizard's pages in the operator console: drafts, one form per step, activation.

The logic is in :mod:`bolletta.tenants.onboarding`; this module turns each step's form into the
step's values and back. :data:`FORMS` lists the inputs of every step. A dotted name (``branding.
primary_color``) fills a nested setting, ``lines`` inputs take one value per line, and
``recipients`` lines read ``<channel> <address>``. Saving a step that passes its checks opens the next
one; a step with problems is shown again with each problem next to its field.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
import msgspec
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect

from bolletta.channels.sms import measure
from bolletta.platform.admin.access import admin_of, admin_page, require_platform_admin
from bolletta.platform.admin.plugins import read_form
from bolletta.platform.errors import NotFound
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.portal.language import PAGE_LANGUAGES
from bolletta.platform.speech.voices import installed_voices
from bolletta.platform.web.context import rt
from bolletta.tenants.onboarding import credentials, drafts, steps
from bolletta.tenants.onboarding.activation import ActivationError, activate
from bolletta.tenants.onboarding.checks import SERVICE_NAMES_IT, vat_note, voice_problems
from bolletta.tenants.onboarding.credentials import channel_fields, gateway_fields
from bolletta.tenants.onboarding.line_numbers import line_problems, typed_line_numbers
from bolletta.tenants.onboarding.plugin_labels import CHOICE_LABELS, SETTING_LABELS
from bolletta.tenants.onboarding.previews import DEFAULT_COLOURS, look_preview, message_previews
from bolletta.tenants.onboarding.trial import kept_in_platform, trial_link

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass(frozen=True)
class Input:
    """One input of a step's form."""

    name: str
    """The step field, dotted for a nested one."""
    label: str
    """English msgid of the label."""
    kind: str = "text"
    """``text``, ``email``, ``number``, ``password``, ``checkbox``, ``lines``, ``recipients``, ``color``,
    ``textarea``, ``choice`` or ``voice`` (a choice of the installed read-aloud voices, empty for none)."""
    default: Any = None
    """Value the form shows while nothing is stored. Only checkboxes take one (a plugin setting's
    default), because an unticked box reads as ``False`` while an empty text field keeps the default."""
    choices: tuple[tuple[str, str], ...] = ()
    """For a ``choice`` (a select): each value with the English msgid of its option label."""


def _message_inputs() -> list[Input]:
    inputs = []
    for language in PAGE_LANGUAGES:
        template = f"whatsapp_templates.{language}"
        inputs += [Input(f"texts.{language}.sms", N_("SMS text"), "textarea"),
                   Input(f"texts.{language}.email_subject", N_("E-mail subject")),
                   Input(f"texts.{language}.email_text", N_("E-mail text"), "textarea"),
                   Input(f"texts.{language}.email_html", N_("E-mail HTML (optional)"), "textarea"),
                   Input(f"{template}.name", N_("Approved WhatsApp template")),
                   Input(f"{template}.language_code", N_("Language code of the template")),
                   Input(f"{template}.category", N_("Category of the template at Meta")),
                   Input(f"{template}.body_parameters", N_("Bill field of each template parameter, one per line"),
                         "lines"),
                   Input(f"{template}.url_button", N_("The template has a URL button that opens the link"),
                         "checkbox")]
    return inputs


FORMS: dict[str, list[Input]] = {
    "company": [Input("legal_name", N_("Legal name")), Input("vat_number", N_("VAT number (partita IVA)")),
                Input("slug", N_("Id in links and storage")),
                Input("services", N_("Services, one per line: electricity, gas, water"), "lines"),
                Input("notification_emails", N_("Addresses for job e-mails, one per line"), "lines")],
    "look": [Input("branding.display_name", N_("Name shown to customers")),
             Input("branding.primary_color", N_("Main colour"), "color"),
             Input("branding.accent_color", N_("Accent colour"), "color"),
             Input("branding.text_on_primary", N_("Text on the main colour"), "color"),
             Input("branding.support_phone", N_("Customer service phone")),
             Input("branding.support_email", N_("Customer service e-mail"), "email"),
             Input("branding.website", N_("Website")), Input("link_domain", N_("Domain of the customer links")),
             Input("font", N_("Font")), Input("section_order", N_("Order of the sections, one per line"), "lines"),
             Input("hidden_sections", N_("Hidden sections, one per line"), "lines"),
             Input("privacy_url", N_("Privacy notice link"))],
    "messages": _message_inputs(),
    "senders": [Input("channel_plugins.sms", N_("SMS plugin")),
                Input("channel_plugins.whatsapp", N_("WhatsApp plugin")),
                Input("channel_plugins.email", N_("E-mail plugin")), Input("sms_sender", N_("SMS alias")),
                Input("email_sender", N_("E-mail sender"), "email"),
                Input("email_reply_to", N_("Reply-To address"), "email"),
                Input("channel_accounts.sms", N_("Shared SMS account (empty for the utility's own)")),
                Input("channel_accounts.whatsapp", N_("Shared WhatsApp account (empty for the utility's own)")),
                Input("channel_accounts.email", N_("Shared e-mail account (empty for the utility's own)"))],
    "languages": [Input("languages", N_("Languages of the bill pages, one per line"), "lines"),
                  *[Input(f"voices.{language}", N_("Read-aloud voice"), "voice") for language in PAGE_LANGUAGES]],
    "contacts": [Input("contact_sources", N_("Where contacts come from (flow, job_csv, directory), one per line"),
                       "lines"),
                 Input("channel_mode", N_("Channel rule (all or priority)")),
                 Input("channel_priority", N_("Channels in order of preference, one per line"), "lines"),
                 Input("fallback_delay_minutes", N_("Minutes before the next channel"), "number")],
    "payments": [Input("enabled_gateways", N_("Payment gateways, one per line"), "lines")],
    "flow": [Input("flow_formats", N_("Flow formats, one per line"), "lines"),
             Input("sftp_username", N_("SFTP username")), Input("sftp_password", N_("SFTP password"), "password"),
             Input("sftp_public_keys", N_("SSH public keys, one per line"), "lines"),
             Input("ticket_validity_days", N_("Days a link stays valid"), "number"),
             Input("test_recipients", N_("Test recipients, one per line: channel and address"), "recipients"),
             Input("quiet_hours.start", N_("Quiet hours start")), Input("quiet_hours.end", N_("Quiet hours end")),
             Input("quiet_hours.timezone", N_("Time zone of the quiet hours")),
             Input("quiet_hours.kinds", N_("Kinds of message that wait during quiet hours, one per line"), "lines"),
             Input("may_start_dispatch", N_("The utility starts its own dispatches"), "checkbox"),
             Input("retention.bill_months", N_("Months bill data is kept after expiry or payment"), "number"),
             Input("retention.event_months", N_("Months customer events are kept"), "number"),
             Input("retention.audit_years", N_("Years the audit trail is kept"), "number")],
    "staff": [Input("username", N_("Username of the first administrator")),
              Input("email", N_("Invitation e-mail address"), "email"), Input("full_name", N_("Full name"))],
}
"""The inputs of each step's form, in the wizard's order of steps."""

SENDER_KINDS = ("email", "sms", "whatsapp")
"""Kinds of message the senders step offers a test send for."""

STEP_TITLES = {"company": N_("Company"), "look": N_("Branding and layout"), "messages": N_("Message texts"),
               "senders": N_("Senders"), "languages": N_("Languages"), "contacts": N_("Contacts and channel rules"),
               "payments": N_("Payments"), "flow": N_("Flow, SFTP and dispatch"), "staff": N_("First administrator")}

ACTIVATION_TITLES = STEP_TITLES | {
    "activation": N_("Activation"), "tenant": N_("database and settings"), "sftp": N_("SFTP area and login"),
    "storage": N_("storage"), "admin": N_("first administrator account"), "invitation": N_("invitation e-mail")}
"""Titles of the steps an activation may stop at: the wizard's steps and the provisioning steps."""


def answers_from_form(step: str, data: dict[str, str]) -> dict[str, Any]:
    """Turn a step's submitted form into the nested values :func:`drafts.save_step` takes.

    An input missing from ``data`` is left out, so the step's default applies; an unticked checkbox
    is missing too and reads as ``False``.
    """
    answers: dict[str, Any] = {}
    for item in FORMS[step]:
        if item.name not in data and item.kind != "checkbox":
            continue  # a browser sends every input; a missing one keeps the step's default
        raw = data.get(item.name, "")
        value: Any
        if item.kind == "checkbox":
            value = bool(raw)
        elif item.kind == "lines":
            value = [line.strip() for line in raw.splitlines() if line.strip()]
            if item.name == "services":
                value = [SERVICE_NAMES_IT.get(service.lower(), service) for service in value]
        elif item.kind == "recipients":
            value = [_recipient(line) for line in raw.splitlines() if line.strip()]
        elif item.kind == "number":
            value = raw.strip() or "0"
        else:
            value = raw.strip() if item.kind != "textarea" else raw.strip("\r\n")
        if (step == "messages" or item.kind == "voice") and not value:
            continue
        target = answers
        *parents, leaf = item.name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return answers


def _recipient(line: str) -> dict[str, str]:
    """Read a ``<channel> <address>`` line; a line without a space keeps it whole as the channel.

    Both keys are always set, so one malformed line reaches the flow step's checks, which name it,
    and the other fields are still checked.
    """
    channel, _, address = line.strip().partition(" ")
    return {"channel": channel, "address": address.strip()}


def plugin_inputs(answers: msgspec.Struct) -> list[Input]:
    """Return the settings inputs of each channel or gateway plugin chosen in the step's values."""
    if isinstance(answers, steps.Senders):
        prefix, ids, describe = "channel_settings", sorted(set(answers.channel_plugins.values())), channel_fields
    elif isinstance(answers, steps.Payments):
        prefix, ids, describe = "gateway_settings", list(answers.enabled_gateways), gateway_fields
    else:
        return []
    inputs = []
    for plugin_id in ids:
        for item in describe(plugin_id):
            kind = "password" if item.secret else {"bool": "checkbox", "list": "lines", "choice": "choice"}.get(
                item.type, "text")
            choices = tuple((value, CHOICE_LABELS.get(value, value)) for value in item.choices)
            inputs.append(Input(f"{prefix}.{plugin_id}.{item.name}", SETTING_LABELS.get(item.name, item.name), kind,
                                default=item.default if kind in ("checkbox", "choice") else None, choices=choices))
    return inputs


def _typed_beyond_defaults(fields: list[Any], typed: dict[str, str]) -> bool:
    """Return whether the admin typed a plugin setting other than the value the form shows by default.

    A select box or a pre-filled number always submits a value, which alone is no reason to call
    the provider.
    """
    return any(value and value != ("" if item.default is None else str(item.default))
               for item in fields for value in [typed[item.name]])


def read_plugin_settings(draft: drafts.Draft, step: str, data: dict[str, str],
                         answers: dict[str, Any]) -> tuple[dict[str, Text], dict[str, Text]]:
    """Put the typed plugin settings of ``step`` into ``answers``; return the problems and notes.

    Only plugins with something typed are tried on their provider; the others are just validated.
    """
    chosen = steps.convert_step(step, answers)
    if isinstance(chosen, steps.Senders):
        prefix, ids, describe, settle = ("channel_settings", sorted(set(chosen.channel_plugins.values())),
                                         channel_fields, credentials.channel_settings)
    elif isinstance(chosen, steps.Payments):
        prefix, ids, describe, settle = ("gateway_settings", list(chosen.enabled_gateways), gateway_fields,
                                         credentials.gateway_settings)
    else:
        return {}, {}
    before: dict[str, dict[str, Any]] = getattr(draft.answers[step], prefix)
    kept: dict[str, dict[str, Any]] = {}
    problems: dict[str, Text] = {}
    notes: dict[str, Text] = {}
    for plugin_id in ids:
        fields = describe(plugin_id)
        if not fields and plugin_id not in before:
            continue
        typed = {item.name: data.get(f"{prefix}.{plugin_id}.{item.name}", "") for item in fields}
        values, unreadable = read_form(fields, typed)
        problems |= {f"{prefix}.{plugin_id}.{name}": credentials.typed_setting_problem(fields, name, typed[name])
                     or T_("This value cannot be read; check its format.") for name in unreadable}
        # Settings with an unreadable value are not tried on the provider: they would go out incomplete.
        check = _typed_beyond_defaults(fields, typed) and not unreadable
        outcome = settle(rt(), draft.id, plugin_id, values, before.get(plugin_id, {}), check=check)
        kept[plugin_id] = outcome.stored
        problems |= outcome.problems
        notes |= outcome.notes
    answers[prefix] = kept
    return problems, notes


def form_values(step: str, answers: msgspec.Struct, inputs: list[Input] | None = None) -> dict[str, str]:
    """Return the stored values of a step as the strings its form shows (never a password or secret)."""
    plain = msgspec.to_builtins(answers)
    shown: dict[str, str] = {}
    for item in inputs if inputs is not None else FORMS[step] + plugin_inputs(answers):
        value: Any = plain
        for part in item.name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            value = item.default
        if item.kind == "password" or value is None:
            shown[item.name] = ""
        elif item.kind == "recipients":
            shown[item.name] = "\n".join(f"{entry['channel']} {entry['address']}" for entry in value)
        elif isinstance(value, list):
            shown[item.name] = "\n".join(str(entry) for entry in value)
        elif isinstance(value, bool):
            shown[item.name] = "1" if value else ""
        else:
            shown[item.name] = str(value)
    return shown


def sms_lengths(answers: msgspec.Struct) -> dict[str, Any]:
    """Return the encoding, characters and parts of each language's SMS text, for the messages step."""
    texts = msgspec.to_builtins(answers).get("texts", {})
    return {language: measure(parts["sms"]) for language, parts in texts.items() if parts.get("sms")}


def _load(draft_id: int) -> drafts.Draft:
    try:
        return drafts.load_draft(rt().db, draft_id)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc


PLUGIN_SETTINGS = {"senders": "channel_settings", "payments": "gateway_settings"}
"""The steps that take plugin settings, and the field that keeps them."""

PREVIEW_STEPS = ("look", "messages")
"""Steps shown with a live preview beside the form."""


def preview_context(draft: drafts.Draft, step: str, answers: msgspec.Struct) -> dict[str, Any]:
    """Return what the preview fragment of ``step`` shows for ``answers`` (nothing for other steps).

    The previews take the draft's own link (see :func:`trial_link`) and name; the sample utility's
    name stays only while the draft has none.
    """
    company = draft.answers["company"]
    assert isinstance(company, steps.Company)
    if isinstance(answers, steps.Look):
        look = look_preview(answers, company.legal_name)
        query = urlencode({name: getattr(answers.branding, name) for name in DEFAULT_COLOURS} | {"font": answers.font})
        return {"look": look, "look_css": f"/admin/onboarding/{draft.id}/preview.css?{query}"}
    if isinstance(answers, steps.Messages):
        saved_look = draft.answers["look"]
        assert isinstance(saved_look, steps.Look)
        utility = saved_look.branding.display_name or company.legal_name
        if utility:
            return {"messages": message_previews(answers, trial_link(rt(), draft), utility)}
        return {"messages": message_previews(answers, trial_link(rt(), draft))}
    return {}


def submitted_answers(step: str, data: dict[str, str], fallback: msgspec.Struct) -> msgspec.Struct:
    """Return the form's values as the step's struct, or ``fallback`` when a value cannot be read."""
    try:
        return steps.convert_step(step, answers_from_form(step, data))
    except steps.UnreadableAnswer:
        return fallback


def installed_voice_ids() -> list[str]:
    """Return the ids of the read-aloud voices installed in the data directory (``bolletta voices list``)."""
    return [voice.voice_id for voice in installed_voices(rt().settings.data_path)]


def _nested(plain: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        plain = plain.get(part) if isinstance(plain, dict) else None
    return plain


def _step_page(request: Request[Any, Any, Any], draft: drafts.Draft, step: str, *, values: dict[str, str],
               problems: dict[str, Any], status_code: int = 200, shown: msgspec.Struct | None = None,
               upload_problem: Any = None, trial: dict[str, Any] | None = None,
               notes: dict[str, Text] | None = None) -> Response[str]:
    """Render a step's form; ``shown`` (default: the saved values) feeds the preview."""
    shown = shown if shown is not None else draft.answers[step]
    extra = plugin_inputs(shown)
    stored = msgspec.to_builtins(draft.answers[step])
    secrets_set = {item.name for item in extra if item.kind == "password" and _nested(stored, item.name)}
    if step in steps.UPLOADED_FIELDS:
        # The image is never part of the form, so the preview takes the stored one.
        image_field = steps.UPLOADED_FIELDS[step]
        shown = msgspec.structs.replace(shown, **{image_field: getattr(draft.answers[step], image_field)})
    return admin_page(request, "admin/onboarding_step.html", status_code=status_code, draft=draft, step=step,
                      steps=list(steps.STEPS), titles=STEP_TITLES, inputs=FORMS[step] + extra, values=values,
                      secrets_set=secrets_set, notes=notes or {}, line_problems=line_problems(problems),
                      problems=problems, sms=sms_lengths(draft.answers["messages"]) if step == "messages" else {},
                      preview=preview_context(draft, step, shown), upload_problem=upload_problem,
                      image=getattr(draft.answers[step], steps.UPLOADED_FIELDS.get(step, ""), None),
                      channels=[kind for kind in SENDER_KINDS if not kept_in_platform(draft, kind)]
                      if step == "senders" else [],
                      kept_kinds=[kind for kind in SENDER_KINDS if kept_in_platform(draft, kind)]
                      if step == "senders" else [], trial=trial,
                      voices=installed_voice_ids() if step == "languages" else [])


@get("/admin/onboarding", name="admin:onboarding")
async def drafts_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the utilities being onboarded, with a button to start a new one."""
    found = await anyio.to_thread.run_sync(drafts.open_drafts, rt().db)
    return admin_page(request, "admin/onboarding.html", drafts=found)


@post("/admin/onboarding", name="admin:onboarding-start")
async def start(request: Request[Any, Any, Any]) -> Response[Any]:
    """Open a new draft and go to its first step."""
    draft_id = await anyio.to_thread.run_sync(drafts.start_draft, rt().db, admin_of(request).actor)
    return Redirect(f"/admin/onboarding/{draft_id}/company", status_code=303)


@get("/admin/onboarding/{draft_id:int}/{step:str}", name="admin:onboarding-step")
async def step_page(request: Request[Any, Any, Any], draft_id: FromPath[int], step: FromPath[str]) -> Response[str]:
    """Show one step's form with the values saved so far."""
    if step not in steps.STEPS:
        raise NotFoundException(f"{step!r} is not a wizard step.")
    draft = await anyio.to_thread.run_sync(_load, draft_id)
    return _step_page(request, draft, step, values=form_values(step, draft.answers[step]), problems={})


@post("/admin/onboarding/{draft_id:int}/{step:str}", name="admin:onboarding-save")
async def save(request: Request[Any, Any, Any], draft_id: FromPath[int], step: FromPath[str],
               data: FormData) -> Response[Any]:
    """Save one step; go on to the next one, or show the problems next to their fields."""
    if step not in steps.STEPS:
        raise NotFoundException(f"{step!r} is not a wizard step.")
    actor = admin_of(request).actor
    draft = await anyio.to_thread.run_sync(_load, draft_id)
    answers = answers_from_form(step, data)
    try:
        extra_problems, notes = await anyio.to_thread.run_sync(read_plugin_settings, draft, step, data, answers)
    except steps.UnreadableAnswer:
        # The step's own fields are unreadable, so save_step reports them; the stored settings stay.
        extra_problems, notes = {}, {}
        if step in PLUGIN_SETTINGS:
            answers[PLUGIN_SETTINGS[step]] = getattr(draft.answers[step], PLUGIN_SETTINGS[step])
    if step == "company":
        note = await anyio.to_thread.run_sync(vat_note, str(answers.get("vat_number", "")), rt().db, draft_id)
        notes |= {"vat_number": note} if note is not None else {}
    if step == "languages":
        installed = await anyio.to_thread.run_sync(installed_voice_ids)
        extra_problems |= voice_problems(answers.get("voices", {}), installed)
    try:
        result = await anyio.to_thread.run_sync(drafts.save_step, rt().db, draft_id, step, answers, actor,
                                                extra_problems)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    if not result.complete or notes:
        # Shown again on success too when a provider checked the credentials, so the admin reads its result.
        draft = await anyio.to_thread.run_sync(_load, draft_id)
        shown = submitted_answers(step, data, draft.answers[step])
        values = {item.name: data.get(item.name, "") for item in FORMS[step] + plugin_inputs(shown)
                  if item.kind != "password"}
        problems = typed_line_numbers(result.problems, data)
        return _step_page(request, draft, step, values=values, problems=problems,
                          status_code=400 if result.problems else 200, shown=shown, notes=notes)
    names = list(steps.STEPS)
    position = names.index(step)
    following = names[position + 1] if position + 1 < len(names) else "activate"
    if step in PREVIEW_STEPS and data.get("preview"):
        following = step
    return Redirect(f"/admin/onboarding/{draft_id}/{following}", status_code=303)


@get("/admin/onboarding/{draft_id:int}/activate", name="admin:onboarding-summary")
async def summary(request: Request[Any, Any, Any], draft_id: FromPath[int]) -> Response[str]:
    """Show which steps are complete, and the activation button."""
    draft = await anyio.to_thread.run_sync(_load, draft_id)
    return admin_page(request, "admin/onboarding_activate.html", draft=draft, titles=STEP_TITLES, error=None,
                      stages=ACTIVATION_TITLES)


@post("/admin/onboarding/{draft_id:int}/activate", name="admin:onboarding-activate")
async def activate_draft(request: Request[Any, Any, Any], draft_id: FromPath[int]) -> Response[Any]:
    """Provision the tenant; on failure, say at which step and why (nothing is kept)."""
    await anyio.to_thread.run_sync(_load, draft_id)
    try:
        slug = await anyio.to_thread.run_sync(activate, rt(), draft_id, admin_of(request).actor)
    except ActivationError as exc:
        # Loaded again: a step whose checks failed at activation is no longer complete.
        draft = await anyio.to_thread.run_sync(_load, draft_id)
        return admin_page(request, "admin/onboarding_activate.html", status_code=400, draft=draft,
                          titles=STEP_TITLES, error=exc, stages=ACTIVATION_TITLES)
    return Redirect(f"/admin/tenants/{slug}", status_code=303)


@post("/admin/onboarding/{draft_id:int}/discard", name="admin:onboarding-discard")
async def discard(request: Request[Any, Any, Any], draft_id: FromPath[int]) -> Response[Any]:
    """Delete a draft that was not activated."""
    try:
        await anyio.to_thread.run_sync(drafts.discard_draft, rt().db, draft_id, admin_of(request).actor)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    return Redirect("/admin/onboarding", status_code=303)


def onboarding_router() -> Router:
    """Build the wizard's routes; every one is for platform admins only."""
    from bolletta.platform.admin import onboarding_tools
    from bolletta.platform.admin.onboarding_errors import EXCEPTION_HANDLERS

    return Router(path="/", guards=[require_platform_admin], exception_handlers=EXCEPTION_HANDLERS,
                  route_handlers=[drafts_page, start, summary, activate_draft, discard, step_page, save,
                                  *onboarding_tools.ROUTES])
