"""Delivering the outbox (being written)."""

from __future__ import annotations

import click


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker_command(once: bool) -> None:
    """Deliver outbox rows: police forwards, staff notifications, alerts."""
    raise click.ClickException("not yet written")
