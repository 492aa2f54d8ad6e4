"""The one module that talks to the browser: a Transport over the page's WebSocket.

Its JavaScript half, ``browser.js`` beside this file (shipped in the wheel; imported
by the page or the JS facade, or else evaluated once per Pyodide: :func:`js_helpers`),
owns the ``WebSocket`` and its event handlers, so no Python proxy or future is made per
message: incoming messages wait in a JS array, and Python is called (one proxy per
socket) only when the socket opens or closes, or when a reader is waiting: that call
hands the reader its message with the wake-up, unless messages come back to back, in
which case ``take()`` then moves the whole backlog to Python in one call.

Works in a page and in a Web Worker (JupyterLite's kernel lives in one), and in
Pyodide under Node.js >= 22 and Deno 2, whose global ``WebSocket`` also sends
handshake headers (:func:`check_headers_allowed`: the one place that rule lives).
Importing it outside Pyodide raises ImportError (``pyodide`` is missing).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from pyodide.code import run_js
from pyodide.ffi import JsException, JsProxy, create_proxy, jsnull, to_js

import js

from .exceptions import (
    ConnectionClosed,
    InvalidURI,
    PayloadTooBig,
    QueueOverflow,
    WebSocketError,
)
from .protocol import State
from .transport import Data
from .version import __version__

__all__ = [
    "CSP_HELP",
    "NATIVE_PULL_BYTES",
    "NATIVE_PULL_MESSAGES",
    "PACK_MAX",
    "SEND_COPY_MAX",
    "TEXT_PACK_MIN",
    "BrowserTransport",
    "PageLifecycle",
    "check_headers_allowed",
    "host_name",
    "host_sends_headers",
    "js_helpers",
    "location",
    "page_lifecycle",
]

#: Binary messages up to this size are received packed into one buffer per batch, rather
#: than as an ArrayBuffer each: for small messages the per-call cost of the FFI, not the
#: copy, is what counts.
PACK_MAX = 4096

#: Binary messages up to this size are sent by copying them into the socket's outbox, a
#: bytearray the browser holds a view of, and one call into JS; bigger ones as a view of
#: the caller's buffer, which costs one PyProxy and buffer export per message but no copy:
#: below this size the copy costs less than the proxy, above it more (the README's speed
#: section has the figures).
SEND_COPY_MAX = 256 << 10

#: Text messages of this many characters or more reach Python as UTF-8, in the packed
#: buffer or with the wake-up (encoded by the browser, decoded by Python), not through
#: the FFI's string conversion, which copies character by character: 64 KiB costs
#: several times what the browser's TextEncoder and Python's decoder cost together.
TEXT_PACK_MIN = 128

#: The "native" backend reads from the browser's WebSocketStream only while fewer unread
#: messages (and bytes) than these wait for the reader: beyond, the data stays in the
#: browser and the kernel, and TCP makes the server wait. Caveat (Chromium 156): when the
#: server's close frame reaches the browser while it holds messages the page has not read
#: (a reader that fell this far behind), it drops them and reports a clean close.
NATIVE_PULL_MESSAGES = 16384
NATIVE_PULL_BYTES = 1 << 20

# The sentinels browser.js returns, defined here once and passed to it (js_helpers()):
# nothing sent, the socket is not OPEN (send*(); the Transport's -1);
_NOT_SENT = -1
# the browser's view of the outbox is gone, Pyodide's memory grew (sendOutbox());
_VIEW_LOST = -2
# take()'s sizes[i]: messages[i] is the message as it came; or, at _UTF8_BASE and below,
# a text as _UTF8_BASE - sizes[i] bytes of UTF-8 in the packed buffer.
_AS_IT_CAME = -1
_UTF8_BASE = -2

_helpers: Any = None

# Where browser.js puts its factory, imported or evaluated: globalThis[Symbol.for(KEY)].
_REGISTRY_KEY = "websocket_streaming.browser"

#: Why the first connection failed on a page whose Content-Security-Policy forbids eval.
CSP_HELP = (
    "this page's Content-Security-Policy forbids eval, so websocket_streaming cannot "
    "evaluate its JavaScript half (browser.js, inside the wheel). Serve that file from "
    "your own origin and import it before the first connection: "
    '<script type="module" src="/websocket_streaming_browser.js"></script> (the file is '
    "websocket_streaming_browser.js in the npm package and in ./build.sh's dist/, or "
    "websocket_streaming/browser.js inside the wheel), or use the JS facade, which imports it"
)


def js_helpers() -> Any:
    """The object browser.js returns (``open``, ``makeError``...), made on first use.

    browser.js is taken from where an import of it put it (a page under a strict
    Content-Security-Policy imports it: no eval), or else read from the wheel and
    evaluated (``run_js``: eval).

    Raises:
        RuntimeError: the page forbids eval and did not import browser.js
            (:data:`CSP_HELP`), or the page imported a browser.js of another release.
    """
    global _helpers
    if _helpers is None:
        key = getattr(js.Symbol, "for")(_REGISTRY_KEY)
        factory = js.Reflect.get(js.globalThis, key)
        if factory is None:
            # Read beside this file (Pyodide installs wheels unpacked): importlib.resources
            # would add imports to the first connect.
            path = os.path.join(os.path.dirname(__file__), "browser.js")
            with open(path, encoding="utf-8") as f:
                source = f.read()
            try:
                factory = run_js(source)
            except JsException as exc:
                if "EvalError" not in str(exc) and "eval" not in str(exc).lower():
                    raise
                raise RuntimeError(f"{CSP_HELP} ({_js_error_text(exc)})") from None
        options = {
            "packMax": PACK_MAX,
            "textPackMin": TEXT_PACK_MIN,
            "pullMessages": NATIVE_PULL_MESSAGES,
            "pullBytes": NATIVE_PULL_BYTES,
            "notSent": _NOT_SENT,
            "viewLost": _VIEW_LOST,
            "asItCame": _AS_IT_CAME,
            "utf8Base": _UTF8_BASE,
        }
        helpers = factory(to_js(options, dict_converter=js.Object.fromEntries))
        if helpers.version != __version__:
            raise RuntimeError(
                f"the page imported websocket_streaming_browser.js of version {helpers.version}, "
                f"but the Python package is {__version__}: serve the browser.js of the same release"
            )
        _helpers = helpers
    return _helpers


def location() -> str | None:
    """The page's or worker's URL (``location.href``): the base a relative, ``http:`` or
    ``https:`` WebSocket URL is resolved against, as the browser's ``new WebSocket()``
    does (:func:`~websocket_streaming.protocol.check_uri`). None where there is no
    ``location`` (Pyodide in Node.js)."""
    where = getattr(js, "location", None)
    return None if where is None else str(where.href)


def host_name() -> str:
    """ "" in a browser (a page or a worker); "Node.js 22.1.0" or "Deno 2.9.6" elsewhere."""
    return str(js_helpers().hostName())


def host_sends_headers() -> bool:
    """Whether this host's ``WebSocket`` sends handshake headers: Node.js and Deno do
    (theirs takes ``{protocols, headers}``), a browser cannot."""
    return bool(host_name())


def check_headers_allowed() -> None:
    """Check that this host can send handshake headers (``additional_headers``).

    Raises:
        NotImplementedError: in a browser.
    """
    if not host_sends_headers():
        raise NotImplementedError(
            "connect(additional_headers=...) is not possible in a browser: a page cannot set "
            "handshake headers (pass a token in the URL or the first message instead; "
            "Pyodide in Node.js or Deno can send them)"
        )


def _no_websocket() -> str:
    """Why there is no socket to open, and the fix (Node.js 20 and 21 have no global
    ``WebSocket`` unless started with ``--experimental-websocket``)."""
    host = host_name() or "this browser"
    if host.startswith("Node.js"):
        return (
            f"{host} has no global WebSocket: use Node.js >= 22, or start Node.js 20 or 21 "
            "with --experimental-websocket"
        )
    return f"{host} has no global WebSocket"


def _js_error_text(exc: JsException) -> str:
    return str(exc).removeprefix("Error: ")


class BrowserTransport:
    """The browser's ``WebSocket``, or its native ``WebSocketStream``, seen as a
    :class:`~websocket_streaming.Transport`.

    ``headers``: (name, value) pairs for the handshake, where the host sends them
    (:func:`check_headers_allowed`).

    ``backend``: "classic" (``WebSocket``), "native" (``WebSocketStream``: a reader
    that does not read makes the server wait, see :data:`NATIVE_PULL_MESSAGES`) or
    "auto" (native where the browser has it). ``self.backend`` is the one used.

    Raises (on construction):
        InvalidURI: the browser refused the URL (``SyntaxError``).
        WebSocketError: "native" in a browser without ``WebSocketStream``, no global
            ``WebSocket`` (Node.js 20 and 21 without ``--experimental-websocket``: the
            message names the fix), or the browser refused to open the socket for
            another reason.
        NotImplementedError: ``headers`` where the host cannot send them (a browser).
    """

    def __init__(
        self,
        url: str,
        protocols: Sequence[str],
        backend: str = "classic",
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.on_event: Callable[..., None] = lambda now=False: None
        helpers = js_helpers()
        if headers:
            check_headers_allowed()
        if not helpers.hasWebSocket():
            raise WebSocketError(_no_websocket())
        native = backend != "classic" and bool(helpers.hasNative())
        if backend == "native" and not native:
            raise WebSocketError(
                f'backend="native" needs the browser\'s WebSocketStream, which '
                f"{host_name() or 'this browser'} lacks (Chromium has it, and Deno with "
                '--unstable-net; Firefox, Safari and Node.js do not): use "auto" or "classic"'
            )
        self.backend = "native" if native else "classic"
        opener = helpers.openNative if native else helpers.open
        wake = create_proxy(self._wake)
        try:
            js_headers = to_js([list(pair) for pair in headers]) if headers else None
            self._js: Any = opener(url, to_js(list(protocols)), wake, js_headers)
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
        self._js_send_outbox: Any = self._js.sendOutbox
        self._outbox = bytearray()  # made on the first binary send, grown up to SEND_COPY_MAX
        self._close_info: tuple[int, str, bool] | None = None
        self._limits: tuple[int | None, int | None] = (None, None)

    def _wake(self, now: bool = False, message: Any = None, utf8: bool = False) -> None:
        # `message`: the one a waiting reader gets with its wake-up (browser.js removed it
        # from its queue), handed to on_event so that resuming the reader costs no further
        # call into JS; `utf8`: a long text, as UTF-8 bytes (see TEXT_PACK_MIN).
        if message is None:
            self.on_event(now)
        elif utf8:
            self.on_event(now, str(message.to_bytes(), "utf-8"))
        else:
            self.on_event(now, message if type(message) is str else message.to_bytes())

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
    def opened(self) -> bool:
        return bool(self._js.opened)

    @property
    def fault(self) -> ConnectionClosed | None:
        fault = self._js.fault
        if fault is None:
            return None
        kind, a, b = fault  # ("too-big", size, max_size) or ("overflow", messages, bytes)
        if kind == "too-big":
            return PayloadTooBig(int(a), int(b))
        return QueueOverflow((int(a), int(b)), self._limits)

    @property
    def pending(self) -> int:
        return int(self._js.size)

    @property
    def dropped(self) -> int:
        return int(self._js.dropped)

    @property
    def received(self) -> int:
        return int(self._js.received)

    @property
    def pongs(self) -> int:
        return int(self._js.pongs)

    @property
    def latency(self) -> float | None:
        ms = float(self._js.latency)
        return None if ms < 0 else ms / 1000

    def set_limits(
        self, max_size: int | None, max_messages: int | None, max_bytes: int | None, drop: bool
    ) -> None:
        self._limits = (max_messages, max_bytes)
        self._js.setLimits(max_size, max_messages, max_bytes, drop)

    def set_pong(self, pong: Data | Callable[[Data], bool] | None) -> None:
        if pong is None:
            self._js.isPong = None
        elif isinstance(pong, str):
            self._js.isPong = js_helpers().pongEquals(pong)
        elif isinstance(pong, bytes):
            self._js.isPong = js_helpers().pongEquals(to_js(pong))
        elif isinstance(pong, JsProxy):
            # A JS function (the JS facade's heartbeat.pong): installed as it is, so it is
            # called in JS with the browser's string or ArrayBuffer, no FFI crossing per message.
            self._js.isPong = pong
        else:
            predicate = pong  # called once per message, so it costs an FFI crossing each

            def is_pong(data: Any) -> bool:
                return bool(predicate(data if type(data) is str else data.to_bytes()))

            self._js.isPong = create_proxy(is_pong)  # destroyed by browser.js on close

    @property
    def js_state(self) -> Any:
        """The JS object holding the socket and its message queue (for the JS facade)."""
        return self._js

    def take(self, max_messages: int, max_bytes: int) -> list[Data] | None:
        """Move the oldest waiting messages (a batch within ``max_messages`` and
        ``max_bytes``, at least one) to Python: text decoded once, binary over
        PACK_MAX copied once (ArrayBuffer to ``bytes``). Small binary messages are
        copied three times, a few KiB each: packed into one buffer in JS, moved into
        Python in one piece, sliced into ``bytes``; three copies of a small message
        cost less than one FFI crossing per message. Text of TEXT_PACK_MIN characters
        or more comes the same way as UTF-8, and is decoded once. None waiting: ``[]`` and the
        next message wakes the reader, or None once closed (one call either way)."""
        got = self._js_take(max_messages, max_bytes)
        if got is None:  # JS undefined: nothing yet, the next message wakes the reader
            return []
        if got is jsnull:  # closed, and nothing left
            return None
        messages, packed, sizes = got
        if packed is None:
            return [m if type(m) is str else m.to_bytes() for m in messages]
        data = packed.to_bytes()
        view = memoryview(data)
        out: list[Data] = []
        offset = 0
        for i, size in enumerate(sizes.to_py()):
            if size >= 0:  # binary
                out.append(data[offset : offset + size])
                offset += size
            elif size == _AS_IT_CAME:
                m = messages[i]
                out.append(m if type(m) is str else m.to_bytes())
            else:  # text, as UTF-8
                end = offset + _UTF8_BASE - size
                out.append(str(view[offset:end], "utf-8"))
                offset = end
        return out

    def send_text(self, data: str) -> int:
        try:
            return int(self._js_send(data))
        except JsException as exc:
            raise WebSocketError(f"the browser could not send: {exc}") from None

    def send_binary(self, data: memoryview) -> int:
        try:
            n = data.nbytes
            if n > SEND_COPY_MAX:
                return int(self._js_send_view(data))
            out = self._outbox
            if n > len(out) or not out:
                out = self._new_outbox(n)
            out[:n] = data  # the same length: the bytearray stays in place
            sent = self._js_send_outbox(n)
            if sent == _VIEW_LOST:  # Pyodide's memory grew
                self._js.setOutbox(out)
                sent = self._js_send_outbox(n)
            return int(sent)
        except JsException as exc:
            raise WebSocketError(f"the browser could not send: {exc}") from None

    def _new_outbox(self, n: int) -> bytearray:
        self._js.setOutbox(None)  # the browser lets go of the old one first
        self._outbox = bytearray(min(max(n, 2 * len(self._outbox), 1024), SEND_COPY_MAX))
        self._js.setOutbox(self._outbox)
        return self._outbox

    def send_ping(self, data: Data) -> int:
        try:
            return int(self._js.ping(data if isinstance(data, str) else to_js(data)))
        except JsException as exc:
            raise WebSocketError(f"the browser could not send: {exc}") from None

    def abandon(self, reason: str) -> None:
        self._js.abandon(1006, reason)

    def close(self, code: int | None = None, reason: str = "") -> None:
        try:
            if code is None:
                self._ws.close()
            else:
                self._ws.close(code, reason)
        except JsException as exc:
            raise WebSocketError(f"the browser could not close: {exc}") from None


class PageLifecycle:
    """The page's or worker's ``online``/``offline`` events and, in a page, its
    ``visibilitychange`` to visible: a :class:`~websocket_streaming.reconnect.Lifecycle`."""

    @property
    def online(self) -> bool:
        return bool(js_helpers().isOnline())

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        stop: Callable[[], None] = js_helpers().watchLifecycle(create_proxy(callback))
        return stop  # it also destroys the callback's proxy


_lifecycle = PageLifecycle()


def page_lifecycle() -> PageLifecycle:
    """The lifecycle of the page (or worker) this Pyodide runs in."""
    return _lifecycle
