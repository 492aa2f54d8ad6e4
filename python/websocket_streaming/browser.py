"""The one module that talks to the browser: a Transport over the page's WebSocket.

A small JavaScript helper, compiled once, owns the ``WebSocket`` and its event
handlers, so no Python proxy or future is made per message: incoming messages
wait in a JS array, and Python is called (one proxy per socket) only when the
socket opens or closes, or when a reader is waiting. ``take()`` then moves the
whole backlog to Python in one call.

Works in a page and in a Web Worker (JupyterLite's kernel lives in one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy, to_js

import js  # fails fast outside Pyodide, which is what client.py relies on

from .client import connect
from .connection import Data, WebSocketStream
from .exceptions import ConnectionClosed, InvalidCloseCode, InvalidURI, WebSocketError
from .protocol import State, closed_exception

__all__ = [
    "BrowserTransport",
    "js_close",
    "js_open",
    "js_send",
    "js_wait_closed",
    "js_wait_message",
]

# The JS side of one socket. `wake` is the Python callback; the helper destroys
# it after the close event, so every socket's proxy dies with the socket.
_OPEN_JS = """
(url, protocols, wake) => {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const s = {
    // queue[head:] are the messages not yet read: shift() moves `head` rather than
    // calling Array.shift(), which costs O(length) in some engines.
    ws, queue: [], head: 0, waiting: false, closeInfo: undefined,
    get size() { return this.queue.length - this.head; },
    // [messages] or, when it holds small binary messages, [messages, packed, sizes]:
    // those are copied into `packed` (sizes[i] >= 0, messages[i] undefined) so that
    // Python copies them in one call rather than one call each.
    take() {
      const q = this.head === 0 ? this.queue : this.queue.slice(this.head);
      this.queue = [];
      this.head = 0;
      let small = 0, total = 0;
      for (const m of q) {
        if (typeof m !== "string" && m.byteLength <= PACK_MAX) { small++; total += m.byteLength; }
      }
      if (small < 2) return [q, undefined, undefined];
      const packed = new Uint8Array(total), sizes = new Int32Array(q.length).fill(-1);
      let offset = 0;
      for (let i = 0; i < q.length; i++) {
        const m = q[i];
        if (typeof m !== "string" && m.byteLength <= PACK_MAX) {
          packed.set(new Uint8Array(m), offset);
          offset += m.byteLength;
          sizes[i] = m.byteLength;
          q[i] = undefined;
        }
      }
      return [q, packed, sizes];
    },
    shift() {
      const m = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (this.head === this.queue.length) {
        this.queue = []; this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head); this.head = 0; // amortised O(1)
      }
      return m;
    },
    // One call per message: -1 (nothing sent) unless OPEN, else bufferedAmount after it.
    send(data) {
      if (ws.readyState !== 1) return -1;
      ws.send(data);
      return ws.bufferedAmount;
    },
    sendBinary(buffer) {
      if (ws.readyState !== 1) return -1;
      const view = buffer.getBuffer("u8");
      try { ws.send(view.data); } finally { view.release(); }
      return ws.bufferedAmount;
    },
    // Small binary: Python copies the message into `scratch`, the browser copies it out.
    scratch: new Uint8Array(PACK_MAX),
    sendScratch(n) {
      if (ws.readyState !== 1) return -1;
      ws.send(this.scratch.subarray(0, n));
      return ws.bufferedAmount;
    },
    notify: null, // the JS facade's waiter, called on a message or the close
  };
  ws.onopen = () => { s.waiting = false; wake(); };
  ws.onmessage = (e) => {
    s.queue.push(e.data);
    if (s.notify) { const notify = s.notify; s.notify = null; notify(); }
    if (s.waiting) { s.waiting = false; wake(); }
  };
  ws.onclose = (e) => {
    s.closeInfo = [e.code, e.reason, e.wasClean];
    ws.onopen = ws.onmessage = ws.onclose = null;
    s.waiting = false;
    if (s.notify) { const notify = s.notify; s.notify = null; notify(); }
    try { wake(); } finally { wake.destroy(); }
  };
  return s;
}
"""

_open_js: Any = None

#: Binary messages up to this size are received packed into one buffer per batch, and sent
#: by copying them into a scratch array of the socket's (through a cached view of the right
#: length) rather than through a PyProxy of the buffer or a new JS array each (to_js): for
#: small messages the per-call cost of the FFI, not the copy, is what counts.
PACK_MAX = 4096


def _js_error_text(exc: JsException) -> str:
    return str(exc).removeprefix("Error: ")


class BrowserTransport:
    """The browser's ``WebSocket``, seen as a :class:`~websocket_streaming.Transport`.

    Raises (on construction):
        InvalidURI: the browser refused the URL (``SyntaxError``).
        WebSocketError: the browser refused to open the socket for another reason.
    """

    def __init__(self, url: str, protocols: Sequence[str]) -> None:
        global _open_js
        if _open_js is None:
            _open_js = run_js(_OPEN_JS.replace("PACK_MAX", str(PACK_MAX)))
        self.on_event: Callable[[], None] = lambda: None
        wake = create_proxy(self._wake)
        try:
            self._js: Any = _open_js(url, to_js(list(protocols)), wake)
        except JsException as exc:
            wake.destroy()
            if exc.name == "SyntaxError":
                raise InvalidURI(f"the browser refused {url!r}: {_js_error_text(exc)}") from None
            raise WebSocketError(f"the browser refused to open {url!r}: {exc}") from None
        self._ws: Any = self._js.ws
        # Bound once: looking a method up on a JsProxy makes a new proxy each time,
        # which costs about as much as the call itself.
        self._js_take: Any = self._js.take
        self._js_send: Any = self._js.send
        self._js_send_view: Any = self._js.sendBinary
        self._js_send_scratch: Any = self._js.sendScratch
        self._js_scratch: Any = self._js.scratch
        self._scratch_views: dict[int, Any] = {}  # length -> a view of the scratch array
        self._close_info: tuple[int, str, bool] | None = None

    def _wake(self) -> None:
        self.on_event()

    @property
    def state(self) -> State:
        return State(self._ws.readyState)

    @property
    def protocol(self) -> str:
        return str(self._ws.protocol)

    @property
    def extensions(self) -> str:
        return str(self._ws.extensions)

    @property
    def buffered_amount(self) -> int:
        return int(self._ws.bufferedAmount)

    @property
    def close_info(self) -> tuple[int, str, bool] | None:
        if self._close_info is None:
            info = self._js.closeInfo
            if info is not None:
                code, reason, clean = info
                self._close_info = (int(code), str(reason), bool(clean))
        return self._close_info

    @property
    def pending(self) -> int:
        return int(self._js.size)

    @property
    def js_state(self) -> Any:
        """The JS object holding the socket and its message queue (for the JS facade)."""
        return self._js

    def take(self) -> list[Data]:
        """Move every waiting message to Python: text decoded once, binary over
        PACK_MAX copied once (ArrayBuffer to ``bytes``). Small binary messages are
        copied three times, a few KiB each: packed into one buffer in JS, moved into
        Python in one piece, sliced into ``bytes``; three copies of a small message
        cost less than one FFI crossing per message."""
        messages, packed, sizes = self._js_take()
        if packed is None:
            return [m if type(m) is str else m.to_bytes() for m in messages]
        data = packed.to_bytes()
        out: list[Data] = []
        offset = 0
        for i, size in enumerate(sizes.to_py()):
            if size < 0:
                m = messages[i]
                out.append(m if type(m) is str else m.to_bytes())
            else:
                out.append(data[offset : offset + size])
                offset += size
        return out

    def want_wake(self) -> None:
        self._js.waiting = True

    def send_text(self, data: str) -> int:
        try:
            return int(self._js_send(data))
        except JsException as exc:
            raise WebSocketError(f"the browser could not send: {exc}") from None

    def send_binary(self, data: memoryview) -> int:
        try:
            n = data.nbytes
            if n <= PACK_MAX:
                view = self._scratch_views.get(n)
                if view is None:
                    view = self._scratch_views[n] = self._js_scratch.subarray(0, n)
                view.assign(data.cast("B"))
                return int(self._js_send_scratch(n))
            return int(self._js_send_view(data))
        except JsException as exc:
            raise WebSocketError(f"the browser could not send: {exc}") from None

    def close(self, code: int | None = None, reason: str = "") -> None:
        try:
            if code is None:
                self._ws.close()
            else:
                self._ws.close(code, reason)
        except JsException as exc:
            raise WebSocketError(f"the browser could not close: {exc}") from None


# -- the bridge used by js/websocket_streaming.js ------------------------------
#
# A Python exception raised into JS arrives as a PythonError carrying a
# traceback, so the bridge never raises: on failure it *returns* a plain JS
# Error whose `name` is the Python exception's class name and whose `message`
# is its str(), with `code` and `reason` for a closed connection. The ES module
# turns it into one of its error classes. No traceback or PyProxy reaches JS.

_ERROR_JS = """
(name, message, code, reason) => {
  const e = new Error(message);
  e.name = name;
  if (code !== undefined) { e.code = code; e.reason = reason; }
  return e;
}
"""
_make_error: Any = None


def _js_error(exc: BaseException) -> Any:
    global _make_error
    if _make_error is None:
        _make_error = run_js(_ERROR_JS)
    if isinstance(exc, ConnectionClosed):
        return _make_error(type(exc).__name__, str(exc), exc.code, exc.reason)
    return _make_error(type(exc).__name__, str(exc))


def _js_object_from_entries() -> Any:
    namespace: Any = js
    return namespace.Object.fromEntries


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
    return to_js(info | {"wasClean": clean}, dict_converter=_js_object_from_entries())
