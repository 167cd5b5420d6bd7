"""The HTTP server's own answers, as JSON like every other error of the server.

uvicorn answers a request it cannot parse itself, before the app sees it, with a plain-text 400 "Invalid HTTP
request received.". Its parser (httptools) cannot split a URL past 64 KB (16-bit offsets), so a GET with a
100,000-character question ended there instead of in the documented JSON error. `json_errors_protocol()` is
uvicorn's own HTTP protocol with those answers as `{"error": message}`: 414 for a request line past
MAX_URL_BYTES (stopped as it arrives, so a huge one is never held whole), 400 for anything else it cannot
parse; both with the security headers of every other answer (`retrieval/serving/guard.py`). The connection then
stops sending and reads what the client is still sending (up to DRAIN_BYTES, DRAIN_S) before it closes, so a
client in the middle of a multi-megabyte request line reads the answer instead of a connection reset.
"""

from __future__ import annotations

import asyncio
import json
import sys
from http import HTTPStatus
from typing import Any

from retrieval.serving.guard import SECURITY_HEADERS

MAX_URL_BYTES = 65_535  # httptools' limit; a question of 1,000 characters is at most 9 KB percent-encoded
DRAIN_BYTES = 16 * 2**20  # read and dropped after an error answer, at most, before the connection closes
DRAIN_S = 5.0
URL_TOO_LONG = ("请求地址太长 (request line too long: at most 64 KB; send a long question or history with "
                "POST /api/search and a JSON body)")
BAD_REQUEST = "无效的 HTTP 请求 (invalid HTTP request)"


class _UrlTooLong(Exception):
    pass


def error_bytes(status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """A whole HTTP/1.1 response with a JSON error body; the connection closes after it."""
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode("ascii")]
    headers = [*(extra or []), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode("ascii")), (b"connection", b"close"), *SECURITY_HEADERS]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def json_errors_protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools when installed, else h11) answering what it cannot parse in JSON; pass
    it as `uvicorn.run(..., http=json_errors_protocol())`."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    base: Any = AutoHTTPProtocol

    class JsonErrorsProtocol(base):  # type: ignore[misc, valid-type]
        _url_too_long = False
        _draining: int | None = None  # bytes still to drop after an error answer; None while serving

        def on_message_begin(self) -> None:
            self._url_too_long = False
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:  # httptools: the URL arrives in pieces
            if len(self.url) + len(url) > MAX_URL_BYTES:
                self._url_too_long = True
                raise _UrlTooLong
            super().on_url(url)

        def data_received(self, data: bytes) -> None:
            if self._draining is not None:  # answered already: drop the rest of the request
                self._draining -= len(data)
                if self._draining <= 0:
                    self.transport.close()
                return
            super().data_received(data)

        def eof_received(self) -> None:  # the client has sent everything: nothing left to wait for
            if self._draining is not None:
                self.transport.close()
                return
            super().eof_received()

        def send_400_response(self, msg: str) -> None:
            exc = sys.exc_info()[1]
            too_long = self._url_too_long or getattr(exc, "error_status_hint", None) == 431  # h11: buffer full
            status, message = (414, URL_TOO_LONG) if too_long else (400, BAD_REQUEST)
            extra = list(getattr(self.server_state, "default_headers", []) or [])
            self.transport.write(error_bytes(status, message, extra))
            if self._draining is not None or not self.transport.can_write_eof():
                self.transport.close()
                return
            self.transport.write_eof()  # the answer is whole; the client may still be sending its request
            self._draining = DRAIN_BYTES
            asyncio.get_running_loop().call_later(DRAIN_S, self.transport.close)

    JsonErrorsProtocol.__name__ = JsonErrorsProtocol.__qualname__ = f"JsonErrors{base.__name__}"
    return JsonErrorsProtocol
