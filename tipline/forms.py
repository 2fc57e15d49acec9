"""Request parsing that makes broken text visible instead of silently mangled.

Werkzeug keeps undecodable bytes in url-encoded forms as literal ``%FF`` escapes, which
look like typed text. Decoding with replacement instead marks them with U+FFFD, which the
reporter pages detect and explain, keeping the rest of what was typed.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

# Our url-encoded forms are small (logins, receipt codes): a large one is refused before it is
# read whole into memory, which Werkzeug's form memory limit does not do for this encoding.
MAX_URLENCODED = 128 * 1024


class ReplacingFormParser(FormDataParser):
    def _parse_urlencoded(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]) -> Any:
        raw = stream.read(MAX_URLENCODED + 1)
        if len(raw) > MAX_URLENCODED:
            raise RequestEntityTooLarge()
        items = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class TiplineRequest(Request):
    form_data_parser_class = ReplacingFormParser
