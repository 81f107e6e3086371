"""The wizard's helpers beside the step forms: live previews, image uploads and test sends.

The previews take the form as it is being typed (the page's script posts it on every change) and
return an HTML fragment, so nothing is saved until the admin saves the step. Uploads and test sends
are forms of their own, so they work without JavaScript.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect

from bolletta.platform.admin.access import admin_of, admin_page
from bolletta.platform.admin.onboarding import (
    PREVIEW_STEPS,
    SENDER_KINDS,
    _load,
    _step_page,
    form_values,
    preview_context,
    submitted_answers,
)
from bolletta.platform.errors import NotFound
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.office.access import staff_language
from bolletta.platform.web.context import rt
from bolletta.platform.web.image_upload import read_image_form
from bolletta.tenants.config import Branding
from bolletta.tenants.images import MAX_IMAGE_BYTES, too_large_problem
from bolletta.tenants.onboarding import drafts, steps
from bolletta.tenants.onboarding.previews import DEFAULT_COLOURS, look_preview, preview_css
from bolletta.tenants.onboarding.trial import send_trial
from bolletta.themes.fonts import FONTS, woff2

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@post("/admin/onboarding/{draft_id:int}/preview/{step:str}", name="admin:onboarding-preview")
async def preview_fragment(request: Request[Any, Any, Any], draft_id: FromPath[int], step: FromPath[str],
                           data: FormData) -> Response[str]:
    """Return the preview fragment of the submitted (unsaved) branding or message texts."""
    if step not in PREVIEW_STEPS:
        raise NotFoundException(f"The step {step!r} has no preview.")
    draft = await anyio.to_thread.run_sync(_load, draft_id)
    answers = submitted_answers(step, data, draft.answers[step])
    image_field = steps.UPLOADED_FIELDS[step]
    answers = msgspec.structs.replace(answers, **{image_field: getattr(draft.answers[step], image_field)})
    return admin_page(request, "admin/_onboarding_preview.html", preview=preview_context(draft, step, answers))


@get("/admin/onboarding/{draft_id:int}/preview.css", name="admin:onboarding-preview-css")
async def preview_stylesheet(request: Request[Any, Any, Any], draft_id: FromPath[int]) -> Response[str]:
    """Return the preview box's colours and font from the query (``primary_color``... and ``font``)."""
    await anyio.to_thread.run_sync(_load, draft_id)  # 404 for a draft that does not exist, as every wizard page
    query = request.query_params
    branding = Branding(**{name: str(query.get(name, default)) for name, default in DEFAULT_COLOURS.items()})
    look = steps.Look(branding=branding, font=str(query.get("font", "system")))
    return Response(content=preview_css(look_preview(look)), media_type="text/css",
                    headers={"Cache-Control": "no-store"})


@get("/admin/onboarding/fonts/{font_file:str}", name="admin:onboarding-font")
async def preview_font(font_file: FromPath[str]) -> Response[bytes]:
    """Return a shipped font as WOFF2 for the branding preview (``source-sans.woff2``)."""
    font_id = font_file.removesuffix(".woff2")
    if font_id not in FONTS or FONTS[font_id].package is None or not font_file.endswith(".woff2"):
        raise NotFoundException(f"{font_file!r} is not a font shipped with the product.")
    content = await anyio.to_thread.run_sync(woff2, font_id, rt().settings.data_path / "cache" / "fonts")
    return Response(content=content, media_type="font/woff2", headers={"Cache-Control": "max-age=86400"})


@post("/admin/onboarding/{draft_id:int}/image/{step:str}", name="admin:onboarding-image")
async def upload_image(request: Request[Any, Any, Any], draft_id: FromPath[int], step: FromPath[str]) -> Response[Any]:
    """Keep an uploaded logo or e-mail image in the draft, or show why it was refused next to the upload."""
    if step not in steps.UPLOADED_FIELDS:
        raise NotFoundException(f"The step {step!r} takes no image.")
    submitted = await read_image_form(request)
    data, size = submitted.data, submitted.size
    language = staff_language(request)
    problem: Text | None
    if size > MAX_IMAGE_BYTES:
        problem = too_large_problem(size, language)
    elif not data and not submitted.remove:
        problem = T_("Choose a PNG or JPEG file to upload.")
    else:
        try:
            problem = await anyio.to_thread.run_sync(drafts.store_image, rt().db, draft_id, step, data,
                                                     admin_of(request).actor, language)
        except NotFound as exc:
            raise NotFoundException(str(exc)) from exc
    if problem is None:
        return Redirect(f"/admin/onboarding/{draft_id}/{step}", status_code=303)
    logger.info("onboarding: image upload for step %s of draft %d rejected (%d bytes)", step, draft_id, size)
    draft = await anyio.to_thread.run_sync(_load, draft_id)
    return _step_page(request, draft, step, values=form_values(step, draft.answers[step]), problems={},
                      status_code=400, upload_problem=problem)


@post("/admin/onboarding/{draft_id:int}/test-send", name="admin:onboarding-test-send")
async def test_send(request: Request[Any, Any, Any], draft_id: FromPath[int], data: FormData) -> Response[str]:
    """Send a sample message through the chosen plugin of one kind and show the provider's response."""
    kind = data.get("kind", "")
    if kind not in SENDER_KINDS:
        raise NotFoundException(f"{kind!r} is not a kind of message.")
    draft = await anyio.to_thread.run_sync(_load, draft_id)
    outcomes = await anyio.to_thread.run_sync(send_trial, rt(), draft, kind, data.get("recipient", ""),
                                              admin_of(request).actor)
    status = 200 if all(outcome.ok for outcome in outcomes) else 400
    trial = {"kind": kind, "outcomes": outcomes, "recipient": data.get("recipient", "")}
    return _step_page(request, draft, "senders", values=form_values("senders", draft.answers["senders"]),
                      problems={}, status_code=status, trial=trial)


ROUTES = [preview_fragment, preview_stylesheet, preview_font, upload_image, test_send]
"""Route handlers the wizard's router adds to the step pages."""
