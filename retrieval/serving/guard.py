"""Who the server answers: it binds loopback only, but any web page the person visits runs in a browser on the
same machine, so the browser is the way in. One ASGI middleware on the whole app (the page and the JSON API):

- Host: only the names the server is meant to answer (127.0.0.1, localhost, [::1], with any port or none, and
  what the operator lists in REGQA_ALLOWED_HOSTS), so a DNS-rebinding page (`Host: evil.example`) gets 403.
- Origin: a request that names another origin (or `null`) gets 403, and so does a write (POST, PUT, PATCH,
  DELETE) whose Referer is another site's; the page's own scripts send its own origin. A request with neither
  header is a program (curl, gradio_client), not a page, and is served. REGQA_ALLOWED_ORIGINS lists origins
  that may call the server from a browser anyway; they (and only they) also get CORS headers, which turns
  off Gradio's own CORS (it allows any localhost origin, with credentials).
- Uploads: the page has no file input, so Gradio's upload routes answer 404 and a multipart body anywhere 415.
- Every response carries X-Frame-Options: SAMEORIGIN, CSP `frame-ancestors 'self'` (no script-src: Gradio's
  page needs its own inline scripts), X-Content-Type-Options: nosniff and Referrer-Policy: same-origin.

Refusals are JSON `{"error": message}` like every other error of the server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ALLOWED_HOSTS_ENV = "REGQA_ALLOWED_HOSTS"
ALLOWED_ORIGINS_ENV = "REGQA_ALLOWED_ORIGINS"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Gradio's routes that take files: the page has no file input and no recording, so they are not served.
UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/upload_progress", "/gradio_api/process_recording")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

WRONG_HOST = "此服务器不接受这个主机名 (this server does not answer for that host name; see REGQA_ALLOWED_HOSTS)"
CROSS_ORIGIN = "不接受来自其他网站的请求 (requests from another site's page are refused; see REGQA_ALLOWED_ORIGINS)"
NO_UPLOADS = "此服务器不接受上传文件 (this server takes no file uploads)"
NO_ROUTE = "没有这个接口 (no such route)"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _split(raw: str) -> list[str]:
    return [p.strip().lower() for p in raw.replace(",", " ").split() if p.strip()]


def _host_port(netloc: str) -> tuple[str, int | None] | None:
    """("127.0.0.1", 7860) from "127.0.0.1:7860", ("[::1]", None) from "[::1]"; None when it is not a host."""
    netloc = netloc.strip().lower()
    if not netloc or any(c in netloc for c in "/?#@ \\"):
        return None
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            return None
        host, rest = netloc[: end + 1], netloc[end + 1 :]
    else:
        host, sep, port = netloc.partition(":")
        rest = f":{port}" if sep else ""
    if not rest:
        return host, None
    if not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6:
        return None
    return host, int(rest[1:])


def _origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, the default port filled in; None for "null" or garbage."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return None
    found = _host_port(parts.netloc)
    if found is None or not found[0]:
        return None
    host, port = found
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


@dataclass(frozen=True)
class GuardSettings:
    hosts: frozenset[str] | None = frozenset(LOOPBACK)  # host names answered (any port); None: any host
    exact_hosts: frozenset[tuple[str, int]] = frozenset()  # host:port pairs listed with their port
    origins: tuple[str, ...] = ()  # other origins a browser page may call from (exactly as listed)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> GuardSettings:
        """Loopback names, plus REGQA_ALLOWED_HOSTS (names or name:port; `*` for any host, e.g. behind a proxy
        that checks it) and REGQA_ALLOWED_ORIGINS (origins such as https://regs.example.org)."""
        env = dict(os.environ if env is None else env)
        names, exact = set(LOOPBACK), set()
        any_host = False
        for entry in _split(env.get(ALLOWED_HOSTS_ENV, "")):
            if entry == "*":
                any_host = True
                continue
            found = _host_port(urlsplit(entry).netloc if "://" in entry else entry)
            if found is None:
                continue
            host, port = found
            if port is None:
                names.add(host)
            else:
                exact.add((host, port))
        origins = []
        for entry in _split(env.get(ALLOWED_ORIGINS_ENV, "")):
            parsed = _origin(entry)
            if parsed is not None:
                scheme, host, port = parsed
                default = DEFAULT_PORTS[scheme] == port
                origins.append(f"{scheme}://{host}" + ("" if default else f":{port}"))
        return cls(None if any_host else frozenset(names), frozenset(exact), tuple(dict.fromkeys(origins)))

    def host_allowed(self, host: str | None) -> bool:
        if host is None:  # no Host header (HTTP/1.0, a health checker): not a browser, so not a rebinding page
            return True
        found = _host_port(host)
        if found is None:
            return False
        if self.hosts is None:
            return True
        return found[0] in self.hosts or found in self.exact_hosts

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        """The page's own origin (the one the request's Host names), or one the operator listed."""
        parsed = _origin(origin)
        if parsed is None:
            return False
        scheme, o_host, o_port = parsed
        if host is not None:
            own = _host_port(host)
            if own is not None and own[0] == o_host and (own[1] or DEFAULT_PORTS[scheme]) == o_port:
                return True
        listed = {_origin(o) for o in self.origins}
        return parsed in listed


class LocalGuard:
    """The ASGI middleware: refuses what the module docstring says, and adds the security headers."""

    def __init__(self, app: ASGIApp, settings: GuardSettings | None = None) -> None:
        self.app = app
        self.settings = settings if settings is not None else GuardSettings.from_env()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is not None:
            if scope["type"] == "websocket":  # closing before accepting answers the handshake with 403
                await send({"type": "websocket.close", "code": 1008})
                return
            await _json_error(send, *refused)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(message.get("headers") or [])
            await send(message)

        await self.app(scope, receive, with_headers)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) when the request is refused, else None."""
        headers = _headers(scope)
        host = headers.get("host")
        if not self.settings.host_allowed(host):
            return 403, WRONG_HOST
        origin = headers.get("origin")
        if origin is not None and not self.settings.origin_allowed(origin, host):
            return 403, CROSS_ORIGIN
        method = scope.get("method", "GET")
        referer = headers.get("referer")
        if origin is None and referer and method in WRITES and not self.settings.origin_allowed(referer, host):
            return 403, CROSS_ORIGIN
        path = scope.get("path", "")
        if path.rstrip("/") in UPLOAD_PATHS:
            return 404, NO_ROUTE
        if headers.get("content-type", "").lower().lstrip().startswith("multipart/"):
            return 415, NO_UPLOADS
        return None


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers, lower-case names; a repeated Host or Origin counts by its first value."""
    found: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def _secured(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    out = list(headers)
    present = {name.lower() for name, _ in out}
    for name, value in SECURITY_HEADERS:
        if name == b"content-security-policy" and name in present:
            out = [(n, v + b"; " + value if n.lower() == name and b"frame-ancestors" not in v else v)
                   for n, v in out]
        elif name not in present:
            out.append((name, value))
    return out


async def _json_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    headers = _secured([(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def protect(app: Any, settings: GuardSettings | None = None) -> Any:
    """Put the guard in front of a FastAPI app (the JSON API with the page mounted on it); returns the app.

    Starlette's CORSMiddleware goes inside it with only the listed origins: Gradio adds no CORS headers of its
    own when its parent app has one."""
    from starlette.middleware.cors import CORSMiddleware

    settings = settings if settings is not None else GuardSettings.from_env()
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.origins), allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["Content-Type"])
    app.add_middleware(LocalGuard, settings=settings)  # added last: the outermost, so it runs first
    return app
