"""The delivery plugins against real servers on loopback: SMTP (aiosmtpd) and webhooks."""

from __future__ import annotations

import base64
import json
import smtplib
from pathlib import Path
from urllib.error import URLError

import pluggy
import pytest
from servers import HTTPServer, SMTPServer, self_signed

from plugins import smtp as smtp_plugin
from plugins import webhook as webhook_plugin
from tipline import plugins as hooks
from tipline.types import OutgoingDelivery

SECRET = "webhook-secret-for-tests"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def delivery(channel: str, destination: str, settings: dict[str, str], **kw: object) -> OutgoingDelivery:
    values: dict[str, object] = {
        "id": 7, "channel": channel, "destination": destination, "purpose": "police",
        "subject": "Tipline dispatch: tip for SHS",
        "body": {"reference": "abc123", "message": "the words «in» the tip", "text": "Readable body ✓"},
        "idempotency_key": "key-0123456789abcdef", "settings": settings,
    }
    values.update(kw)
    return OutgoingDelivery(**values)  # type: ignore[arg-type]


def manager() -> pluggy.PluginManager:
    pm = hooks.make_manager(load_entry_points=False)
    pm.register(smtp_plugin)
    pm.register(webhook_plugin)
    return pm


# --- SMTP -----------------------------------------------------------------------------------


def test_smtp_delivers_plain_with_idempotency_headers_and_attachments(smtp_server: SMTPServer) -> None:
    out = delivery("smtp", "dispatch@police.example.org",
                   {"smtp_url": smtp_server.url(**{"from": "tipline@district.example.org"})},
                   attachments=(("photo.png", "image/png", PNG),), purpose="notify")
    assert hooks.deliver(manager(), out) is True

    [mail] = smtp_server.messages
    msg = mail.message
    assert mail.rcpt_tos == ("dispatch@police.example.org",)
    assert mail.mail_from == "tipline@district.example.org"
    assert msg["Subject"] == "Tipline dispatch: tip for SHS"
    assert msg["X-Tipline-Idempotency-Key"] == "key-0123456789abcdef"
    assert msg["Message-ID"] == "<key-0123456789abcdef@district.example.org>"
    assert mail.texts()[0].strip() == "Readable body ✓"
    assert mail.attachments() == [("photo.png", "image/png", PNG)]
    assert mail.tls is False and mail.login is None


def test_smtp_starttls_and_auth(tmp_path: Path) -> None:
    tls = self_signed(tmp_path)
    server = SMTPServer(users={"relay": "p@ss word"}, tls=tls).start()
    try:
        base = f"smtp://relay:p%40ss%20word@127.0.0.1:{server.port}?starttls=1&cafile={tls.cert}"
        smtp_plugin.send(delivery("smtp", "sro@westport-pd.example.org", {"smtp_url": base}))
        [mail] = server.messages
        assert mail.tls is True
        assert mail.login == "relay"

        wrong = f"smtp://relay:nope@127.0.0.1:{server.port}?starttls=1&cafile={tls.cert}"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp_plugin.send(delivery("smtp", "sro@westport-pd.example.org", {"smtp_url": wrong}))
        # The server's certificate is checked: without the CA file the handshake fails.
        untrusted = f"smtp://relay:nope@127.0.0.1:{server.port}?starttls=1"
        with pytest.raises(OSError):
            smtp_plugin.send(delivery("smtp", "sro@westport-pd.example.org", {"smtp_url": untrusted}))
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_smtp_refuses_to_send_credentials_unencrypted_to_a_remote_relay() -> None:
    conf = smtp_plugin.parse_url("smtp://u:p%2F1@mail.example.org:587?from=a@b.example")
    assert (conf.username, conf.password, conf.port, conf.sender) == ("u", "p/1", 587, "a@b.example")
    assert not conf.starttls and not conf.loopback
    # Refused before any connection is made (mail.example.org is never contacted).
    with pytest.raises(smtp_plugin.SMTPSettingsError, match="starttls"):
        smtp_plugin.send(delivery("smtp", "a@example.org", {"smtp_url": "smtp://u:p@mail.example.org:587"}))
    with pytest.raises(smtp_plugin.SMTPSettingsError, match="not set"):
        smtp_plugin.send(delivery("smtp", "a@example.org", {}))
    with pytest.raises(smtp_plugin.SMTPSettingsError, match="smtp://"):
        smtp_plugin.parse_url("http://mail.example.org")


def test_smtp_starttls_requested_but_not_offered_fails(smtp_server: SMTPServer) -> None:
    with pytest.raises(smtplib.SMTPNotSupportedError):
        smtp_plugin.send(delivery("smtp", "a@example.org", {"smtp_url": smtp_server.url(starttls="1")},
                                  purpose="notify"))
    assert smtp_server.messages == []


def test_smtp_server_down_raises(smtp_server: SMTPServer) -> None:
    url = smtp_server.url()
    smtp_server.stop()
    with pytest.raises(OSError):
        smtp_plugin.send(delivery("smtp", "a@example.org", {"smtp_url": url}))
    smtp_server.start()  # the fixture stops it again


def test_plugins_ignore_other_channels() -> None:
    out = delivery("carrier-pigeon", "coop", {})
    assert smtp_plugin.tipline_deliver(out) is None
    assert webhook_plugin.tipline_deliver(out) is None
    with pytest.raises(hooks.PluginError):
        hooks.deliver(manager(), out)


# --- webhook --------------------------------------------------------------------------------


def test_webhook_posts_signed_json_with_attachments(http_server: HTTPServer) -> None:
    out = delivery("webhook", http_server.url("/dispatch"), {"webhook_secret": SECRET},
                   attachments=(("photo.png", "image/png", PNG),))
    assert hooks.deliver(manager(), out) is True

    [req] = http_server.requests
    assert req.path == "/dispatch"
    assert req.header("Idempotency-Key") == "key-0123456789abcdef"
    assert (req.header("Content-Type") or "").startswith("application/json")
    signature = req.header("X-Tipline-Signature")
    assert signature is not None and signature.startswith("sha256=")
    assert webhook_plugin.verify(SECRET, req.body, signature)
    assert not webhook_plugin.verify("another-secret", req.body, signature)
    assert not webhook_plugin.verify(SECRET, req.body + b" ", signature)
    data = json.loads(req.body)
    assert data["reference"] == "abc123"
    assert data["message"] == "the words «in» the tip"
    assert data["idempotency_key"] == "key-0123456789abcdef"
    [att] = data["attachments"]
    assert att["filename"] == "photo.png" and att["content_type"] == "image/png"
    assert base64.b64decode(att["content_base64"]) == PNG


@pytest.mark.parametrize("status", [503, 404, 500])
def test_webhook_non_2xx_raises(http_server: HTTPServer, status: int) -> None:
    http_server.status = status
    with pytest.raises(webhook_plugin.WebhookError, match=str(status)):
        webhook_plugin.send(delivery("webhook", http_server.url(), {"webhook_secret": SECRET}))
    assert len(http_server.requests) == 1


def test_webhook_does_not_follow_redirects(http_server: HTTPServer) -> None:
    http_server.status = 302
    http_server.state.location = http_server.url("/elsewhere")
    with pytest.raises(webhook_plugin.WebhookError, match="302"):
        webhook_plugin.send(delivery("webhook", http_server.url("/dispatch"), {"webhook_secret": SECRET}))
    assert [r.path for r in http_server.requests] == ["/dispatch"]


def test_webhook_down_raises(http_server: HTTPServer) -> None:
    url = http_server.url()
    http_server.stop()
    with pytest.raises(URLError):
        webhook_plugin.send(delivery("webhook", url, {"webhook_secret": SECRET}))


def test_webhook_refuses_to_send_unsigned_or_to_other_schemes(http_server: HTTPServer) -> None:
    with pytest.raises(webhook_plugin.WebhookError, match="WEBHOOK_SECRET"):
        webhook_plugin.send(delivery("webhook", http_server.url(), {}))
    with pytest.raises(webhook_plugin.WebhookError, match="http"):
        webhook_plugin.send(delivery("webhook", "file:///etc/passwd", {"webhook_secret": SECRET}))
    assert http_server.requests == []
