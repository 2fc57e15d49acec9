"""Pages by SMS or voice call, through an SMS gateway, over signed HTTPS.

The generic webhook shape (``plugins/webhook.py``): a JSON POST to the gateway
(``sms_gateway_url``, from TIPLINE_SMS_GATEWAY_URL) with ``X-Tipline-Signature: sha256=<hex
HMAC-SHA256 of the body>`` under TIPLINE_WEBHOOK_SECRET and an ``Idempotency-Key`` that is
stable across retries. The body says ``to`` (the member's E.164 number), ``text`` (the page:
a console link and an acknowledgement code, never tip content) and ``voice_text`` for a
gateway that calls instead of texting. The gateway must be ``https://`` except on loopback.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from plugins import webhook
from tipline.hookspecs import hookimpl
from tipline.types import OutgoingDelivery

CHANNEL = "sms"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# Only pages travel by SMS: a text message is no place for a tip.
ALLOWED_PURPOSES = frozenset({"page"})


class SMSError(RuntimeError):
    """The page could not be handed to the gateway; the worker retries."""


def gateway_request(delivery: OutgoingDelivery) -> OutgoingDelivery:
    """The webhook delivery that carries one text to the gateway."""
    if delivery.purpose not in ALLOWED_PURPOSES:
        raise SMSError("only pages are sent by SMS")
    gateway = delivery.settings.get("sms_gateway_url", "")
    parts = urlsplit(gateway)
    if not gateway or parts.scheme not in ("https", "http"):
        raise SMSError("TIPLINE_SMS_GATEWAY_URL is not set to the gateway's https:// address")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise SMSError("the SMS gateway must be an https:// address")
    if not E164.match(delivery.destination):
        raise SMSError("the phone number is not in E.164 form")
    text = str(delivery.body.get("text", ""))
    body: dict[str, object] = {
        "to": delivery.destination,
        "text": text,
        "voice_text": text.replace(" . ", ". "),
        "reference": delivery.body.get("reference"),
    }
    return dataclasses.replace(delivery, channel=webhook.CHANNEL, destination=gateway, body=body, attachments=())


@hookimpl
def tipline_deliver(delivery: OutgoingDelivery) -> bool | None:
    if delivery.channel != CHANNEL:
        return None
    webhook.send(gateway_request(delivery))
    return True
