"""Request parsing: broken text made visible, file parts kept apart from the text limit and in memory.

Werkzeug keeps undecodable bytes in url-encoded forms as literal ``%FF`` escapes, which
look like typed text. Decoding with replacement instead marks them with U+FFFD, which the
reporter pages detect and explain, keeping the rest of what was typed.

Werkzeug applies the form memory limit (meant for text fields) to its whole multipart buffer
too, files included: the buffer holds one read of the body plus a few bytes kept back in
case a boundary is split between reads, so a 64 KiB read with anything kept back went over a
64 KiB limit, and photos were refused depending on how the body arrived. Reading in pieces
well below the limit keeps that buffer under it for any chunking, while each text field is
still held to the limit on its own.

Files are kept in memory instead of Werkzeug's temporary file (which goes to disk past
500 KB): a reporter's photo is plaintext until it is sealed, and must never touch the disk.
The request limit (``MAX_CONTENT_LENGTH``) bounds how much that can be.
"""

from __future__ import annotations

import io
from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser

# Our url-encoded forms are small (logins, receipt codes): a large one is refused before it is
# read whole into memory, which Werkzeug's form memory limit does not do for this encoding.
MAX_URLENCODED = 128 * 1024
# The limit on one text field of a multipart form (the message is at most 10,000 characters).
MAX_FORM_MEMORY = 64 * 1024
# How much of a multipart body is read at a time: with up to a boundary's length kept back, the
# parser's buffer stays far below MAX_FORM_MEMORY. RFC 2046 allows 70 characters for a boundary;
# some clients (Werkzeug's own test client among them) use a few more, so allow plenty.
MULTIPART_READ = 16 * 1024
MAX_BOUNDARY = 1000


class TiplineFormParser(FormDataParser):
    def _parse_urlencoded(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]) -> Any:
        raw = stream.read(MAX_URLENCODED + 1)
        if len(raw) > MAX_URLENCODED:
            raise RequestEntityTooLarge()
        items = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()

    def _parse_multipart(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                         options: dict[str, str]) -> Any:
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary or len(boundary) > MAX_BOUNDARY:
            raise ValueError("missing or over-long boundary")  # parsed as an empty form, like Werkzeug's own
        parser = MultiPartParser(stream_factory=self.stream_factory, max_form_memory_size=self.max_form_memory_size,
                                 max_form_parts=self.max_form_parts, cls=self.cls, buffer_size=MULTIPART_READ)
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files



class TiplineRequest(Request):
    form_data_parser_class = TiplineFormParser

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()
