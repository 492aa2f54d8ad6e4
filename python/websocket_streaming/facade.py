"""The bridge that ``js/websocket_streaming.js`` (the JS facade) calls into.

Each function takes or returns JS values the ES module understands; the
connection logic is the Python core's (``connect``, ``WebSocketStream``,
``ReconnectingStream``): the facade checks JS types and moves JS values.

A Python exception raised into JS arrives as a PythonError carrying a
traceback, so the bridge never raises: on failure it *returns* a plain JS
Error whose ``name`` is the Python exception's class name and whose
``message`` is its str(), with ``code`` and ``reason`` for a closed
connection and the subclasses' own fields (``size``, ``maxSize``,
``attempts``, ``unsent``...). The ES module turns it into one of its error
classes. No traceback or PyProxy reaches JS. A JS error (thrown by the
``onConnect`` hook) is handed back as the very JS object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pyodide.ffi import JsBuffer, JsException, create_proxy, jsnull, to_js

from .browser import BrowserTransport, js_helpers
from .client import connect
from .connection import WebSocketStream
from .exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    InvalidCloseCode,
    PayloadTooBig,
    QueueOverflow,
    ReconnectFailed,
    WebSocketError,
)
from .options import DEFAULTS, HEARTBEAT_FIELDS, OPTIONS
from .protocol import Heartbeat, State
from .reconnect import ReconnectingStream, StateEvent

__all__ = [
    "js_close",
    "js_drain",
    "js_next_connection",
    "js_open",
    "js_send",
    "js_state",
    "js_unread_connections",
    "js_unsent",
    "js_wait_closed",
    "js_write_limit",
]

#: The write limit of the facade's streams: send() waits for a drain above it.
WRITE_LIMIT: int = DEFAULTS.write_limit

#: The facade's option names (camelCase) -> connect()'s keywords (from ``options.OPTIONS``).
OPTION_NAMES = {o.js: o.name for o in OPTIONS if o.js and o.group != "heartbeat"}

#: ``heartbeat: {interval, timeout, ping, pong}`` -> Heartbeat's fields.
HEARTBEAT_NAMES = {o.js: o.name for o in HEARTBEAT_FIELDS.values()}

Stream = WebSocketStream | ReconnectingStream


def _js_error(exc: BaseException) -> Any:
    if isinstance(exc, JsException):
        return exc  # a JS error (from the onConnect hook): JS gets its own object back
    if isinstance(exc, ConnectionClosed):
        error = js_helpers().makeError(type(exc).__name__, str(exc), exc.code, exc.reason)
    else:
        error = js_helpers().makeError(type(exc).__name__, str(exc))
    if isinstance(exc, PayloadTooBig):
        error.size, error.maxSize = exc.size, exc.max_size
    elif isinstance(exc, QueueOverflow):
        (error.messages, error.bytes), (error.maxQueue, error.maxQueueBytes) = exc.size, exc.limit
    elif isinstance(exc, ReconnectFailed):
        error.attempts = exc.attempts
        error.unsent = to_js([_js_message(m) for m in exc.unsent])
    return error


def _js_message(message: str | bytes) -> Any:
    """A queued message for JS: the str, or an ArrayBuffer holding a copy of the bytes."""
    return message if isinstance(message, str) else to_js(message).buffer


def _py(value: Any) -> Any:
    """An option value from JS: null -> None, a Uint8Array -> bytes (copied once);
    strings, numbers, booleans and JS functions as they come."""
    if value is None or value is jsnull:
        return None
    if isinstance(value, JsBuffer):
        return value.to_bytes()
    return value


def _js_state(stream: WebSocketStream) -> Any:
    """The JS object holding the connection's socket and queue (see browser.js)."""
    transport = stream.transport
    assert isinstance(transport, BrowserTransport)
    return transport.js_state


def _hook(js_hook: Any) -> Callable[[WebSocketStream], Any]:
    """``on_connect`` for a JS hook: ``js_hook(state)`` returns a promise (the ES module
    wraps the app's hook, giving it a small object that sends on this connection)."""

    async def on_connect(conn: WebSocketStream) -> None:
        try:
            await js_hook(_js_state(conn))
        except JsException:
            if conn.state is not State.OPEN:  # dropped during the hook: retry, as a drop
                raise ConnectionClosedError(
                    1006, "the connection closed during onConnect"
                ) from None
            raise

    return on_connect


def _options(entries: Any) -> dict[str, Any]:
    """``[[camelCaseName, value], ...]`` (checked by the ES module) -> connect()'s keywords."""
    options: dict[str, Any] = {}
    for name, value in entries:
        value = _py(value)
        if name == "heartbeat" and value is not None:
            value = Heartbeat(**{HEARTBEAT_NAMES[k]: _py(v) for k, v in value})
        elif name == "onConnect" and value is not None:
            value = _hook(value)
        elif name == "headers" and value is not None:  # [[name, value], ...], checked in JS
            value = [(str(k), str(v)) for k, v in value]
        options[OPTION_NAMES[name]] = value
    return options


async def _abortable[T](opening: Awaitable[T], signal: Any) -> T:
    """Await ``opening``, cancelled (the half-open socket aborted) if the JS AbortSignal
    ``signal`` aborts first. Raises CancelledError then."""
    if signal is None or signal is jsnull:
        return await opening
    task = asyncio.ensure_future(opening)
    listener = create_proxy(lambda _event: task.cancel())
    signal.addEventListener("abort", listener)
    try:
        if signal.aborted:  # before we listened (this coroutine starts after the JS call)
            task.cancel()
        return await task
    finally:
        signal.removeEventListener("abort", listener)
        listener.destroy()


async def js_open(
    url: str,
    protocols: Any,
    open_timeout: float | None,
    options: Any = None,
    on_event: Any = None,
    on_connection: Any = None,
    signal: Any = None,
) -> Any:
    """Open a stream for JS: a WebSocketStream once open, or a JS Error for what
    ``connect()`` raises.

    Without ``reconnect``, ``on_connection(state)`` is called with the connection's
    JS state as soon as it opens, before this returns.

    With ``reconnect`` in ``options``, returns the ReconnectingStream at once:
    ``on_event(type, attempt, delay, code, reason, error, flushed)`` is called on
    each of its StateEvents, and ``on_connection(state)`` with the JS state of each
    connection as soon as it opens (JS sends on it; JS reads the connections in the
    order :func:`js_next_connection` hands them out).

    ``signal`` (a JS AbortSignal, or None) aborting before the open cancels the
    attempt (the socket is dropped) and returns an AbortError; the ES module has
    already rejected ``opened`` with the signal's reason. A reconnecting stream
    is stopped by the ES module itself (``js_close``).
    """
    try:
        kwargs = {} if _py(options) is None else _options(options)
        opener = connect(
            url,
            subprotocols=list(protocols),
            open_timeout=open_timeout,
            write_limit=WRITE_LIMIT,
            **kwargs,
        )
        if not opener.reconnect:

            async def open_and_tell() -> WebSocketStream:
                conn = await opener.open_connection()
                # Resumed inside the open event: JS's `opened` settles there, so a reader
                # that awaits it is waiting before the next event, as a raw JS reader is.
                on_connection(_js_state(conn))
                return conn

            try:
                return await _abortable(open_and_tell(), signal)
            except asyncio.CancelledError:
                return js_helpers().makeError("AbortError", "the signal aborted the opening")
        # Not `await opener`, which returns after the first open: the listeners must
        # see that connection's JS state and events from the start.
        stream = opener.start_reconnecting()
    except (WebSocketError, TimeoutError, TypeError, ValueError, NotImplementedError) as exc:
        return _js_error(exc)

    def forward(event: StateEvent) -> None:
        error = None if event.error is None else _js_error(event.error)
        on_event(
            event.type, event.attempt, event.delay, event.code, event.reason, error, event.flushed
        )

    def follow(conn: WebSocketStream) -> None:
        on_connection(_js_state(conn))

    stream.add_listener(forward)
    stream.connection_listeners.append(follow)
    return stream


def js_state(stream: WebSocketStream) -> Any:
    """The JS object holding the socket and its queue: JS reads messages from it directly."""
    return _js_state(stream)


async def js_next_connection(stream: ReconnectingStream) -> Any:
    """The JS state of the next connection to read (``ReconnectingStream.next_connection``),
    or a JS Error for the stream's final exception."""
    try:
        return _js_state(await stream.next_connection())
    except Exception as exc:
        return _js_error(exc)


def js_unread_connections(stream: ReconnectingStream) -> Any:
    """The JS states of the connections not yet handed out, oldest first (the stream has
    ended: JS reads them without Python)."""
    return to_js([_js_state(conn) for conn in stream.unread_connections()])


async def js_drain(stream: Stream) -> Any:
    """Wait until the send buffer drains as ``send()`` does: None, or a JS Error for
    ConnectionClosed (the facade sends by itself and calls this only over the limit).
    For a reconnecting stream, waits on its current connection; a drop while waiting
    is not an error (the browser took the message: at most once)."""
    try:
        if isinstance(stream, ReconnectingStream):
            live = stream.connection
            if live is not None:
                try:
                    await live.drain()
                except ConnectionClosed:
                    pass
        else:
            await stream.drain()
    except WebSocketError as exc:
        return _js_error(exc)
    return None


def js_write_limit(stream: Stream) -> int:
    """The stream's write limit, for the facade's own check after each send."""
    return stream.write_limit if isinstance(stream, WebSocketStream) else WRITE_LIMIT


def js_unsent(stream: ReconnectingStream) -> int:
    """How many messages wait in a reconnecting stream's send queue."""
    return len(stream.unsent)


async def js_send(stream: Stream, data: Any) -> Any:
    """Send a JS string or Uint8Array with the stream's own ``send()``: the facade sends
    on an open connection by itself (through the socket's JS state, as the core does) and
    calls this only when it could not, so that the core decides: queue it (a
    reconnecting stream: returns False; True if it went out), or raise. The bytes are
    copied once. Returns True or False, or a JS Error for SendQueueFull or
    ConnectionClosed."""
    try:
        sent = await stream.send(data if isinstance(data, str) else data.to_bytes())
    except WebSocketError as exc:
        return _js_error(exc)
    return True if sent is None else sent  # WebSocketStream.send returns None once sent


async def js_close(stream: Stream, code: int, reason: str) -> Any:
    """Close and wait for the close (a reconnecting stream stops reconnecting): None, or
    a JS Error for InvalidCloseCode."""
    try:
        await stream.close(code, reason)
    except InvalidCloseCode as exc:
        return _js_error(exc)
    return None


async def js_wait_closed(stream: WebSocketStream) -> Any:
    """Wait for the close; return the JS Error ``recv()`` raises from then on
    (ConnectionClosedOK, ConnectionClosedError, PayloadTooBig, QueueOverflow), with
    ``wasClean``: whether a closing handshake took place."""
    await stream.wait_closed()
    error = _js_error(stream.closed_exception())
    error.wasClean = stream.closed_cleanly
    return error
