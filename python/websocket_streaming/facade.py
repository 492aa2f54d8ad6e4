"""The bridge that ``js/websocket_streaming.js`` (the JS facade) calls into.

Each function takes or returns JS values the ES module understands; the
connection logic is the Python stream's (``connect``, ``WebSocketStream``).

A Python exception raised into JS arrives as a PythonError carrying a
traceback, so the bridge never raises: on failure it *returns* a plain JS
Error whose ``name`` is the Python exception's class name and whose
``message`` is its str(), with ``code`` and ``reason`` for a closed
connection. The ES module turns it into one of its error classes. No
traceback or PyProxy reaches JS.
"""

from __future__ import annotations

from typing import Any

from pyodide.ffi import to_js

from .browser import BrowserTransport, js_helpers
from .client import connect
from .connection import WebSocketStream
from .exceptions import ConnectionClosed, InvalidCloseCode, WebSocketError
from .protocol import closed_exception

__all__ = [
    "js_close",
    "js_drain",
    "js_open",
    "js_send",
    "js_state",
    "js_wait_closed",
    "js_wait_message",
    "js_write_limit",
]


def _js_error(exc: BaseException) -> Any:
    make_error = js_helpers().makeError
    if isinstance(exc, ConnectionClosed):
        return make_error(type(exc).__name__, str(exc), exc.code, exc.reason)
    return make_error(type(exc).__name__, str(exc))


def _transport(stream: WebSocketStream) -> BrowserTransport:
    transport = stream._transport
    assert isinstance(transport, BrowserTransport)
    return transport


async def js_open(url: str, protocols: Any, open_timeout: float | None) -> Any:
    """Open a stream for JS: the WebSocketStream, or a JS Error for what ``connect()`` raises."""
    try:
        return await connect(url, subprotocols=list(protocols), open_timeout=open_timeout)
    except (WebSocketError, TimeoutError) as exc:
        return _js_error(exc)


def js_state(stream: WebSocketStream) -> Any:
    """The JS object holding the socket and its queue: JS reads messages from it directly."""
    return _transport(stream).js_state


async def js_drain(stream: WebSocketStream) -> Any:
    """Wait until the send buffer drains as ``send()`` does: None, or a JS Error for
    ConnectionClosed (the facade sends by itself and calls this only over the limit)."""
    try:
        await stream._drain()
    except WebSocketError as exc:
        return _js_error(exc)
    return None


def js_write_limit(stream: WebSocketStream) -> int:
    """The stream's write limit, for the facade's own check after each send."""
    return stream._write_limit


async def js_wait_message(stream: WebSocketStream) -> Any:
    """Wait until the JS queue holds a message: None, or a JS Error for what ``recv()`` raises."""
    try:
        await stream.wait_message()
    except WebSocketError as exc:
        return _js_error(exc)
    return None


async def js_send(stream: WebSocketStream, data: Any) -> Any:
    """Send a JS string, ArrayBuffer or view, handing that JS object itself to the browser
    (nothing is copied on our side), then wait for the send buffer to drain as ``send()``
    does. None, or a JS Error for ConnectionClosed."""
    try:
        stream._check_writable()
        transport = _transport(stream)
        transport._ws.send(data)
        if transport.buffered_amount > stream._write_limit:
            await stream._drain()
    except WebSocketError as exc:
        return _js_error(exc)
    return None


async def js_close(stream: WebSocketStream, code: int, reason: str) -> Any:
    """Close and wait for the close: None, or a JS Error for InvalidCloseCode."""
    try:
        await stream.close(code, reason)
    except InvalidCloseCode as exc:
        return _js_error(exc)
    return None


async def js_wait_closed(stream: WebSocketStream) -> Any:
    """Wait for the close; return a JS object ``{name, message, code, reason, wasClean}``
    describing it, ``name`` being ConnectionClosedOK or ConnectionClosedError."""
    await stream.wait_closed()
    code, reason, clean = _transport(stream).close_info or (1006, "", False)
    exc = closed_exception(code, reason, clean)
    info = {"name": type(exc).__name__, "message": str(exc), "code": code, "reason": reason}
    return to_js(info | {"wasClean": clean}, dict_converter=js_helpers().fromEntries)
