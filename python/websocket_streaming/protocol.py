"""The rules of a browser WebSocket, with no I/O: states, URLs, close codes, retries.

Nothing here touches the browser or the event loop, so all of it is tested on
plain CPython.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterator

from .exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidCloseCode,
    InvalidURI,
    PayloadTooBig,
    QueueOverflow,
)
from .options import (
    CLOSE_CODE,
    CLOSE_CODE_RANGE,
    DEFAULTS,
    MAX_REASON_BYTES,
    Heartbeat,
    check_count,
    check_options,
    check_seconds,
)
from .options import OVERFLOW_POLICIES as _POLICIES

__all__ = [
    "MIN_TIMER",
    "OK_CLOSE_CODES",
    "OVERFLOW_POLICIES",
    "RETRY_CLOSE_CODES",
    "Heartbeat",
    "State",
    "backoff",
    "check_backoff",
    "check_close",
    "check_count",
    "check_seconds",
    "check_uri",
    "closed_exception",
    "plain_ws_url",
    "should_retry",
    "timer_delay",
]

#: Close codes that end a connection without error, as in the ``websockets`` library.
OK_CLOSE_CODES = frozenset({1000, 1001, 1005})

#: What a reconnecting stream and ``max_queue`` may do when unread data overflows.
OVERFLOW_POLICIES = _POLICIES


#: The shortest timer our own timeouts arm, in seconds (see :func:`timer_delay`).
MIN_TIMER = 0.01


def timer_delay(delay: float | None) -> float | None:
    """The delay to give ``asyncio.timeout()``: 0 and None as they are, a positive
    delay of at least :data:`MIN_TIMER`.

    Pyodide's event loop computes ``call_at(when)``'s delay as ``when - time()``
    and raises ``ValueError("Can't schedule in the past")`` when that is negative,
    which a deadline a few microseconds ahead can be by then (CPython runs the
    callback at once). A zero delay takes asyncio's ``call_soon`` path, and one of
    10 ms or more stays positive, so every timeout of ours goes through this.
    """
    if delay is not None and 0 < delay < MIN_TIMER:
        return MIN_TIMER
    return delay


class State(enum.IntEnum):
    """The connection's state; the values are the browser's ``readyState``."""

    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


def check_uri(uri: object, base: str | None = None) -> str:
    """Return the WebSocket URL a browser's ``new WebSocket(uri)`` would open.

    The WHATWG rules: ``uri`` is parsed against ``base`` (the page's or
    worker's location: so ``"/feed"``, ``"feed"`` and ``"//host/feed"`` work in
    a page), then ``http`` becomes ``ws`` and ``https`` becomes ``wss``. A ``ws``
    or ``wss`` URL is returned unchanged (the same object). Computes only:
    ``base`` is given by the caller (``browser.location()`` in Pyodide).

    Raises:
        InvalidURI: ``uri`` is not a string, is relative and there is no
            ``base``, its scheme is not ``ws``, ``wss``, ``http`` or ``https``,
            it has no host, or it has a ``#fragment`` (a browser refuses each
            with a SyntaxError).
    """
    if not isinstance(uri, str):
        raise InvalidURI(f"the URL must be a str, not {type(uri).__name__}")
    if "#" in uri:  # even an empty fragment: the browser refuses "ws://host/#"
        raise InvalidURI(f"{uri!r} has a #fragment, which WebSocket URLs may not have")
    if plain_ws_url(uri):
        return uri
    return _parse_uri(uri, base)


def plain_ws_url(uri: str) -> bool:
    """Whether ``uri`` is a ``ws://`` or ``wss://`` URL with a plain ``host[:port]``
    (ASCII, no user info, no IPv6 brackets, a port of at most 65535), which
    :func:`check_uri` accepts unchanged without parsing it: importing ``urllib.parse``
    (and the ``ipaddress`` it imports) is slow in Pyodide, so only other URLs do."""
    head = uri[:6].lower()
    if head.startswith("ws://"):
        rest = uri[5:]
    elif head == "wss://":
        rest = uri[6:]
    else:
        return False
    end = len(rest)
    for stop in "/?":
        at = rest.find(stop)
        if 0 <= at < end:
            end = at
    host, colon, port = rest[:end].partition(":")
    if not host or not host.isascii() or not host.isprintable():
        return False
    if any(c in host for c in "@[]\\ %"):
        return False
    return not colon or (port.isascii() and port.isdigit() and int(port) <= 65535)


def _parse_uri(uri: str, base: str | None) -> str:
    from urllib.parse import urljoin, urlsplit  # lazy-import: slow, see plain_ws_url

    resolved = uri
    try:
        parts = urlsplit(uri)
        if not parts.scheme and base is not None:
            resolved = urljoin(base, uri)
            parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidURI(f"{uri!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise InvalidURI(
            f"{uri!r} is not a WebSocket URL: a relative URL needs the page's location to "
            "resolve against, and there is none here (use ws:// or wss://)"
        )
    if scheme in ("http", "https"):
        resolved = ("ws" if scheme == "http" else "wss") + resolved[len(scheme) :]
    elif scheme not in ("ws", "wss"):
        raise InvalidURI(
            f"{uri!r} is not a WebSocket URL: the scheme must be ws://, wss://, http:// "
            f"or https://, not {scheme}:"
        )
    if not parts.hostname:
        raise InvalidURI(f"{uri!r} has no host")
    return resolved


def check_close(code: object, reason: object) -> None:
    """Check that a page may send this close code and reason.

    Raises:
        InvalidCloseCode: ``code`` is not 1000 or in 3000-4999, or ``reason``
            is not a str of at most 123 bytes in UTF-8.
    """
    if not isinstance(code, int) or isinstance(code, bool):
        raise InvalidCloseCode(f"the close code must be an int, not {type(code).__name__}")
    low, high = CLOSE_CODE_RANGE
    if code != CLOSE_CODE and not low <= code <= high:
        raise InvalidCloseCode(
            f"close code {code} is not allowed: use {CLOSE_CODE} or {low}-{high}"
        )
    if not isinstance(reason, str):
        raise InvalidCloseCode(f"the close reason must be a str, not {type(reason).__name__}")
    size = len(reason.encode("utf-8", "surrogatepass"))
    if size > MAX_REASON_BYTES:
        raise InvalidCloseCode(
            f"the close reason is {size} bytes of UTF-8; at most {MAX_REASON_BYTES} are allowed"
        )


def closed_exception(code: int, reason: str, was_clean: bool) -> ConnectionClosed:
    """The exception that reports a close: OK for a clean 1000/1001/1005, else Error.

    The browser's own ``wasClean`` is not trusted on its own: engines differ on a
    close frame carrying a code that may never be on the wire (RFC 6455 7.4): WebKit
    fails the connection (1006, not clean) for all of them, Chromium for 1005, 1006 and
    1015 but reports 999 or 5000 as a clean close, and Firefox reports every one as
    received, as a clean close. So whatever ``was_clean`` says:

    - 1006 and 1015 (reserved for reporting) and every code outside 1000, 1001,
      1005 are an error close, out-of-range and unassigned codes included (< 1000,
      1004, 1016-2999, >= 5000), as are 1002-1003 and 1007-1014;
    - 1005 is what every browser reports for a close frame with no payload, which
      is legitimate, so a clean 1005 is OK; but one with a reason cannot come from
      an empty frame (it was 1005 on the wire, which Firefox passes through): Error.

    What cannot be told apart: a close frame carrying 1005 and no reason from an
    empty close frame (the browser reports both as a clean 1005, so both are OK).
    """
    if was_clean and code in OK_CLOSE_CODES and not (code == 1005 and reason):
        return ConnectionClosedOK(code, reason)
    return ConnectionClosedError(code, reason)


def backoff(
    min_delay: float = DEFAULTS.min_delay,
    max_delay: float = DEFAULTS.max_delay,
    factor: float = DEFAULTS.factor,
    jitter: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Yield the delays, in seconds, to wait before each reconnection attempt.

    The n-th base delay is ``min(max_delay, min_delay * factor ** n)``; each
    delay yielded is that base scaled by a fresh random factor in [0.5, 1.5)
    (``jitter()`` returns a float in [0, 1)), so that many clients dropped at
    once do not all come back at the same instant. Computes only: never sleeps.

    Raises:
        TypeError: a parameter is not a number (bool is refused too).
        ValueError: a delay is negative or not finite, ``max_delay`` is below
            ``min_delay``, or ``factor`` is below 1.
    """
    check_backoff(min_delay, max_delay, factor)
    return _backoff(min_delay, max_delay, factor, jitter)


def _backoff(
    min_delay: float, max_delay: float, factor: float, jitter: Callable[[], float]
) -> Iterator[float]:
    delay = min_delay
    while True:
        yield min(max_delay, delay * (0.5 + jitter()))
        delay = min(max_delay, delay * factor)


def check_backoff(min_delay: float, max_delay: float, factor: float) -> None:
    """Check backoff parameters (see :func:`backoff`).

    Raises:
        TypeError: a parameter is not a number (bool is refused too).
        ValueError: a parameter is negative or not finite, ``max_delay`` is
            below ``min_delay``, or ``factor`` is below 1; the message names it.
    """
    check_options({"min_delay": min_delay, "max_delay": max_delay, "factor": factor})


#: Close codes after which a reconnecting stream tries again by default: going away,
#: abnormal closure (no close frame: a dropped network, a dead peer), and the server's
#: transient errors (internal error, service restart, try again later, bad gateway).
RETRY_CLOSE_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})


def should_retry(exc: BaseException) -> bool:
    """The default reconnect policy: whether to try again after ``exc``.

    Yes for a failed handshake, an open timeout, and a connection closed with
    one of :data:`RETRY_CLOSE_CODES` (1001, 1006, 1011-1014). No for
    everything else: a close with 1000 or 1005 (the server meant it), 1008
    (policy), 1002/1003/1007/1009/1010 (the same bytes would fail again),
    3000-4999 (application codes: the app decides, with its own policy), our
    own PayloadTooBig and QueueOverflow, a bad URL, a bug.
    """
    if isinstance(exc, (ConnectionFailed, TimeoutError)):
        return True
    if isinstance(exc, ConnectionClosed):
        return exc.code in RETRY_CLOSE_CODES and not isinstance(exc, (PayloadTooBig, QueueOverflow))
    return False
