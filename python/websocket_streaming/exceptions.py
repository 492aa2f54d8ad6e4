"""Every exception this package raises on purpose.

The tree::

    WebSocketError                      root: catch it to catch them all
    ├── ConnectionClosed                the connection is closed; has .code, .reason
    │   ├── ConnectionClosedOK          closed cleanly with 1000, 1001 or 1005
    │   └── ConnectionClosedError       any other close (1006 abnormal closure, ...)
    │       ├── PayloadTooBig           a message was over max_size (closed, 1009)
    │       ├── QueueOverflow           unread data went over max_queue (closed, 1008)
    │       └── ReconnectFailed         a reconnecting stream gave up; has .unsent
    ├── InvalidHandshake                the opening handshake failed (as in websockets)
    │   └── ConnectionFailed (OSError)  refused, unreachable, or rejected: browsers do not say
    ├── InvalidURI (ValueError)         the URL is not a ws:// or wss:// URL
    ├── InvalidCloseCode (ValueError)   close() got a code or reason it may not send
    ├── SendQueueFull (BufferError)     a reconnecting stream's send queue is full
    └── ConcurrencyError (RuntimeError) two coroutines called recv() at once

Besides these, ``send()`` raises the builtin :class:`TypeError` for a message
that is neither ``str`` nor bytes-like, and ``connect()`` raises the builtin
:class:`TimeoutError` when the handshake does not finish within
``open_timeout``. No ``pyodide.ffi.JsException`` ever reaches the caller.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ConcurrencyError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "ConnectionFailed",
    "InvalidCloseCode",
    "InvalidHandshake",
    "InvalidURI",
    "PayloadTooBig",
    "QueueOverflow",
    "ReconnectFailed",
    "SendQueueFull",
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


class Close(NamedTuple):
    """A close frame's code and reason, as ``websockets.frames.Close`` holds them."""

    code: int
    reason: str

    def __str__(self) -> str:
        return describe_close(self.code, self.reason)


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
        rcvd: the close frame received, as a :class:`Close`, or None when none
            arrived (code 1006), as in the ``websockets`` library.
        sent: the close frame sent, as a :class:`Close`, or None (code 1006).
            A browser does not report what it sent: after a closing handshake
            it has echoed the peer's code, or the peer echoed its own, so this
            is the same code and reason as ``rcvd``.
        rcvd_then_sent: None: a browser does not say which close frame came first.
    """

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(code, reason)

    @property
    def rcvd(self) -> Close | None:
        """The close frame received, or None when the connection closed without one."""
        return None if self.code == 1006 else Close(self.code, self.reason)

    @property
    def sent(self) -> Close | None:
        """The close frame sent, or None (see the class docstring: the browser's echo)."""
        return self.rcvd

    @property
    def rcvd_then_sent(self) -> bool | None:
        """Which close frame came first: None, since a browser does not say."""
        return None

    def __str__(self) -> str:
        return f"connection closed: {describe_close(self.code, self.reason)}"


class ConnectionClosedOK(ConnectionClosed):
    """The connection closed cleanly, with code 1000, 1001 or 1005."""


class ConnectionClosedError(ConnectionClosed):
    """The connection closed with an error code, or without a closing handshake."""


class PayloadTooBig(ConnectionClosedError):
    """A message was larger than ``max_size``: it was not handed to the app.

    The connection is closed; ``recv()`` raises this after every message
    received before the big one. ``code`` is 1009 (message too big), as the
    ``websockets`` library reports it; on the wire the page sends 4009, since
    a browser may only send 1000 or 3000-4999.

    Attributes:
        size: the size of the message, in bytes (UTF-8 bytes for text).
        max_size: the limit it broke.
    """

    def __init__(self, size: int, max_size: int) -> None:
        self.size = size
        self.max_size = max_size
        super().__init__(1009, f"message of {size} bytes is over max_size={max_size}")

    def __reduce__(self) -> tuple[type[PayloadTooBig], tuple[int, int]]:
        return type(self), (self.size, self.max_size)


class QueueOverflow(ConnectionClosedError):
    """Unread messages went over ``max_queue`` with the "close" overflow policy.

    The connection is closed; ``recv()`` raises this after every message that
    fit. ``code`` is 1008 (policy violation); on the wire the page sends 4008.

    Attributes:
        size: unread messages and bytes held when the next one arrived, as
            ``(messages, bytes)``.
        limit: the bound, as ``(max_queue, max_queue_bytes)``; None: unbounded.
    """

    def __init__(self, size: tuple[int, int], limit: tuple[int | None, int | None]) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            1008,
            f"the reader fell behind: {size[0]} messages / {size[1]} bytes unread; "
            f"max_queue={limit[0]}, max_queue_bytes={limit[1]}",
        )

    def __reduce__(
        self,
    ) -> tuple[type[QueueOverflow], tuple[tuple[int, int], tuple[int | None, int | None]]]:
        return type(self), (self.size, self.limit)


class ReconnectFailed(ConnectionClosedError):
    """A reconnecting stream gave up: ``max_retries`` attempts failed in a row.

    ``__cause__`` is the last attempt's exception. ``code`` is 1006.

    Attributes:
        attempts: how many attempts failed in a row.
        unsent: the messages still in the send queue, oldest first: none of
            them was handed to the browser.
    """

    def __init__(self, attempts: int, unsent: list[str | bytes] | None = None) -> None:
        self.attempts = attempts
        self.unsent = list(unsent or ())
        super().__init__(1006, f"gave up after {attempts} failed attempts to reconnect")

    def __reduce__(self) -> tuple[type[ReconnectFailed], tuple[int, list[str | bytes]]]:
        return type(self), (self.attempts, self.unsent)


class InvalidHandshake(WebSocketError):
    """The opening handshake failed (the ``websockets`` library's class of that name).

    In a browser this is always :class:`ConnectionFailed`: a page never sees
    the HTTP response of a rejected handshake.
    """


class ConnectionFailed(InvalidHandshake, OSError):
    """The opening handshake failed: refused, unreachable, or rejected by the server.

    Browsers do not say which, on purpose (to keep pages from probing
    networks), so neither can we. An OSError, as a refused connection is in
    the ``websockets`` library, so its retry rules apply.
    """


class InvalidURI(WebSocketError, ValueError):
    """The URL is not one a WebSocket can open."""


class InvalidCloseCode(WebSocketError, ValueError):
    """``close()`` was given a code or reason that a browser may not send.

    A page may send code 1000 or 3000-4999, and a reason of at most 123 bytes
    of UTF-8.
    """


class SendQueueFull(WebSocketError, BufferError):
    """``send()`` on a disconnected reconnecting stream found its send queue full.

    The message was not queued (nothing queued before it was dropped); send
    again later, or raise ``send_queue`` / ``send_queue_bytes``.
    """


class ConcurrencyError(WebSocketError, RuntimeError):
    """Two coroutines called ``recv()`` at the same time.

    Which one should get the next message would be a coin toss, so the second
    call fails instead.
    """
