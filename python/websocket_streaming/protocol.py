"""The rules of a browser WebSocket, with no I/O: states, URLs, close codes, retries.

Nothing here touches the browser or the event loop, so all of it is tested on
plain CPython.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from .exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidCloseCode,
    InvalidURI,
)

__all__ = [
    "OK_CLOSE_CODES",
    "State",
    "backoff",
    "check_close",
    "check_uri",
    "closed_exception",
    "should_retry",
]

#: Close codes that end a connection without error, as in the ``websockets`` library.
OK_CLOSE_CODES = frozenset({1000, 1001, 1005})

#: The longest close reason a page may send, in bytes of UTF-8.
MAX_REASON_BYTES = 123


class State(enum.IntEnum):
    """The connection's state; the values are the browser's ``readyState``."""

    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


def check_uri(uri: object) -> str:
    """Return ``uri`` if a browser WebSocket can open it.

    Raises:
        InvalidURI: ``uri`` is not a string, its scheme is not ``ws`` or ``wss``,
            it has no host, or it has a ``#fragment``.
    """
    if not isinstance(uri, str):
        raise InvalidURI(f"the URL must be a str, not {type(uri).__name__}")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidURI(f"{uri!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("ws", "wss"):
        raise InvalidURI(f"{uri!r} is not a WebSocket URL: the scheme must be ws:// or wss://")
    if not parts.hostname:
        raise InvalidURI(f"{uri!r} has no host")
    if parts.fragment or uri.endswith("#"):
        raise InvalidURI(f"{uri!r} has a #fragment, which WebSocket URLs may not have")
    return uri


def check_close(code: object, reason: object) -> None:
    """Check that a page may send this close code and reason.

    Raises:
        InvalidCloseCode: ``code`` is not 1000 or in 3000-4999, or ``reason``
            is not a str of at most 123 bytes in UTF-8.
    """
    if not isinstance(code, int) or isinstance(code, bool):
        raise InvalidCloseCode(f"the close code must be an int, not {type(code).__name__}")
    if code != 1000 and not 3000 <= code <= 4999:
        raise InvalidCloseCode(f"close code {code} is not allowed: use 1000 or 3000-4999")
    if not isinstance(reason, str):
        raise InvalidCloseCode(f"the close reason must be a str, not {type(reason).__name__}")
    size = len(reason.encode("utf-8", "surrogatepass"))
    if size > MAX_REASON_BYTES:
        raise InvalidCloseCode(
            f"the close reason is {size} bytes of UTF-8; at most {MAX_REASON_BYTES} are allowed"
        )


def closed_exception(code: int, reason: str, was_clean: bool) -> ConnectionClosed:
    """The exception that reports a close: OK for a clean 1000/1001/1005, else Error."""
    if was_clean and code in OK_CLOSE_CODES:
        return ConnectionClosedOK(code, reason)
    return ConnectionClosedError(code, reason)


def backoff(
    initial: float = 0.5,
    factor: float = 1.618,
    maximum: float = 30.0,
    jitter: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Yield the delays, in seconds, to wait before each reconnection attempt.

    Grows geometrically from ``initial`` to ``maximum``; each delay is scaled by
    a random factor in [0.5, 1.5) (``jitter`` returns a float in [0, 1)) so that
    many clients do not all come back at the same instant.
    """
    delay = initial
    while True:
        yield min(maximum, delay * (0.5 + jitter()))
        delay = min(maximum, delay * factor)


def should_retry(exc: BaseException) -> bool:
    """Whether a reconnecting ``connect()`` should try again after ``exc``.

    Yes for a failed handshake, a timeout, or a connection closed by an error;
    no for anything else (a bad URL, a bug), which propagates.
    """
    return isinstance(exc, (ConnectionFailed, TimeoutError, ConnectionClosedError))
