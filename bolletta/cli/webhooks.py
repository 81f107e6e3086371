"""``bolletta webhook``: endpoints that receive a tenant's events, their deliveries, and replays."""

from __future__ import annotations

import click
from sqlalchemy import select

from bolletta.platform.settings import load_settings
from bolletta.platform.webhooks.endpoints import EVENTS


@click.group()
def webhook() -> None:
    """Outgoing webhook commands."""


@webhook.command("add")
@click.argument("tenant_slug")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True, type=click.Choice(EVENTS),
              help="An event to send; repeat for several.")
@click.option("--by", "added_by", required=True, help="Who adds it, for the audit log (e.g. user:mario).")
def webhook_add(tenant_slug: str, url: str, events: tuple[str, ...], added_by: str) -> None:
    """Send TENANT_SLUG's EVENTS to URL (https); prints the signing secret, shown this once."""
    from bolletta.platform import runtime
    from bolletta.platform.webhooks.endpoints import add_endpoint

    rt = runtime.configure(load_settings())
    endpoint = add_endpoint(rt, tenant_slug, url, list(events), added_by=added_by)
    click.echo(f"Endpoint {endpoint.id} added. Signing secret (store it now, it is not shown again):")
    click.echo(endpoint.secret)


@webhook.command("list")
@click.argument("tenant_slug")
def webhook_list(tenant_slug: str) -> None:
    """List TENANT_SLUG's endpoints."""
    from bolletta.platform import runtime
    from bolletta.platform.webhooks.endpoints import list_endpoints

    rt = runtime.configure(load_settings())
    for endpoint in list_endpoints(rt, tenant_slug):
        state = "active" if endpoint.active else "removed"
        click.echo(f"{endpoint.id}\t{state}\t{endpoint.url}\t{','.join(endpoint.events)}")


@webhook.command("remove")
@click.argument("tenant_slug")
@click.argument("endpoint_id", type=int)
@click.option("--by", "removed_by", required=True, help="Who removes it, for the audit log.")
def webhook_remove(tenant_slug: str, endpoint_id: int, removed_by: str) -> None:
    """Stop sending to ENDPOINT_ID; its deliveries stay for the record."""
    from bolletta.platform import runtime
    from bolletta.platform.webhooks.endpoints import remove_endpoint

    rt = runtime.configure(load_settings())
    remove_endpoint(rt, tenant_slug, endpoint_id, removed_by=removed_by)
    click.echo(f"Endpoint {endpoint_id} removed.")


@webhook.command("deliveries")
@click.argument("tenant_slug")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), help="Only deliveries in this state.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def webhook_deliveries(tenant_slug: str, status: str | None, limit: int) -> None:
    """List TENANT_SLUG's latest deliveries with their attempts."""
    from bolletta.platform import runtime
    from bolletta.platform.db.models.tenant import WebhookAttempt, WebhookDelivery

    rt = runtime.configure(load_settings())
    with rt.db.tenant_session(tenant_slug) as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
        if status:
            query = query.where(WebhookDelivery.status == status)
        for delivery in session.scalars(query):
            codes = session.scalars(select(WebhookAttempt.status_code).where(
                WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.id)).all()
            attempts = ",".join(str(code) if code is not None else "error" for code in codes) or "-"
            click.echo(f"{delivery.id}\t{delivery.status}\t{delivery.event}\t{delivery.object_key}\t"
                       f"{delivery.created_at:%Y-%m-%d %H:%M:%S}\tattempts: {attempts}")


@webhook.command("replay")
@click.argument("tenant_slug")
@click.argument("delivery_id", type=int)
@click.option("--by", "replayed_by", required=True, help="Who replays it, for the audit log.")
def webhook_replay(tenant_slug: str, delivery_id: int, replayed_by: str) -> None:
    """Send DELIVERY_ID again, whatever its state."""
    from bolletta.platform import runtime, workers
    from bolletta.platform.webhooks.delivery import replay

    settings = load_settings()
    rt = runtime.configure(settings)
    workers.setup_broker(settings)
    workers.load_actors()
    replay(rt, tenant_slug, delivery_id, replayed_by=replayed_by)
    click.echo(f"Delivery {delivery_id} queued again.")
