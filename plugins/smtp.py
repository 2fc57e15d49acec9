"""Delivery by email over SMTP.

Settings come only from ``OutgoingDelivery.settings`` (filled by the worker):

- ``smtp_url``: ``smtp://user:pass@host:port?starttls=1&from=tipline@district.example.org``
  (``smtps://`` for TLS from the first byte). Query options: ``starttls=1`` upgrades the
  connection before anything else is said, ``from`` is the sender address, ``cafile`` names a
  CA bundle for a district's private relay, ``timeout`` is in seconds (default 30).
  Credentials in the URL are percent-decoded and sent with AUTH; they are never sent over an
  unencrypted connection, except to a relay on loopback.

Police and welfare forwards carry the whole tip, so they always travel over TLS, to any relay,
with or without credentials: ``smtps://``, or STARTTLS (tried even without ``starttls=1``),
with the certificate checked. A relay that offers neither gets nothing: the forward fails
before any message is sent, and the worker retries and alerts the admins.

The idempotency key goes into ``Message-ID`` and ``X-Tipline-Idempotency-Key`` so a mail
system (or a person) can tell a resent message from a new one. Nothing here logs the body.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from tipline.hookspecs import hookimpl
from tipline.types import OutgoingDelivery

CHANNEL = "smtp"
DEFAULT_FROM = "tipline@localhost"
TRUE = {"1", "true", "yes", "on"}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# Deliveries that carry a tip's content (see tipline.worker.POLICE_PURPOSES).
CONFIDENTIAL_PURPOSES = frozenset({"police", "welfare"})


class SMTPSettingsError(RuntimeError):
    """TIPLINE_SMTP_URL is missing or malformed; the message says what to change."""


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    cafile: str | None
    timeout: float

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK


def parse_url(url: str) -> SMTPSettings:
    if not url:
        raise SMTPSettingsError("TIPLINE_SMTP_URL is not set: email cannot be delivered")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise SMTPSettingsError("TIPLINE_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise SMTPSettingsError("TIPLINE_SMTP_URL names no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 25)
        timeout = float(query.get("timeout", "30"))
    except ValueError as exc:
        raise SMTPSettingsError("TIPLINE_SMTP_URL has a port or timeout that is not a number") from exc
    return SMTPSettings(
        host=parts.hostname,
        port=port,
        implicit_tls=implicit,
        starttls=query.get("starttls", "0").lower() in TRUE,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=query.get("from") or DEFAULT_FROM,
        cafile=query.get("cafile") or None,
        timeout=timeout,
    )


def _text(body: dict[str, object]) -> str:
    text = body.get("text")
    if isinstance(text, str):
        return text
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def build_message(delivery: OutgoingDelivery, sender: str) -> EmailMessage:
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "localhost"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = delivery.destination
    msg["Subject"] = delivery.subject or "Tipline"
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = f"<{delivery.idempotency_key}@{domain}>"
    msg["X-Tipline-Idempotency-Key"] = delivery.idempotency_key
    msg["X-Tipline-Purpose"] = delivery.purpose
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_text(delivery.body))
    for filename, content_type, data in delivery.attachments:
        maintype, _, subtype = content_type.partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


class SMTPTLSRequired(RuntimeError):
    """A police or welfare forward would have left in clear: nothing was sent."""


def send(delivery: OutgoingDelivery) -> None:
    conf = parse_url(delivery.settings.get("smtp_url", ""))
    if conf.username is not None and not (conf.implicit_tls or conf.starttls or conf.loopback):
        raise SMTPSettingsError("TIPLINE_SMTP_URL has credentials but no encryption: add ?starttls=1 "
                                "or use smtps://")
    confidential = delivery.purpose in CONFIDENTIAL_PURPOSES
    context = ssl.create_default_context(cafile=conf.cafile)
    msg = build_message(delivery, conf.sender)
    client: smtplib.SMTP
    if conf.implicit_tls:
        client = smtplib.SMTP_SSL(conf.host, conf.port, timeout=conf.timeout, context=context)
    else:
        client = smtplib.SMTP(conf.host, conf.port, timeout=conf.timeout)
    with client:
        client.ehlo()
        if not conf.implicit_tls and (conf.starttls or confidential):
            if confidential and not client.has_extn("starttls"):
                raise SMTPTLSRequired("the SMTP relay offers no STARTTLS: a police or welfare forward is never "
                                      "sent in clear (use a relay with TLS, or smtps://)")
            client.starttls(context=context)  # raises if the server does not offer it
            client.ehlo()
        if conf.username is not None:
            client.login(conf.username, conf.password or "")
        refused = client.send_message(msg, from_addr=conf.sender, to_addrs=[delivery.destination])
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


@hookimpl
def tipline_delivery_channels() -> list[str]:
    return [CHANNEL]


@hookimpl
def tipline_deliver(delivery: OutgoingDelivery) -> bool | None:
    if delivery.channel != CHANNEL:
        return None
    send(delivery)
    return True
