"""The HTTP limits of ``kgraph serve`` as ASGI middleware, applied to every route of the app.

Input: ASGI ``http`` requests on their way to the Starlette app (``kgraph.server``); output: the
same requests, or an answer in their stead. In the order a request meets them:

- ``SecurityHeaders``: ``x-content-type-options: nosniff`` on every answer;
- ``AccessLog``: one line per request on stderr (when asked for);
- ``BodyLimit``: 413 for a body over ``max_body`` bytes (declared or received), 408 and a closed
  connection for a body not received within ``body_timeout`` seconds, 400 for a Content-Length
  that is not a number; the body, read once, is replayed to the app and kept in the scope
  (``body_of``);
- ``ReadOnly``: 403 for a SPARQL update (an ``update`` field in the URL or the form, or an
  ``application/sparql-update`` body) unless updates are allowed, and for an update posted from
  another origin (a cross-site form) when they are.

The limits that need a query worker (422 too many rows, 503 timeout) are exception handlers of
the app (``kgraph.server``), so they too hold for every route. Error bodies are ``text/plain``.
Does not route, parse queries, nor talk to the query workers.
"""

from __future__ import annotations

import asyncio
import sys
import time
import urllib.parse

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: where ``BodyLimit`` leaves the request body in the ASGI scope
BODY = "kgraph.body"
#: media types of a POST body that carry SPARQL (anything else is answered 415 by the app)
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


def text(status: int, message: str, headers: dict[str, str] | None = None) -> PlainTextResponse:
    """A ``text/plain`` answer of one message, ending in a newline."""
    return PlainTextResponse(message.rstrip("\n") + "\n", status, headers=headers)


def body_of(scope: Scope) -> bytes:
    """The request body ``BodyLimit`` received (empty for a request that did not pass through it)."""
    return scope.get(BODY, b"")


def media_type(headers: Headers) -> str:
    """The request's Content-Type without its parameters, lower case (``""`` when there is none)."""
    return headers.get("content-type", "").split(";")[0].strip().lower()


class SecurityHeaders:
    """Adds ``x-content-type-options: nosniff`` to every answer: no browser guesses a type we did not send."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, with_headers)


class AccessLog:
    """One line per request on stderr: client, method, path, status, body bytes, milliseconds."""

    def __init__(self, app: ASGIApp, *, enabled: bool = False) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, int] = {"status": 0, "bytes": 0}

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            client = (scope.get("client") or ("-",))[0]
            print(f"{client} {scope['method']} {scope['path']} {seen['status']} {seen['bytes']} "
                  f"{(time.perf_counter() - started) * 1000:.1f}ms", file=sys.stderr, flush=True)


class BodyLimit:
    """Receives the whole request body within ``body_timeout`` seconds and at most ``max_body`` bytes.

    A client that stalls would otherwise hold its connection (and a thread) for ever; one that
    sends a huge body would fill the server's memory.
    """

    def __init__(self, app: ASGIApp, *, max_body: int, body_timeout: float) -> None:
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        try:
            too_large = int(declared or 0) > self.max_body
        except ValueError:
            await text(400, "Content-Length is not a number")(scope, receive, send)
            return
        if too_large:
            await self._too_large(scope, receive, send)
            return
        if declared is None and "transfer-encoding" not in headers:
            scope[BODY] = b""  # HTTP/1.1: no Content-Length and no Transfer-Encoding is no body
            await self.app(scope, receive, send)
            return
        body = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        more = True
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                answer = text(408, f"the request body did not arrive within {self.body_timeout:g} s",
                              {"connection": "close"})
                await answer(scope, receive, send)
                return
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await self._too_large(scope, receive, send)
                return
            more = message.get("more_body", False)
        scope[BODY] = data = bytes(body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()  # the disconnect, when the client goes

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await text(413, f"the request body is larger than this server's limit of {self.max_body:,} bytes")(
            scope, receive, send)


class ReadOnly:
    """403 for SPARQL updates unless ``allow_update``; with it, 403 for updates from another origin."""

    def __init__(self, app: ASGIApp, *, allow_update: bool = False) -> None:
        self.app = app
        self.allow_update = allow_update

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_update(scope):
            headers = Headers(scope=scope)
            if not self.allow_update:
                await text(403, "this endpoint is read-only: SPARQL updates are refused "
                                "(start the server with --allow-update to accept them)")(scope, receive, send)
                return
            origin = headers.get("origin")
            if origin and urllib.parse.urlsplit(origin).netloc != headers.get("host", ""):
                # a form posted from another site's page (CSRF): updates come from this server's origin only
                await text(403, f"updates from origin {origin} are refused")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def is_update(scope: Scope) -> bool:
    """Whether a request asks for a SPARQL update: an ``update`` field in its URL or its form, or an
    ``application/sparql-update`` body. A POST of another type is left for the app to refuse (415)."""
    if scope["method"] == "POST":
        ctype = media_type(Headers(scope=scope))
        if ctype == SPARQL_UPDATE:
            return True
        if ctype not in (FORM, SPARQL_QUERY):
            return False
        if ctype == FORM and _has_field(body_of(scope), b"update"):
            return True
    return _has_field(scope.get("query_string", b""), b"update")


def _has_field(encoded: bytes, name: bytes) -> bool:
    """Whether URL-encoded ``encoded`` has a field ``name`` (names only: cheap on a 1 MB form)."""
    if name not in encoded and b"%" not in encoded:
        return False
    for part in encoded.split(b"&"):
        key = part.split(b"=", 1)[0]
        if key == name or ((b"%" in key or b"+" in key)
                           and urllib.parse.unquote_plus(key.decode("latin-1")) == name.decode()):
            return True
    return False
