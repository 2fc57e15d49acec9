"""Opening a tip's sealed fields once its data key is in hand (reporter, staff or worker)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from tipline import crypto
from tipline.models import Attachment, Message, Tip


@dataclass(frozen=True)
class OpenReport:
    message: str
    category: str
    contact: str


@dataclass(frozen=True)
class OpenAttachment:
    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None


@dataclass(frozen=True)
class OpenMessage:
    id: int
    direction: str
    text: str
    created_at: datetime
    staff_id: int | None


def report(tip: Tip, data_key: bytes) -> OpenReport:
    raw = json.loads(crypto.open_field(data_key, tip.id, "report", tip.sealed_report))
    return OpenReport(message=raw["message"], category=raw["category"], contact=raw.get("contact", ""))


def attachment_meta(att: Attachment, data_key: bytes) -> OpenAttachment:
    raw = json.loads(crypto.open_field(data_key, att.tip_id, f"attachment/{att.label}/meta", att.sealed_meta))
    return OpenAttachment(att.id, raw["filename"], raw["content_type"], int(raw["size"]), att.message_id)


def attachment_content(att: Attachment, data_key: bytes) -> bytes:
    return crypto.open_field(data_key, att.tip_id, f"attachment/{att.label}/content", att.sealed_content)


def message(msg: Message, data_key: bytes) -> OpenMessage:
    text = crypto.open_field(data_key, msg.tip_id, f"message/{msg.id}", msg.sealed_body).decode()
    return OpenMessage(msg.id, msg.direction, text, msg.created_at, msg.staff_id)


def seal_message_body(data_key: bytes, msg: Message, text: str) -> bytes:
    return crypto.seal_field(data_key, msg.tip_id, f"message/{msg.id}", text.encode())
