"""Two tenants on one stack: staff, customers and storage of one never reach the other's data."""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bolletta.platform.db.models.platform import User
from bolletta.platform.db.models.tenant import Bill, Job
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.jobs import states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    LINK_PATTERN,
    WITHOUT_SMTP,
    StaffLogin,
    create_staff,
    create_test_tenant,
    csrf_token,
    load_job,
    running_stack,
    signed_in_client,
    stored_texts,
    wait_idle,
    web_client,
    zip_archive,
)

ACME_FILE = "acme_emissione.zip"
ACME_FAILED_FILE = "acme_scarti.zip"
BETA_FILE = "beta_emissione.zip"


@dataclass(frozen=True)
class TenantData:
    """One tenant of the test and what it owns."""

    slug: str
    staff: StaffLogin
    flow: DemoFlow
    job_id: int
    """The job that went through its test batch."""
    failed_job_id: int | None
    token: str
    """A working customer token from that job's test batch."""
    bill_public_ids: list[str]


@dataclass(frozen=True)
class TwoTenants:
    stack: EmbeddedStack
    acme: TenantData
    beta: TenantData


def open_and_wait(stack: EmbeddedStack, slug: str, archive: bytes, filename: str) -> int:
    job_id = open_job(stack.rt, slug, archive, filename, source="api", opened_by="api:test").job_id
    wait_idle(stack)
    return job_id


def provision(
    stack: EmbeddedStack, slug: str, flow: DemoFlow, filename: str, *, failed_file: str | None = None
) -> TenantData:
    """Create the tenant and its operator, then open a failed job (if ``failed_file``) and a tested one."""
    create_test_tenant(stack, slug, **WITHOUT_SMTP)
    staff = create_staff(stack, f"{slug}.operatore", "tenant_operator", slug)
    failed_job_id = None
    if failed_file is not None:
        broken = zip_archive({"IT01234567890_00001.xml": b"<broken"})
        failed_job_id = open_and_wait(stack, slug, broken, failed_file)
        assert load_job(stack, slug, failed_job_id).state == states.FAILED
    job_id = open_and_wait(stack, slug, flow.archive, filename)
    assert load_job(stack, slug, job_id).state == states.TEST_SENT

    tokens = [token for text in stored_texts(stack, slug) for link_slug, token in LINK_PATTERN.findall(text)
              if link_slug == slug]
    assert tokens, f"no customer link stored for tenant {slug}"
    with stack.rt.db.tenant_session(slug) as session:
        public_ids = list(session.scalars(select(Bill.public_id).order_by(Bill.id)))
    return TenantData(slug=slug, staff=staff, flow=flow, job_id=job_id, failed_job_id=failed_job_id,
                      token=tokens[-1], bill_public_ids=public_ids)


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoTenants]:
    """ACME with a failed job (#1) and a tested job (#2); Beta with a tested job (#1) for other customers."""
    with running_stack(tmp_path_factory.mktemp("data")) as stack:
        acme = provision(stack, "acme", build_demo_flow(seed=2026), ACME_FILE, failed_file=ACME_FAILED_FILE)
        beta = provision(stack, "beta", build_demo_flow(seed=4242), BETA_FILE)
        assert (acme.failed_job_id, acme.job_id, beta.job_id) == (1, 2, 1)
        yield TwoTenants(stack=stack, acme=acme, beta=beta)


def acme_markers(tenants: TwoTenants) -> list[str]:
    """Strings that appear only in ACME's data: its file names and its customers' names."""
    beta_names = {customer.name for customer in tenants.beta.flow.customers}
    names = [customer.name for customer in tenants.acme.flow.customers if customer.name not in beta_names]
    assert names, "the two demo flows share every customer name; pick another seed"
    return [ACME_FILE, ACME_FAILED_FILE, *names]


def assert_no_acme_data(tenants: TwoTenants, page: str) -> None:
    text = html.unescape(page)
    for marker in acme_markers(tenants):
        assert marker not in text, f"ACME data {marker!r} shown to Beta"


def invalid_link_heading() -> str:
    return f"<h1>{escape(gettext('it', 'Link no longer valid'))}</h1>"


def test_beta_job_list_has_no_acme_jobs(tenants: TwoTenants) -> None:
    with signed_in_client(tenants.stack, tenants.beta.staff) as client:
        page = client.get("/office/")

    assert page.status_code == 200
    assert BETA_FILE in page.text
    assert_no_acme_data(tenants, page.text)


def test_beta_cannot_open_acme_job(tenants: TwoTenants) -> None:
    with signed_in_client(tenants.stack, tenants.beta.staff) as client:
        acme_only = client.get(f"/office/jobs/{tenants.acme.job_id}")
        same_number = client.get(f"/office/jobs/{tenants.acme.failed_job_id}")

    assert acme_only.status_code == 404
    assert_no_acme_data(tenants, acme_only.text)
    # Job #1 exists in both tenants, and Beta gets its own.
    assert same_number.status_code == 200
    assert BETA_FILE in same_number.text
    assert_no_acme_data(tenants, same_number.text)


def test_beta_cannot_approve_acme_job(tenants: TwoTenants) -> None:
    with signed_in_client(tenants.stack, tenants.beta.staff) as client:
        page = client.get("/office/")
        response = client.post(f"/office/jobs/{tenants.acme.job_id}/approve",
                               data={"_csrf_token": csrf_token(page.text)})

    assert response.status_code == 303
    assert response.headers["location"] == f"/office/jobs/{tenants.acme.job_id}?error=approve"
    assert load_job(tenants.stack, "acme", tenants.acme.job_id).state == states.TEST_SENT


def test_acme_token_works_under_acme(tenants: TwoTenants) -> None:
    with web_client(tenants.stack) as client:
        response = client.get(f"/c/acme/t/{tenants.acme.token}")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/c/acme/b/")


def test_beta_customer_cannot_open_acme_bill(tenants: TwoTenants) -> None:
    with web_client(tenants.stack) as client:
        opened = client.get(f"/c/beta/t/{tenants.beta.token}")
        assert opened.status_code == 303
        own = client.get(opened.headers["location"])
        assert own.status_code == 200

        for public_id in tenants.acme.bill_public_ids:
            pages = [client.get(f"/c/{slug}/b/{public_id}/{section}")
                     for slug in ("acme", "beta") for section in ("sommario", "pdf")]
            for page in pages:
                assert page.status_code == 404
                assert invalid_link_heading() in page.text
                assert_no_acme_data(tenants, page.text)


def test_customer_session_is_not_staff(tenants: TwoTenants) -> None:
    with web_client(tenants.stack) as client:
        assert client.get(f"/c/beta/t/{tenants.beta.token}").status_code == 303
        office = client.get("/office/")

    assert office.status_code == 303
    assert office.headers["location"] == "/office/login"


def test_acme_token_invalid_under_beta(tenants: TwoTenants) -> None:
    with web_client(tenants.stack) as client:
        response = client.get(f"/c/beta/t/{tenants.acme.token}")
        after = client.get(f"/c/acme/b/{tenants.acme.bill_public_ids[0]}/sommario")

    assert response.status_code == 404
    assert invalid_link_heading() in response.text
    assert after.status_code == 404


def tenant_file_rows(path: Path, query: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def test_tenants_have_separate_files(tenants: TwoTenants) -> None:
    data_path = tenants.stack.rt.settings.data_path
    acme_db = data_path / "tenants" / "acme.db"
    beta_db = data_path / "tenants" / "beta.db"

    assert acme_db.is_file()
    assert beta_db.is_file()
    acme_files = {row[0] for row in tenant_file_rows(acme_db, "SELECT filename FROM jobs")}
    beta_files = {row[0] for row in tenant_file_rows(beta_db, "SELECT filename FROM jobs")}
    assert acme_files == {ACME_FILE, ACME_FAILED_FILE}
    assert beta_files == {BETA_FILE}
    acme_customers = {row[0] for row in tenant_file_rows(acme_db, "SELECT customer_name FROM bills")}
    beta_customers = {row[0] for row in tenant_file_rows(beta_db, "SELECT customer_name FROM bills")}
    assert acme_customers <= {customer.name for customer in tenants.acme.flow.customers}
    assert beta_customers <= {customer.name for customer in tenants.beta.flow.customers}
    platform_tables = {row[0] for row in tenant_file_rows(data_path / "platform.db",
                                                          "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "users" in platform_tables
    assert "jobs" not in platform_tables


def test_platform_session_rejects_tenant_tables(tenants: TwoTenants) -> None:
    with tenants.stack.rt.db.platform_session() as session, pytest.raises(SQLAlchemyError):
        session.execute(select(Job)).all()


def test_tenant_session_rejects_platform_tables(tenants: TwoTenants) -> None:
    with tenants.stack.rt.db.tenant_session("acme") as session, pytest.raises(SQLAlchemyError):
        session.execute(select(User)).all()
