"""``bolletta payments``: gateway settings with encrypted secrets, and the reconciliation run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import load_settings


@click.group()
def payments() -> None:
    """Online payment commands."""


@payments.command("set-gateway")
@click.argument("tenant_slug")
@click.argument("gateway_id")
@click.argument("settings_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def set_gateway(tenant_slug: str, gateway_id: str, settings_file: Path) -> None:
    """Enable GATEWAY_ID for TENANT_SLUG with the JSON settings in SETTINGS_FILE (secrets are encrypted)."""
    from bolletta.platform import runtime
    from bolletta.platform.payments.gateways import save_gateway_settings

    try:
        data = json.loads(settings_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigurationError(f"{settings_file} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{settings_file} must hold one JSON object of settings")
    rt = runtime.configure(load_settings())
    save_gateway_settings(rt, tenant_slug, gateway_id, data, actor="cli")
    click.echo(f"Gateway {gateway_id} enabled for {tenant_slug}; its secret fields are stored encrypted.")


@payments.command("reconcile")
@click.argument("tenant_slug", required=False)
def reconcile(tenant_slug: str | None) -> None:
    """Ask the gateways about pending payments older than each tenant's reconciliation age."""
    from bolletta.platform import runtime
    from bolletta.platform.payments.reconciliation import reconcile_all, reconcile_tenant

    rt = runtime.configure(load_settings())
    results = {tenant_slug: reconcile_tenant(rt, tenant_slug)} if tenant_slug else reconcile_all(rt)
    for slug, outcomes in results.items():
        summary = ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items())) or "nothing pending"
        click.echo(f"{slug}: {summary}")
