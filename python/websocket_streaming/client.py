"""connect(): open a stream, as an awaitable, a context manager, or a reconnecting loop."""

from __future__ import annotations

import asyncio
import functools
import inspect
from abc import abstractmethod
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import Any, Protocol

from . import connection
from .connection import WebSocketStream
from .exceptions import WebSocketError
from .options import DEFAULTS, check_headers, check_options
from .protocol import Heartbeat, check_uri, should_retry, timer_delay
from .reconnect import Lifecycle, ReconnectingStream, StateEvent
from .retry import Retry, retrying
from .transport import Transport

__all__ = ["Closable", "HeadersLike", "Opener", "TransportFactory", "connect", "host_sends_headers"]

#: Opens the real socket: ``factory(url, subprotocols) -> Transport``; with
#: ``additional_headers``, ``factory(url, subprotocols, headers=((name, value), ...))``.
TransportFactory = Callable[..., Transport]

#: Handshake headers: a mapping, or (name, value) pairs (see ``options.check_headers``).
HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]

#: A URL, or a function (sync or async) returning one, called before each attempt.
URL = str | Callable[[], str | Awaitable[str]]


def _base_url() -> str | None:
    """The page's or worker's URL, which relative and http(s) URLs resolve against; None
    outside a browser."""
    try:
        from .browser import location  # lazy-import: needs Pyodide; CPython imports us
    except ImportError:
        return None
    return location()


def host_sends_headers() -> bool:
    """Whether this host's WebSocket sends handshake headers (Node.js and Deno do, a browser
    cannot: ``browser.host_sends_headers`` decides). True outside Pyodide, where only a
    ``transport_factory`` opens connections, and is given them."""
    try:
        from .browser import host_sends_headers as sends  # lazy-import: needs Pyodide
    except ImportError:
        return True
    return sends()


def _check_headers_allowed() -> None:
    """Raise NotImplementedError where the host cannot send handshake headers (a browser):
    the browser-facing module decides. Outside Pyodide there is no host: the first
    attempt raises WebSocketError (see connect._factory)."""
    try:
        from .browser import check_headers_allowed  # lazy-import: needs Pyodide
    except ImportError:
        return
    check_headers_allowed()


class Closable(Protocol):
    """What ``Opener`` opens: a connection it can close."""

    async def close(self) -> None:
        """Close the connection."""


class Opener[T: Closable]:
    """What both ``connect`` classes (ours and the websockets-compatible one) share: awaiting
    one opens a connection (``_create``); ``async with`` opens one and closes it on exit."""

    _opened: T | None = None

    @abstractmethod
    async def _create(self) -> T:
        """Open one connection (what awaiting the opener returns)."""

    def __await__(self) -> Generator[Any, None, T]:
        return self._create().__await__()

    async def __aenter__(self) -> T:
        self._opened = await self._create()
        return self._opened

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._opened is not None:
            await self._opened.close()
            self._opened = None


class connect(Opener[Any]):  # noqa: N801 - a class that reads as a function, like websockets.connect
    """Open a WebSocket connection from Pyodide.

    Four ways to use it::

        ws = await connect(url)                     # then: await ws.close()
        async with connect(url) as ws: ...          # closed on exit
        async for ws in connect(url): ...           # a fresh connection per iteration
        async with connect(url, reconnect=True) as ws:   # one stream across drops
            await ws.send("hi")                     # queued while disconnected
            async for message in ws: ...

    Every option's default, range and one-line doc is in ``options.OPTIONS`` (the
    defaults: ``options.DEFAULTS``; the JS facade's options are generated from it).

    Arguments:
        uri: a ``ws://`` or ``wss://`` URL, or a function (sync or async)
            returning one, called before each attempt (for a fresh token). As
            with the browser's ``new WebSocket()``, a relative URL (``"/feed"``)
            is resolved against the page's or worker's location, and ``http://``
            / ``https://`` become ``ws://`` / ``wss://``; ``ws.url`` is the result.
        subprotocols: subprotocols to offer; ``ws.subprotocol`` is the one chosen.
        additional_headers: HTTP headers for the opening handshake (a mapping, or
            (name, value) pairs), where the host can send them: Pyodide in Node.js
            >= 22 or Deno. A browser cannot: there they raise NotImplementedError
            (``browser.check_headers_allowed``), as do headers the WebSocket sets
            itself (``Sec-WebSocket-*``, ``Host``...: ValueError).
        open_timeout: seconds to wait for the handshake; None waits forever.
        close_timeout: seconds ``close()`` waits for the peer to answer the
            close frame before it stops waiting (default 5); None waits for the
            browser (up to 60 s in Chromium).
        write_limit: bytes waiting in the browser's send buffer above which
            ``send()`` waits for it to drain.
        max_size: the largest message handed to the reader, in bytes (default
            16 MiB; None: no limit). A larger one closes the connection and
            ``recv()`` raises PayloadTooBig after the messages before it.
        max_queue: unread messages held for the reader (default None: no bound
            by count); max_queue_bytes: unread bytes (default 64 MiB; text counts
            one byte per UTF-16 unit). A browser cannot stop reading, so going
            over either is handled by ``on_overflow``:
        on_overflow: "close" (default): close the connection; ``recv()`` raises
            QueueOverflow after the messages that fit. "drop-oldest": drop the
            oldest unread messages (``ws.dropped`` counts them), for feeds where
            the latest value wins.
        heartbeat: a :class:`Heartbeat` (an application-level ping the server
            answers), or None. A peer that does not answer in time is dropped.
        idle_timeout: seconds without any message after which the peer is
            declared dead and the connection dropped; None (default): never.
        process_exception: the retry policy: given the exception that ended a
            connection or attempt, return True to retry (default:
            :func:`should_retry`: failed handshakes, timeouts, closes with 1001,
            1006, 1011-1014).
        reconnect: return a :class:`ReconnectingStream` that reconnects by
            itself (the next options apply to it, and to ``async for``'s delays).
        min_delay, max_delay, factor: the backoff between attempts (seconds):
            grows from ``min_delay`` by ``factor`` up to ``max_delay``, each delay
            scaled by a fresh random factor in [0.5, 1.5).
        max_retries: failed attempts in a row after which to give up (None:
            never); the stream then raises ReconnectFailed.
        on_connect: ``async def hook(ws)`` awaited on every (re)connection before
            the send queue is flushed (re-authenticate, re-subscribe); ``ws`` is
            the new WebSocketStream, whose ``send()`` goes out at once.
        send_queue, send_queue_bytes: the bound on messages queued while
            disconnected (default 1000 messages, 1 MiB); ``send_queue=0`` makes
            ``send()`` while disconnected raise ConnectionClosed at once.
        on_event: a callback given every :class:`StateEvent` from the start
            (the first attempt included); ``ws.add_listener`` adds more later.
        lifecycle: the page's online/offline/visibility events (default: the
            browser's); tests pass a fake.
        backend: the browser API the default transport uses: "classic"
            (``WebSocket``), "native" (``WebSocketStream``, Chromium only: a
            reader that falls behind makes the server wait, through TCP, rather
            than filling memory; but messages the browser holds unread when the
            server's close frame arrives are lost) or "auto" (native where the
            browser has it, else classic). None (default):
            ``connection.DEFAULT_BACKEND``, "classic".
        transport_factory: what opens the socket; the default drives the
            browser's ``WebSocket`` (or ``WebSocketStream``). Tests pass a fake.

    The constructor raises TypeError, ValueError and NotImplementedError; the rest is
    raised when the opener is awaited or entered.

    Raises:
        InvalidURI: ``uri`` is not a valid ``ws://``, ``wss://``, ``http://`` or
            ``https://`` URL, relative to the page or not, or has a ``#fragment``.
        TypeError: an option of the wrong type.
        ValueError: an option out of range.
        NotImplementedError: ``additional_headers`` where the host cannot send them
            (a browser; raised by the constructor).
        WebSocketError: not running in Pyodide and no ``transport_factory`` given;
            or ``backend="native"`` in a browser without ``WebSocketStream``.
        ConnectionFailed: the handshake failed (refused, unreachable, rejected).
        TimeoutError: the handshake took longer than ``open_timeout``.
        ReconnectFailed: with ``reconnect=True``, ``max_retries`` attempts failed
            before the first connection opened.
    """

    def __init__(
        self,
        uri: URL,
        *,
        subprotocols: Sequence[str] | None = DEFAULTS.subprotocols,
        additional_headers: HeadersLike | None = DEFAULTS.additional_headers,
        open_timeout: float | None = DEFAULTS.open_timeout,
        close_timeout: float | None = DEFAULTS.close_timeout,
        write_limit: int = DEFAULTS.write_limit,
        max_size: int | None = DEFAULTS.max_size,
        max_queue: int | None = DEFAULTS.max_queue,
        max_queue_bytes: int | None = DEFAULTS.max_queue_bytes,
        on_overflow: str = DEFAULTS.on_overflow,
        heartbeat: Heartbeat | None = DEFAULTS.heartbeat,
        idle_timeout: float | None = DEFAULTS.idle_timeout,
        process_exception: Callable[[BaseException], bool] = should_retry,
        reconnect: bool = DEFAULTS.reconnect,
        min_delay: float = DEFAULTS.min_delay,
        max_delay: float = DEFAULTS.max_delay,
        factor: float = DEFAULTS.factor,
        max_retries: int | None = DEFAULTS.max_retries,
        on_connect: Callable[[WebSocketStream], Awaitable[None]] | None = DEFAULTS.on_connect,
        send_queue: int = DEFAULTS.send_queue,
        send_queue_bytes: int = DEFAULTS.send_queue_bytes,
        on_event: Callable[[StateEvent], None] | None = DEFAULTS.on_event,
        lifecycle: Lifecycle | None = DEFAULTS.lifecycle,
        backend: str | None = DEFAULTS.backend,
        transport_factory: TransportFactory | None = DEFAULTS.transport_factory,
    ) -> None:
        if not callable(uri):
            uri = check_uri(uri, _base_url())
        self.options: dict[str, Any] = dict(
            write_limit=write_limit,
            close_timeout=close_timeout,
            max_size=max_size,
            max_queue=max_queue,
            max_queue_bytes=max_queue_bytes,
            on_overflow=on_overflow,
            heartbeat=heartbeat,
            idle_timeout=idle_timeout,
        )
        #: ReconnectingStream's options (the first four are also the Retry's: see retry()).
        self.reconnect_options: dict[str, Any] = dict(
            min_delay=min_delay,
            max_delay=max_delay,
            factor=factor,
            max_retries=max_retries,
            send_queue=send_queue,
            send_queue_bytes=send_queue_bytes,
        )
        check_options(  # before any socket is made
            dict(self.options, **self.reconnect_options, open_timeout=open_timeout, backend=backend)
        )
        self.reconnect_options.update(
            should_retry=process_exception, on_connect=on_connect, on_event=on_event
        )
        #: ``additional_headers`` as (name, value) pairs, checked.
        self.additional_headers = check_headers(additional_headers)
        if self.additional_headers and transport_factory is None:
            _check_headers_allowed()
        self.uri = uri
        self.subprotocols = list(subprotocols or ())
        self.open_timeout = open_timeout
        self.process_exception = process_exception
        self.reconnect = reconnect
        self.lifecycle = lifecycle
        self.backend = backend
        self.transport_factory = transport_factory

    async def _url(self) -> str:
        if not callable(self.uri):
            return self.uri
        uri = self.uri()
        if inspect.isawaitable(uri):
            uri = await uri
        return check_uri(uri, _base_url())

    def _factory(self) -> TransportFactory:
        if self.transport_factory is not None:
            return self.transport_factory
        try:
            from .browser import BrowserTransport  # lazy-import: needs Pyodide; CPython imports us
        except ImportError:
            raise WebSocketError(
                "no browser here: websocket_streaming opens connections only inside "
                "Pyodide (or pass transport_factory=)"
            ) from None
        backend = self.backend or connection.DEFAULT_BACKEND  # read now: a page may change it
        return functools.partial(BrowserTransport, backend=backend)

    def _lifecycle(self) -> Lifecycle | None:
        if self.lifecycle is not None or self.transport_factory is not None:
            return self.lifecycle
        try:
            from .browser import page_lifecycle  # lazy-import: needs Pyodide; CPython imports us
        except ImportError:
            return None  # no browser: the first attempt raises WebSocketError (see _factory)
        return page_lifecycle()

    def retry(self) -> Retry:
        """A fresh :class:`~websocket_streaming.retry.Retry` with this opener's policy
        (``process_exception``), backoff and ``max_retries``."""
        options = self.reconnect_options
        return Retry(
            self.process_exception,
            **{k: options[k] for k in ("min_delay", "max_delay", "factor", "max_retries")},
        )

    async def open_connection(self) -> WebSocketStream:
        """Open one connection (one attempt, within ``open_timeout``), whatever ``reconnect``.

        Canceling it drops the half-open socket.

        Raises:
            InvalidURI, WebSocketError, ConnectionFailed, TimeoutError: as ``connect``.
        """
        url = await self._url()
        factory = self._factory()
        if self.additional_headers:
            transport = factory(url, self.subprotocols, headers=self.additional_headers)
        else:
            transport = factory(url, self.subprotocols)
        try:
            ws = WebSocketStream(url, transport, **self.options)
        except BaseException:
            transport.close()
            raise
        try:
            async with asyncio.timeout(timer_delay(self.open_timeout)):
                await ws.wait_open()
        except TimeoutError:
            ws.abort()
            raise TimeoutError(
                f"timed out after {self.open_timeout} s connecting to {url}"
            ) from None
        except BaseException:
            ws.abort()  # canceled, or failed: never leave a half-open socket behind
            raise
        return ws

    def start_reconnecting(self) -> ReconnectingStream:
        """Start a :class:`ReconnectingStream` with this opener's options and return it at
        once, before its first connection opens (``await connect(url, reconnect=True)``
        waits for that)."""
        return ReconnectingStream(
            self.open_connection, lifecycle=self._lifecycle(), **self.reconnect_options
        )

    async def _open_reconnecting(self) -> ReconnectingStream:
        """Start a ReconnectingStream and wait for its first connection (or its end)."""
        stream = self.start_reconnecting()
        async for event in stream.events():
            if event.type == "open":
                break
            if event.type == "close":
                assert event.error is not None
                raise event.error
        return stream

    async def _create(self) -> WebSocketStream | ReconnectingStream:
        if self.reconnect:
            return await self._open_reconnecting()
        return await self.open_connection()

    def __aiter__(self) -> AsyncIterator[WebSocketStream]:
        """Yield a fresh connection each time the previous one is done with.

        Each iteration's connection is closed when the loop body finishes, and
        a new one is opened for the next iteration. Failed attempts for which
        ``process_exception`` returns True are retried after a growing delay
        (:func:`backoff` with ``min_delay``, ``max_delay``, ``factor``); the
        delay resets after a successful connection. Any other exception
        propagates, and so does the last one after ``max_retries`` failures in a
        row. Typical use::

            async for ws in connect(url):
                try:
                    async for message in ws:
                        ...
                except ConnectionClosed:
                    continue

        Raises:
            InvalidURI: ``uri`` is not a valid ``ws://`` or ``wss://`` URL.
            TypeError: ``reconnect=True`` (use ``async with`` instead), or an
                option of the wrong type.
            ValueError: an option out of range.
            WebSocketError: not running in Pyodide and no ``transport_factory`` given.
            Exception: the first failure ``process_exception`` declines to
                retry; by default anything but ConnectionFailed, TimeoutError
                and retryable closes.
        """
        if self.reconnect:
            raise TypeError("async for ws in connect(...) reconnects already: drop reconnect=True")
        return retrying(self.open_connection, self.retry())
