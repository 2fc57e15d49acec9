"""Slowing password and recovery-key guessing without letting anyone lock a member out.

Failures are counted, never successes, and only in the rate limiter's store (Redis, or
memory) with a TTL, like every other limit here:

- one account from one address (an HMAC of it under the daily secret): after 5 failures in
  15 minutes, that address may not try that account again until the window moves on;
- one account from browsers its member never signed in with: after 10 failures in 15 minutes,
  from any number of addresses, such browsers may not try it;
- one trusted browser: where a member signed in before, a signed device cookie for that
  account is kept; its failures count on their own (10 in 15 minutes), and the two counters
  above do not apply to it. A guesser elsewhere therefore never stops the owner signing in
  from their usual browser with their password and code.

Accounts are counted by an HMAC of the email as typed, whether or not anyone has it, so a
made-up email is refused and answered exactly like a real one. A refused attempt checks no
password and gets one generic sentence, so it tells a guesser nothing. The price: during a
sustained attack on one account, its owner on a browser they never used waits up to 15
minutes (or signs in from a browser they used before). Each sign-in needs the password and a
fresh TOTP code together, and a failure never says which was wrong, so at most 10 checked
guesses per 15 minutes per account from unknown browsers leave a guesser with no useful odds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass

from flask import current_app, request
from limits import RateLimitItem, parse
from limits.strategies import RateLimiter
from werkzeug.wrappers import Response

from tipline.config import Settings
from tipline.security import address_key

PAIR = parse("5 per 15 minutes")
ACCOUNT = parse("10 per 15 minutes")
DEVICE = parse("10 per 15 minutes")
# Recovery has no per-address view limit: this one also slows one address trying many accounts.
RECOVER_ADDRESS = parse("20 per hour")
DEVICE_COOKIE = "tl_device"
DEVICE_DAYS = 180
REFUSED = ("Too many failed attempts for this email. Wait 15 minutes and try again, or use a browser "
           "you have signed in with before.")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    kind: str  # "login" or "recover"
    account: str
    address: str
    device: str | None  # the nonce of a valid device cookie for this account


def _settings() -> Settings:
    s: Settings = current_app.extensions["tipline.settings"]
    return s


def _mac(message: str) -> str:
    key = hashlib.sha256(b"tipline/v1/signin-throttle/" + _settings().secret_key.encode()).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


def _account(email: str) -> str:
    return _mac("account/" + email.strip().lower())


def _device_mac(account: str, issued: int, nonce: str) -> str:
    return _mac(f"device/{account}/{issued}/{nonce}")


def _trusted_device(account: str) -> str | None:
    parts = request.cookies.get(DEVICE_COOKIE, "").split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    issued, nonce, mac = int(parts[0]), parts[1], parts[2]
    if time.time() - issued > DEVICE_DAYS * 86400:
        return None
    if not hmac.compare_digest(mac, _device_mac(account, issued, nonce)):
        return None
    return nonce


def begin(kind: str, email: str) -> Attempt:
    account = _account(email)
    return Attempt(kind, account, address_key(), _trusted_device(account))


def _strategy() -> RateLimiter:
    limiter: RateLimiter = current_app.extensions["tipline.limiter"].limiter
    return limiter


def _prefix() -> str:
    return "tl-signin-" + str(_settings().extra.get("limiter_prefix", "tipline"))


def _counters(attempt: Attempt) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    base = (_prefix(), attempt.kind)
    counters: list[tuple[RateLimitItem, tuple[str, ...]]]
    if attempt.device is not None:
        counters = [(DEVICE, (*base, "device", attempt.device))]
    else:
        counters = [(PAIR, (*base, "pair", attempt.account, attempt.address)),
                    (ACCOUNT, (*base, "account", attempt.account))]
    if attempt.kind == "recover":
        counters.append((RECOVER_ADDRESS, (*base, "address", attempt.address)))
    return counters


def allowed(attempt: Attempt) -> bool:
    """Whether the credentials of this attempt may be checked at all."""
    try:
        return all(_strategy().test(item, *ids) for item, ids in _counters(attempt))
    except Exception as exc:  # noqa: BLE001 - a store outage must not stop staff signing in
        log.warning("sign-in throttle store unavailable: %s", type(exc).__name__)
        return True


def failed(attempt: Attempt) -> None:
    try:
        for item, ids in _counters(attempt):
            _strategy().hit(item, *ids)
    except Exception as exc:  # noqa: BLE001
        log.warning("sign-in throttle store unavailable: %s", type(exc).__name__)


def succeeded(attempt: Attempt, response: Response) -> Response:
    """Forget this address's typos for the account and trust this browser from now on."""
    try:
        _strategy().clear(PAIR, _prefix(), attempt.kind, "pair", attempt.account, attempt.address)
    except Exception as exc:  # noqa: BLE001
        log.warning("sign-in throttle store unavailable: %s", type(exc).__name__)
    issued, nonce = int(time.time()), secrets.token_urlsafe(12)
    response.set_cookie(DEVICE_COOKIE, f"{issued}.{nonce}.{_device_mac(attempt.account, issued, nonce)}",
                        max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Strict", path="/console",
                        secure=_settings().secure_cookies)
    return response
