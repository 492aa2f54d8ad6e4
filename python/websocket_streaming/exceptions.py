"""Every exception this package raises on purpose.

The tree::

    WebSocketError                      root: catch it to catch them all
    ├── ConnectionClosed                the connection is closed; has .code, .reason
    │   ├── ConnectionClosedOK          closed cleanly with 1000, 1001 or 1005
    │   └── ConnectionClosedError       any other close (1006 abnormal closure, ...)
    ├── ConnectionFailed (OSError)      the opening handshake failed
    ├── InvalidURI (ValueError)         the URL is not a ws:// or wss:// URL
    ├── InvalidCloseCode (ValueError)   close() got a code or reason it may not send
    └── ConcurrencyError (RuntimeError) two coroutines called recv() at once

Besides these, ``send()`` raises the builtin :class:`TypeError` for a message
that is neither ``str`` nor bytes-like, and ``connect()`` raises the builtin
:class:`TimeoutError` when the handshake does not finish within
``open_timeout``. No ``pyodide.ffi.JsException`` ever reaches the caller.
"""

from __future__ import annotations

__all__ = [
    "ConcurrencyError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "ConnectionFailed",
    "InvalidCloseCode",
    "InvalidURI",
    "WebSocketError",
]

CLOSE_CODE_NAMES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status received",
    1006: "abnormal closure",
    1007: "invalid frame payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS handshake failure",
}


def describe_close(code: int, reason: str) -> str:
    """Render a close code and reason for humans: ``1000 (normal closure) 'bye'``."""
    if code in CLOSE_CODE_NAMES:
        name = CLOSE_CODE_NAMES[code]
    elif 3000 <= code <= 3999:
        name = "registered"
    elif 4000 <= code <= 4999:
        name = "private use"
    else:
        name = "unknown"
    text = f"{code} ({name})"
    return f"{text} {reason!r}" if reason else text


class WebSocketError(Exception):
    """Root of every exception this package raises on purpose."""


class ConnectionClosed(WebSocketError):
    """The connection is closed, so the call cannot go on.

    Raised by ``recv()`` once every message received before the close has been
    read, and by ``send()`` once the closing handshake has started.

    Attributes:
        code: the close code the browser reported (1006 when no close frame
            arrived, 1005 when the frame had no code).
        reason: the close reason the browser reported, ``""`` if none.
    """

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(code, reason)

    def __str__(self) -> str:
        return f"connection closed: {describe_close(self.code, self.reason)}"


class ConnectionClosedOK(ConnectionClosed):
    """The connection closed cleanly, with code 1000, 1001 or 1005."""


class ConnectionClosedError(ConnectionClosed):
    """The connection closed with an error code, or without a closing handshake."""


class ConnectionFailed(WebSocketError, OSError):
    """The opening handshake failed: refused, unreachable, or rejected by the server.

    Browsers do not say which, on purpose (to keep pages from probing
    networks), so neither can we.
    """


class InvalidURI(WebSocketError, ValueError):
    """The URL is not one a WebSocket can open."""


class InvalidCloseCode(WebSocketError, ValueError):
    """``close()`` was given a code or reason that a browser may not send.

    A page may send code 1000 or 3000-4999, and a reason of at most 123 bytes
    of UTF-8.
    """


class ConcurrencyError(WebSocketError, RuntimeError):
    """Two coroutines called ``recv()`` at the same time.

    Which one should get the next message would be a coin toss, so the second
    call fails instead.
    """
