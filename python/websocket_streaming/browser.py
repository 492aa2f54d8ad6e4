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

import js  # noqa: F401 - imported so that this module fails fast outside Pyodide
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy, to_js

from .connection import Data
from .exceptions import InvalidURI, WebSocketError
from .protocol import State

__all__ = ["BrowserTransport"]

# The JS side of one socket. `wake` is the Python callback; the helper destroys
# it after the close event, so every socket's proxy dies with the socket.
_OPEN_JS = """
(url, protocols, wake) => {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const s = {
    ws, queue: [], waiting: false, closeInfo: undefined,
    take() { const q = this.queue; this.queue = []; return q; },
    sendBinary(buffer) {
      const view = buffer.getBuffer("u8");
      try { ws.send(view.data); } finally { view.release(); }
    },
  };
  ws.onopen = () => { s.waiting = false; wake(); };
  ws.onmessage = (e) => {
    s.queue.push(e.data);
    if (s.waiting) { s.waiting = false; wake(); }
  };
  ws.onclose = (e) => {
    s.closeInfo = [e.code, e.reason, e.wasClean];
    ws.onopen = ws.onmessage = ws.onclose = null;
    s.waiting = false;
    try { wake(); } finally { wake.destroy(); }
  };
  return s;
}
"""

_open_js: Any = None


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
            _open_js = run_js(_OPEN_JS)
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

    def take(self) -> list[Data]:
        """Move every waiting message to Python: text once decoded, binary copied once."""
        if not self._js.queue.length:
            return []
        return [m if type(m) is str else m.to_bytes() for m in self._js.take()]

    def want_wake(self) -> None:
        self._js.waiting = True

    def send_text(self, data: str) -> None:
        try:
            self._ws.send(data)
        except JsException as exc:
            raise WebSocketError(f"the browser could not send: {exc}") from None

    def send_binary(self, data: memoryview) -> None:
        try:
            self._js.sendBinary(data)
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
