"""``bolletta plugins``: the installed channel and gateway plugins, as the platform admin's catalogue."""

from __future__ import annotations

import json
from typing import Any

import click
import msgspec


def plugin_catalogue() -> dict[str, list[dict[str, Any]]]:
    """Every installed channel and gateway plugin with id, name, version, kind and capabilities.

    A plugin that did not load is listed with ``loaded: false`` and the reason.
    """
    from bolletta.gateways.base import Gateway
    from bolletta.platform.dispatch.channels import channel_catalogue
    from bolletta.platform.plugins import load_plugins

    gateways = load_plugins("bolletta.gateways", Gateway)  # type: ignore[type-abstract]
    gateway_entries: list[dict[str, Any]] = [
        {"id": plugin.id, "name": plugin.name, "version": plugin.version, "kind": "payment",
         "contract_version": plugin.contract_version, "loaded": True,
         "capabilities": msgspec.to_builtins(plugin.capabilities), "secret_fields": sorted(plugin.secret_fields)}
        for _, plugin in sorted(gateways.plugins.items())
    ]
    gateway_entries += [{"id": error.plugin_id, "loaded": False, "error": error.reason} for error in gateways.errors]
    return {"channels": channel_catalogue(), "gateways": gateway_entries}


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def plugins(as_json: bool) -> None:
    """List the installed channel and gateway plugins, and those that failed to load."""
    catalogue = plugin_catalogue()
    if as_json:
        click.echo(json.dumps(catalogue, indent=2, default=str))
        return
    for group, entries in catalogue.items():
        click.echo(f"{group}:")
        for entry in entries:
            if not entry["loaded"]:
                click.echo(f"  {entry['id']}\tNOT LOADED: {entry['error']}")
                continue
            kinds = ",".join(entry.get("kinds", [entry.get("kind", "")]))
            click.echo(f"  {entry['id']}\t{entry['name']}\t{entry['version']}\t{kinds}\t"
                       f"contract {entry['contract_version']}")
