"""The public JSON API under ``/api/v1``, authenticated by a tenant's bearer token.

The routes take no cookies, so ``/api/`` is excluded from CSRF. A token only ever reaches its own
tenant's schema, so another tenant's job id is simply not found.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from typing import IO, Any

import anyio
import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server

from bolletta.platform import audit, clock
from bolletta.platform.api import errors
from bolletta.platform.api.auth import audited_write, authenticate
from bolletta.platform.api.bills import read_bill, search_bills
from bolletta.platform.api.errors import ApiProblem
from bolletta.platform.api.job_report import read_job_report
from bolletta.platform.api.params import ObjectId
from bolletta.platform.api.stats import read_stats
from bolletta.platform.api.tickets import read_ticket, search_tickets
from bolletta.platform.api.tokens import SCOPE_CONTACTS_WRITE, SCOPE_JOBS_READ, SCOPE_JOBS_WRITE, ApiCaller
from bolletta.platform.contacts import directory
from bolletta.platform.contacts.masking import masked_reason
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.i18n.message import T_, Text, render
from bolletta.platform.jobs.inbox import FLOW_SUFFIXES
from bolletta.platform.jobs.opening import OpenedJob, open_job
from bolletta.platform.settings import Settings
from bolletta.platform.web.context import client_ip, rt

ARCHIVE_FIELD = "archive"
CONTACTS_FIELD = "file"
CONTACTS_MEDIA_TYPES = frozenset({"text/csv", "text/plain", "application/octet-stream"})
DEFAULT_CONTACTS_NAME = "contatti.csv"
RAW_MEDIA_TYPES = frozenset({
    "application/zip", "application/x-zip-compressed", "application/octet-stream",
    "application/xml", "text/xml", "application/pkcs7-mime", "application/x-ndjson", "application/jsonl",
})
"""Media types of a raw archive or flow file; the ``filename`` parameter selects the reader."""
SPOOL_BYTES = 1024 * 1024
REPORT_SUMMARY_ROWS = 100
"""Entries kept of each list of the report that ``GET /jobs/{id}`` embeds."""
"""Raw bodies up to this size stay in memory while they arrive; larger ones go to a temporary file."""


class JobLinks(msgspec.Struct):
    """Links to the job's resources."""

    self: str
    report: str
    """The job report, every problem row in pages."""


class JobOpened(msgspec.Struct):
    """The result of an upload: the job it opened, or the existing job of the same archive."""

    id: int
    state: str
    filename: str
    sha256: str
    created: bool
    links: JobLinks


class JobCounts(msgspec.Struct):
    """Bill counts of the last parse."""

    bills_accepted: int
    bills_rejected: int


class JobStatus(msgspec.Struct):
    """A job's state, counts and report, with report messages in the client's language."""

    id: int
    state: str
    filename: str
    sha256: str
    source: str
    created_at: datetime
    updated_at: datetime
    counts: JobCounts
    report: dict[str, Any]
    """The stored report; each list in it carries at most :data:`REPORT_SUMMARY_ROWS` entries."""
    report_truncated: bool
    """True when a list of ``report`` was cut: ``links.report`` has every row."""
    report_sizes: dict[str, int]
    """Full length of each list of the stored report, such as ``rejected`` or ``review``."""
    links: JobLinks


class RejectedContactValue(msgspec.Struct):
    """A value of the contacts file that was not stored; ``value`` is masked when it is a contact."""

    row: int | None
    field: str
    value: str
    reason: str


class ContactsImported(msgspec.Struct):
    """The import report of a contacts file, with reasons in the client's language."""

    filename: str
    rows_read: int
    contacts_stored: int
    customers: int
    rejected_count: int
    rejected: list[RejectedContactValue]


def _job_link(job_id: int) -> JobLinks:
    return JobLinks(self=f"/api/v1/jobs/{job_id}", report=f"/api/v1/jobs/{job_id}/report")


def _report_summary(report: dict[str, Any], language: str) -> tuple[dict[str, Any], bool, dict[str, int]]:
    """Return ``report`` with each list cut to its first :data:`REPORT_SUMMARY_ROWS` entries and translated.

    Also return whether a list was cut, and each list's full length. Cutting comes before translating,
    so a report of 50,000 problems costs as little as a small one.
    """
    sizes = {key: len(value) for key, value in report.items() if isinstance(value, list)}
    summary = {
        key: value[:REPORT_SUMMARY_ROWS] if isinstance(value, list) else value for key, value in report.items()
    }
    truncated = any(size > REPORT_SUMMARY_ROWS for size in sizes.values())
    return _translated(summary, language), truncated, sizes


def _check_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise ApiProblem(400, T_("Missing file name. Give it in the 'filename' query parameter."))
    if not name.lower().endswith(FLOW_SUFFIXES):
        raise ApiProblem(400, T_("The file {name} is not a billing flow. Upload a .zip, .xml, .p7m or .jsonl file.",
                                 name=name))
    return name


async def _read_upload(request: Request[Any, Any, Any]) -> tuple[IO[bytes], str]:
    """Return the uploaded archive, as a file the caller closes, and its name.

    The archive comes from a multipart field or a raw body. Either way it is a temporary file that
    moves to disk past 1 MiB, so the archive never sits in memory whole.
    """
    media_type, _ = request.content_type
    if media_type == RequestEncodingType.MULTI_PART:
        form = await request.form()
        upload = form.get(ARCHIVE_FIELD)
        if not isinstance(upload, UploadFile):
            raise ApiProblem(400, T_("Missing the file field '{field}' in the multipart body.", field=ARCHIVE_FIELD))
        try:
            name = _check_filename(upload.filename)
        except ApiProblem:
            await upload.close()
            raise
        archive: IO[bytes] = upload.file
    elif media_type in RAW_MEDIA_TYPES:
        name = _check_filename(request.query_params.get("filename", ""))
        archive = await _spool_raw_body(request)
    else:
        raise ApiProblem(415, T_("Send the archive as multipart/form-data in the field '{field}', or as the raw "
                                 "body with Content-Type application/zip and a 'filename' query parameter.",
                                 field=ARCHIVE_FIELD))
    if archive.seek(0, io.SEEK_END) == 0:
        archive.close()
        raise ApiProblem(400, T_("The file {name} is empty.", name=name))
    archive.seek(0)
    return archive, name


async def _spool_raw_body(request: Request[Any, Any, Any]) -> IO[bytes]:
    """Write the request body to a temporary file, kept in memory up to ``SPOOL_BYTES``."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the caller closes it)
    try:
        async for chunk in request.stream():
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


async def _read_raw_body(request: Request[Any, Any, Any]) -> bytes:
    # Chunks are spooled instead of joined, so the body is in memory once when it is read back.
    spool = await _spool_raw_body(request)
    try:
        return await anyio.to_thread.run_sync(spool.read)
    finally:
        spool.close()


def _open_and_audit(
    tenant: str, data: IO[bytes], filename: str, caller: ApiCaller, ip: str
) -> tuple[OpenedJob, Job]:
    runtime = rt()
    opened = open_job(runtime, tenant, data, filename, source="api", opened_by=caller.actor)
    with runtime.db.tenant_session(tenant) as session:
        job = session.get(Job, opened.job_id)
        assert job is not None  # open_job committed it, or found it by its SHA-256
        audit.record(session, actor=caller.actor, action="job.upload", target=f"job:{job.id}", ip=ip,
                     detail={"filename": filename, "sha256": job.archive_sha256, "created": opened.created,
                             "token": caller.token_name})
        session.commit()
    return opened, job


@post("/jobs", name="api:jobs-create", status_code=201, responses={
    200: ResponseSpec(data_container=JobOpened, description="The archive was uploaded before; its job."),
    **errors.problem_responses(413, 415)})
async def create_job(request: Request[Any, Any, Any]) -> Response[JobOpened]:
    """Open a job for the uploaded archive (scope ``jobs:write``); 200 with ``created`` false for a known one."""
    caller = await authenticate(request, SCOPE_JOBS_WRITE)
    async with audited_write(request, caller, "job.upload"):
        archive, filename = await _read_upload(request)
    try:
        opened, job = await anyio.to_thread.run_sync(
            _open_and_audit, caller.tenant, archive, filename, caller, client_ip(request)
        )
    finally:
        archive.close()
    body = JobOpened(id=job.id, state=job.state, filename=job.filename, sha256=job.archive_sha256,
                     created=opened.created, links=_job_link(job.id))
    headers = {"Location": body.links.self} if opened.created else {}
    return Response(content=body, status_code=201 if opened.created else 200, headers=headers)


@get("/jobs/{job_id:int}", name="api:jobs-read", responses=errors.problem_responses(404))
async def read_job(request: Request[Any, Any, Any], job_id: ObjectId) -> JobStatus:
    """Return a job's state, counts and report summary (scope ``jobs:read``).

    Each list of the report carries its first :data:`REPORT_SUMMARY_ROWS` entries; ``links.report``
    returns every row in pages.
    """
    caller = await authenticate(request, SCOPE_JOBS_READ)
    language = errors.preferred_language(request.headers.get("accept-language"))
    status = await anyio.to_thread.run_sync(_job_status, caller.tenant, job_id, language)
    if status is None:
        raise ApiProblem(404, T_("Job {job_id} not found.", job_id=job_id))
    return status


def _job_status(tenant: str, job_id: int, language: str) -> JobStatus | None:
    # A thread, because reading and cutting a report of 50,000 problems takes seconds of CPU.
    with rt().db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        report, truncated, sizes = _report_summary(job.report or {}, language)
        return JobStatus(
            id=job.id, state=job.state, filename=job.filename, sha256=job.archive_sha256, source=job.source,
            created_at=clock.as_utc(job.created_at), updated_at=clock.as_utc(job.updated_at),
            counts=JobCounts(bills_accepted=job.bills_accepted, bills_rejected=job.bills_rejected),
            report=report, report_truncated=truncated, report_sizes=sizes, links=_job_link(job.id),
        )


async def _read_contacts_upload(request: Request[Any, Any, Any]) -> tuple[bytes, str]:
    """Read a contacts CSV and its file name from a multipart field or a raw body."""
    media_type, _ = request.content_type
    if media_type == RequestEncodingType.MULTI_PART:
        form = await request.form()
        upload = form.get(CONTACTS_FIELD)
        if not isinstance(upload, UploadFile):
            raise ApiProblem(400, T_("Missing the file field '{field}' in the multipart body.", field=CONTACTS_FIELD))
        try:
            name = upload.filename
            data = await upload.read()
        finally:
            await upload.close()
    elif media_type in CONTACTS_MEDIA_TYPES:
        name = request.query_params.get("filename", "")
        data = await _read_raw_body(request)
    else:
        raise ApiProblem(415, T_("Send the contacts file as multipart/form-data in the field '{field}', or as the "
                                 "raw body with Content-Type text/csv.", field=CONTACTS_FIELD))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or DEFAULT_CONTACTS_NAME
    if not data:
        raise ApiProblem(400, T_("The file {name} is empty.", name=name))
    return data, name


@post("/contacts", name="api:contacts-import", status_code=200,
      responses=errors.problem_responses(413, 415, 422))
async def import_contacts(request: Request[Any, Any, Any]) -> ContactsImported:
    """Import a contacts CSV into the contacts directory (scope ``contacts:write``) and return its report.

    A file rejected as a whole (unreadable, no customer code column) stores nothing and gets a 422 problem.
    """
    caller = await authenticate(request, SCOPE_CONTACTS_WRITE)
    async with audited_write(request, caller, "contacts.import"):
        data, filename = await _read_contacts_upload(request)
    report = await anyio.to_thread.run_sync(
        lambda: directory.import_contacts(rt(), caller.tenant, data, filename, origin="api", actor=caller.actor,
                                          ip=client_ip(request))
    )
    if report.file_error is not None:
        raise ApiProblem(422, report.file_error)
    language = errors.preferred_language(request.headers.get("accept-language"))
    return ContactsImported(
        filename=report.filename, rows_read=report.rows_read, contacts_stored=report.contacts_stored,
        customers=report.customers, rejected_count=len(report.rejected),
        rejected=[RejectedContactValue(row=item.row, field=item.field, value=item.value,
                                       reason=render(item.reason, language))
                  for item in report.rejected],
    )


def _translated(value: Any, language: str) -> Any:
    """Return ``value`` with every stored message (a ``{"msgid", "params"}`` object) rendered into ``language``.

    Contacts that rejection reasons quote are masked, as in the CSV report.
    """
    if isinstance(value, dict):
        if isinstance(value.get("msgid"), str) and set(value) <= {"msgid", "params"}:
            return render(masked_reason(msgspec.convert(value, Text))[0], language)
        return {key: _translated(item, language) for key, item in value.items()}
    if isinstance(value, list):
        return [_translated(item, language) for item in value]
    return value


def api_openapi_config() -> OpenAPIConfig:
    """The OpenAPI document of the API, served as JSON at ``/api/v1/schema`` (and ``/api/v1/schema/openapi.json``)."""
    return OpenAPIConfig(
        title="Bolletta Smart API", version="1.0.0", path="/api/v1/schema",
        description="The JSON API for a utility's own systems. Send a tenant's API token as "
                    "'Authorization: Bearer <token>'; errors are RFC 9457 problem details.",
        render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        components=Components(security_schemes={
            "bearer": SecurityScheme(type="http", scheme="bearer", description="A tenant's API token (bst_...).")}),
        security=[{"bearer": []}],
        servers=[Server(url="/")],
    )


def api_router(settings: Settings) -> Router:
    """Build the ``/api/v1`` routes, with problem-details errors and the upload size limit of ``settings``."""
    return Router(
        path="/api/v1",
        route_handlers=[create_job, read_job, read_job_report, import_contacts, read_stats, search_tickets,
                        read_ticket, search_bills, read_bill],
        request_max_body_size=settings.upload_max_bytes,
        include_in_schema=True,
        exception_handlers={
            ApiProblem: errors.handle_api_problem,
            HTTPException: errors.handle_http_exception,
            Exception: errors.handle_unexpected,
        },
    )
