"""What the web server writes about requests, for ``gunicorn.conf.py``.

- **Reporters leave no trace.** A line such as ``POST / 200 5123`` at 14:03:27 dates a tip to
  the second and sizes it, so, as SecureDrop's source interface does, no reporter request is
  logged. Only console requests whose URL carries no value are: the console marks them in the
  WSGI environ (``LOGGABLE``). Setup and invitation links hold tokens in the path, filters sit
  in the query, tip pages name the tip: none of those is written.
- **Errors stay, without request details:** a 5xx on an unlogged request is written as its
  status and minute only; gunicorn's own messages about bad requests lose the client address.
- **No ``Server`` banner:** gunicorn announces itself in every response; ``quiet_server_header``
  drops the header.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta
from typing import IO, Any

from gunicorn.glogging import Logger
from gunicorn.http import wsgi as gunicorn_wsgi

# Set to True in the WSGI environ by the console for requests that are safe to log.
LOGGABLE = "tipline.access_log"


class AccessLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's logger, writing only what a request marked ``LOGGABLE`` allows."""

    # The error log's times are minutes: an error line must not date a tip either.
    datefmt = r"[%Y-%m-%d %H:%M %z]"

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if environ.get(LOGGABLE) is True:
            super().access(resp, req, environ, request_time)
            return
        status = str(getattr(resp, "status", "") or "").split(None, 1)[0]
        if status.startswith("5") and self.access_log_enabled:
            self.access_log.info("%s server error %s (request not logged)", time.strftime("[%d/%b/%Y:%H:%M %z]"),
                                 status)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        # gunicorn: "Invalid request from ip=<the client's address>: <what it sent>"
        if isinstance(msg, str) and msg.startswith("Invalid request from"):
            msg, args = "Invalid request refused (address and request not logged)", ()
        super().warning(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        # gunicorn: "Error handling request <method> <uri>", with a traceback that may quote values.
        if isinstance(msg, str) and msg.startswith("Error handling request"):
            kind = sys.exc_info()[0]
            self.error_log.error("Error handling a request: %s (request and message not logged)",
                                 getattr(kind, "__name__", "error"))
            return
        super().exception(msg, *args, **kwargs)


def minute_app_log(stream: IO[str] | None = None) -> logging.Handler:
    """Send the app's own log lines (``tipline.*``) to stderr stamped to the minute; Flask then
    adds no handler of its own, whose milliseconds would date a reporter's failed request."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(name)s: %(message)s",
                                           AccessLogger.datefmt))
    logger = logging.getLogger("tipline")
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return handler


def quiet_server_header() -> None:
    """Stop gunicorn sending ``Server: gunicorn`` (it names the software to anyone who asks)."""
    response = gunicorn_wsgi.Response
    if getattr(response, "_tipline_quiet", False):
        return
    original = response.default_headers

    def default_headers(self: Any) -> list[str]:
        return [h for h in original(self) if not h.lower().startswith("server:")]

    response.default_headers = default_headers
    response._tipline_quiet = True
