"""Delivery over webhook (placeholder until the delivery issue lands)."""

from __future__ import annotations

from tipline.hookspecs import hookimpl
from tipline.types import OutgoingDelivery


@hookimpl
def tipline_deliver(delivery: OutgoingDelivery) -> bool | None:
    return None
