"""Tenant isolation checks for every ``/api/v1`` route, enumerated from the app so no route is missed.

Tenant ``other`` contains the statistics dataset (jobs, bills, tickets, payments), and tenant ``own``
contains nothing. Every id of ``other`` must be 404 to ``own``'s token and found by ``other``'s own
token. Every search must show ``own`` none of ``other``'s rows, and an upload must never return
``other``'s job. A route whose path parameter or collection this module does not know fails the
suite until it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import func, select

from bolletta.platform.api.tokens import SCOPES, create_token
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.tenant import Bill, Contact, Job, Ticket
from bolletta.platform.demo.flow import build_demo_flow
from tests.integration.stats import dataset

API_PREFIX = "/api/v1/"
SCHEMA_PREFIX = "/api/v1/schema"
PATH_OBJECTS: dict[str, Any] = {"job_id": Job, "ticket_id": Ticket, "bill_id": Bill}
"""Path parameter name, and the table whose ids it takes."""
COLLECTION_QUERIES: dict[str, dict[str, str]] = {
    "/api/v1/tickets": {"per_page": "200"},
    "/api/v1/bills": {"per_page": "200"},
    "/api/v1/stats": {"year": "2025"},
}
"""Read routes without an id, with the query that makes them list the dataset's rows."""
WRITE_ROUTES = ("/api/v1/jobs", "/api/v1/contacts")
OTHER_MARKER = "Cliente B"
"""Text of every customer name in the dataset; ``own`` has no such customer."""


@dataclass(frozen=True)
class Tenants:
    """Two tenants and a token with every scope for each."""

    own: str
    other: str
    own_headers: dict[str, str]
    other_headers: dict[str, str]


def prepare(db: Database, own: str, other: str) -> Tenants:
    """Fill ``other`` with the statistics dataset and return both tenants with their tokens."""
    with db.tenant_session(other) as session:
        dataset.build(session)
    headers = {}
    for slug in (own, other):
        token = create_token(db, slug, "isolamento", list(SCOPES), created_by="test").token
        headers[slug] = {"Authorization": f"Bearer {token}"}
    return Tenants(own=own, other=other, own_headers=headers[own], other_headers=headers[other])


def api_routes(app: Litestar) -> list[tuple[str, str]]:
    """Return (method, path template) of every API operation the app serves, the schema excepted."""
    operations = []
    for route in app.routes:
        if not route.path.startswith(API_PREFIX) or route.path.startswith(SCHEMA_PREFIX):
            continue
        for method in sorted(getattr(route, "methods", ())):
            if method not in {"HEAD", "OPTIONS"}:
                operations.append((method, route.path))
    return operations


def object_ids(db: Database, tenant: str, parameter: str) -> list[int]:
    """Return every id of the table behind ``parameter`` in ``tenant``."""
    table = PATH_OBJECTS.get(parameter)
    assert table is not None, f"path parameter {parameter!r} is not in PATH_OBJECTS; add the table whose ids it takes"
    with db.tenant_session(tenant) as session:
        return list(session.scalars(select(table.id).order_by(table.id)))


def check_object_routes(client: httpx.Client, db: Database, tenants: Tenants, path: str) -> int:
    """Check one route with an id parameter for every id of ``other``; return how many ids it tried."""
    parameter = path.split("{", 1)[1].split(":", 1)[0].split("}", 1)[0]
    ids = object_ids(db, tenants.other, parameter)
    assert ids, f"tenant {tenants.other} has no object for {path}"
    for object_id in ids:
        url = path.replace(path[path.index("{"):path.index("}") + 1], str(object_id))
        own = client.get(url, headers=tenants.own_headers)
        other = client.get(url, headers=tenants.other_headers)
        assert other.status_code == 200, f"{url}: the owner's token got {other.status_code}: {other.text}"
        assert own.status_code == 404, f"{url}: another tenant's token got {own.status_code}: {own.text}"
        assert own.headers["content-type"].startswith("application/problem+json")
        assert OTHER_MARKER not in own.text
    return len(ids)


def check_collection(client: httpx.Client, tenants: Tenants, path: str) -> None:
    """Check a search or figures route: ``own`` sees none of ``other``'s rows, which ``other`` does see."""
    assert path in COLLECTION_QUERIES, f"{path} is not in COLLECTION_QUERIES; add the query that lists rows"
    query = COLLECTION_QUERIES[path]
    own = client.get(path, params=query, headers=tenants.own_headers)
    other = client.get(path, params=query, headers=tenants.other_headers)
    assert own.status_code == 200, own.text
    assert other.status_code == 200, other.text
    assert _row_count(other.json()) > 0, f"{path}: the owner sees no rows, so the check proves nothing"
    assert _row_count(own.json()) == 0, f"{path}: another tenant's token sees rows: {own.text[:500]}"
    assert OTHER_MARKER not in own.text


def _row_count(body: dict[str, Any]) -> int:
    if "meta" in body:
        return int(body["meta"]["total"])
    return int(body["total"]["tickets"])


def check_uploads(client: httpx.Client, db: Database, tenants: Tenants) -> None:
    """Check that the same archive uploaded by both opens a job in each, and contacts land only in ``own``."""
    flow = build_demo_flow(seed=23)
    files = {"archive": (flow.filename, flow.archive, "application/zip")}
    first = client.post("/api/v1/jobs", headers=tenants.other_headers, files=files)
    second = client.post("/api/v1/jobs", headers=tenants.own_headers, files=files)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, f"the other tenant's archive was recognised: {second.text}"
    assert second.json()["created"] is True

    before = _contacts(db, tenants.other)
    csv = b"codice_anagrafico;cellulare\nC0001;3331112233\n"
    imported = client.post("/api/v1/contacts", headers=tenants.own_headers,
                           files={"file": ("contatti.csv", csv, "text/csv")})
    assert imported.status_code == 200, imported.text
    assert _contacts(db, tenants.other) == before
    assert _contacts(db, tenants.own) == 1


def _contacts(db: Database, tenant: str) -> int:
    """Count the tenant's contacts directory; flows' own contacts are left out."""
    with db.tenant_session(tenant) as session:
        return session.scalar(select(func.count(Contact.id)).where(Contact.source == "directory")) or 0


def check_every_route(client: httpx.Client, app: Litestar, db: Database, tenants: Tenants) -> list[str]:
    """Run the check that fits each API route; return the routes checked."""
    checked = []
    for method, path in api_routes(app):
        if method == "POST":
            assert path in WRITE_ROUTES, f"POST {path} is not in WRITE_ROUTES; add an isolation check for it"
        elif "{" in path:
            check_object_routes(client, db, tenants, path)
        else:
            check_collection(client, tenants, path)
        checked.append(f"{method} {path}")
    check_uploads(client, db, tenants)
    return checked
