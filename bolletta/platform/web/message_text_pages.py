"""The editor of the utility's message texts, with SMS part counts and earlier versions.

The form is the onboarding wizard's "message texts" step. Saving runs the same checks, including a
trial render of every text in the sandbox. It stores the texts as a new settings version, and the
platform audit log keeps the one before, so an earlier version can be restored from this page. The
console and the backoffice mount the same handlers under their settings path.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath
from litestar.response import Redirect

from bolletta.platform.admin.onboarding import FORMS, answers_from_form, form_values, sms_lengths
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.errors import BollettaError
from bolletta.platform.i18n.message import T_
from bolletta.platform.web.context import rt
from bolletta.platform.web.settings_area import SettingsArea
from bolletta.tenants.config import decode_config
from bolletta.tenants.onboarding import checks, steps
from bolletta.tenants.registry import get_tenant, restore_settings, save_config, settings_history, tenant_config

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
STEP = "messages"
SHOWN_VERSIONS = 10


def _current(slug: str) -> steps.Messages:
    config = tenant_config(get_tenant(rt().db, slug))
    return steps.Messages(texts={language: {name: value for name, value in msgspec.to_builtins(texts).items() if value}
                                 for language, texts in config.message_texts.items()})


def _versions(slug: str) -> list[tuple[int, Any, str, list[str]]]:
    return settings_history(rt().db, slug, "message_texts")[:SHOWN_VERSIONS]


def _save(slug: str, answers: dict[str, Any], actor: str) -> tuple[steps.Messages, dict[str, Any]]:
    converted = steps.convert_step(STEP, answers)
    assert isinstance(converted, steps.Messages)
    problems = checks.messages_problems(converted, rt().db, None, tenant=slug)
    if not problems:
        config = tenant_config(get_tenant(rt().db, slug))
        config.message_texts = decode_config({"message_texts": converted.texts}).message_texts
        save_config(rt().db, slug, config, actor=actor)
    return converted, problems


def message_text_handlers(area: SettingsArea) -> list[HTTPRouteHandler]:
    """Build the editor's show, save and restore routes under ``area``'s settings path."""
    path = f"{area.path}/messages"

    def editor_page(request: Request[Any, Any, Any], tenant: Tenant, *, answers: steps.Messages,
                    values: dict[str, str], problems: dict[str, Any], status_code: int = 200,
                    saved: bool = False) -> Response[str]:
        return area.render(request, "settings/messages.html", tenant, status_code=status_code,
                           base_template=area.base_template, settings_url=area.url(tenant), inputs=FORMS[STEP],
                           values=values, problems=problems, sms=sms_lengths(answers),
                           versions=_versions(tenant.slug), saved=saved)

    @get(path, name=f"{area.name}:message-texts")
    async def editor(request: Request[Any, Any, Any]) -> Response[str]:
        """Show the utility's message texts by language, with the SMS counts and the earlier versions."""
        tenant = await area.tenant_of(request)
        answers = await anyio.to_thread.run_sync(_current, tenant.slug)
        return editor_page(request, tenant, answers=answers, values=form_values(STEP, answers), problems={},
                           saved=request.query_params.get("saved") == "1")

    @post(path, name=f"{area.name}:message-texts-save")
    async def save(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
        """Check every text by rendering it in the sandbox, then store them as a new version."""
        tenant = await area.tenant_of(request)
        actor = area.actor_of(request)
        try:
            answers, problems = await anyio.to_thread.run_sync(_save, tenant.slug, answers_from_form(STEP, data),
                                                               actor)
        except steps.UnreadableAnswer:
            answers, problems = steps.Messages(), {"texts": T_("This value cannot be read; check its format.")}
        if problems:
            values = {item.name: data.get(item.name, "") for item in FORMS[STEP]}
            return editor_page(request, tenant, answers=answers, values=values, problems=problems, status_code=400)
        logger.info("settings: message texts of tenant %s saved by %s", tenant.slug, actor)
        return Redirect(f"{area.url(tenant)}/messages?saved=1", status_code=303)

    @post(f"{path}/versions/{{version:int}}", name=f"{area.name}:message-texts-restore")
    async def restore(request: Request[Any, Any, Any], version: FromPath[int]) -> Response[Any]:
        """Bring back the texts as they were before settings version ``version``; the change is a new version."""
        tenant = await area.tenant_of(request)
        try:
            await anyio.to_thread.run_sync(restore_settings, rt().db, tenant.slug, version, ["message_texts"],
                                           area.actor_of(request))
        except BollettaError as exc:
            logger.warning("settings: restoring message texts of %s from version %d failed: %s", tenant.slug,
                           version, exc)
            return Redirect(f"{area.url(tenant)}/messages?restored=0", status_code=303)
        return Redirect(f"{area.url(tenant)}/messages?saved=1", status_code=303)

    return [editor, save, restore]
