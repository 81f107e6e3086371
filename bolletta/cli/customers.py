"""``bolletta customer``: export or erase one customer's data (data subject requests)."""

from __future__ import annotations

from pathlib import Path

import click

from bolletta.platform.settings import load_settings

_tenant = click.option("--tenant", "tenant_slug", required=True, help="Slug of the customer's tenant.")
_customer_code = click.option("--customer-code", help="The customer's code in the utility's billing system.")
_fiscal_code = click.option("--fiscal-code", help="The customer's codice fiscale, instead of the code.")
_by = click.option("--by", "username", required=True,
                   help="Username of the admin who handles the request; recorded in the audit trail.")


@click.group()
def customer() -> None:
    """Data subject requests for one customer of a tenant."""


@customer.command("export")
@_tenant
@_customer_code
@_fiscal_code
@_by
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="ZIP file to write (JSON Lines and CSV of every kind of row, and the bill PDFs).")
def export(tenant_slug: str, customer_code: str | None, fiscal_code: str | None, username: str, output: Path) -> None:
    """Write everything the tenant stores about the customer to one ZIP archive."""
    from bolletta.platform import runtime
    from bolletta.platform.privacy.requests import admin_requester, export_customer

    if output.exists():
        raise click.ClickException(f"{output} already exists; choose a new file name for the export.")
    rt = runtime.configure(load_settings())
    requester = admin_requester(rt, tenant_slug, username)
    partial = output.with_name(output.name + ".part")
    try:
        with partial.open("wb") as target:
            counts = export_customer(rt, tenant_slug, target, requester,
                                     customer_code=customer_code, fiscal_code=fiscal_code)
    except BaseException:
        partial.unlink(missing_ok=True)  # a failed export leaves no half-written file
        raise
    partial.replace(output)
    click.echo(f"Wrote {output}: " + ", ".join(f"{name} {count}" for name, count in counts.items()))


@customer.command("erase")
@_tenant
@_customer_code
@_fiscal_code
@_by
@click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
def erase(tenant_slug: str, customer_code: str | None, fiscal_code: str | None, username: str, yes: bool) -> None:
    """Erase or anonymise the customer's personal data, keeping the accounting records."""
    from bolletta.platform import runtime
    from bolletta.platform.privacy.requests import admin_requester, erase_customer, load_subject

    rt = runtime.configure(load_settings())
    requester = admin_requester(rt, tenant_slug, username)
    subject = load_subject(rt, tenant_slug, customer_code=customer_code, fiscal_code=fiscal_code)
    if not yes:
        click.confirm(f"Erase the personal data of {len(subject.bill_ids)} bills and {len(subject.contact_ids)} "
                      f"contacts of tenant {tenant_slug}? This cannot be undone", abort=True)
    result = erase_customer(rt, tenant_slug, requester, customer_code=customer_code, fiscal_code=fiscal_code)
    click.echo("Erased: " + ", ".join(f"{name} {count}" for name, count in result.counts.items()))
    for failure in result.gateway_failures:
        click.echo(f"The gateway could not remove its data for payment {failure}; ask the provider.", err=True)
