"""Delivery by signed JSON POST (police dispatch systems, district integrations).

Settings come only from ``OutgoingDelivery.settings`` (filled by the worker):
``webhook_secret`` (TIPLINE_WEBHOOK_SECRET, required: nothing is sent unsigned) and
``webhook_timeout`` in seconds (default 10).

Each request carries ``X-Tipline-Signature: sha256=<hex HMAC-SHA256 of the exact body>``
and ``Idempotency-Key`` (stable across retries: a receiver that sees a key twice keeps the
first). Attachments travel base64-encoded in the JSON. Redirects are not followed and any
answer other than 2xx raises, so the worker retries. Nothing here logs the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.request
from typing import IO
from urllib.error import HTTPError
from urllib.parse import urlsplit

from tipline.hookspecs import hookimpl
from tipline.types import OutgoingDelivery

CHANNEL = "webhook"
DEFAULT_TIMEOUT = 10.0
SIGNATURE_HEADER = "X-Tipline-Signature"


class WebhookError(RuntimeError):
    """The endpoint did not accept the delivery, or the settings are incomplete."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body: refuse instead.
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: object, newurl: str) -> urllib.request.Request | None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute the signature over the raw body, compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


def payload(delivery: OutgoingDelivery) -> bytes:
    data: dict[str, object] = dict(delivery.body)
    data.setdefault("idempotency_key", delivery.idempotency_key)
    data.setdefault("purpose", delivery.purpose)
    data.setdefault("subject", delivery.subject)
    if delivery.attachments:
        data["attachments"] = [
            {"filename": name, "content_type": ctype, "size": len(content),
             "content_base64": base64.b64encode(content).decode("ascii")}
            for name, ctype, content in delivery.attachments
        ]
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


def send(delivery: OutgoingDelivery) -> int:
    secret = delivery.settings.get("webhook_secret", "")
    if not secret:
        raise WebhookError("TIPLINE_WEBHOOK_SECRET is not set: refusing to send an unsigned webhook")
    url = delivery.destination
    if urlsplit(url).scheme not in ("http", "https"):
        raise WebhookError("a webhook endpoint must be an http:// or https:// address")
    try:
        timeout = float(delivery.settings.get("webhook_timeout") or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = DEFAULT_TIMEOUT
    body = payload(delivery)
    request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - scheme checked
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Tipline-Worker",
        "Idempotency-Key": delivery.idempotency_key,
        SIGNATURE_HEADER: sign(secret, body),
    })
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            response.read(64 * 1024)
    except HTTPError as exc:
        exc.close()
        raise WebhookError(f"the endpoint answered HTTP {exc.code}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"the endpoint answered HTTP {status}")
    return status


@hookimpl
def tipline_delivery_channels() -> list[str]:
    return [CHANNEL]


@hookimpl
def tipline_deliver(delivery: OutgoingDelivery) -> bool | None:
    if delivery.channel != CHANNEL:
        return None
    send(delivery)
    return True
