"""connect(): open a WebSocketStream, as an awaitable, a context manager, or a reconnecting loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from types import TracebackType
from typing import Any

from .connection import Transport, WebSocketStream
from .exceptions import WebSocketError
from .protocol import backoff, check_uri, should_retry

__all__ = ["TransportFactory", "connect"]

#: Opens the real socket: ``factory(url, subprotocols) -> Transport``.
TransportFactory = Callable[[str, Sequence[str]], Transport]


class connect:  # noqa: N801 - a class that reads as a function, like websockets.connect
    """Open a WebSocket connection from Pyodide.

    Three ways to use it::

        ws = await connect(url)                 # then: await ws.close()
        async with connect(url) as ws: ...      # closed on exit
        async for ws in connect(url): ...       # reconnects, see __aiter__

    Arguments:
        uri: a ``ws://`` or ``wss://`` URL.
        subprotocols: subprotocols to offer; ``ws.subprotocol`` is the one chosen.
        open_timeout: seconds to wait for the handshake; None waits forever.
        write_limit: bytes waiting in the browser's send buffer above which
            ``send()`` waits for it to drain.
        process_exception: for ``async for``: given the exception that ended
            an attempt, return True to retry (default: :func:`should_retry`).
        transport_factory: what opens the socket; the default drives the
            browser's ``WebSocket``. Tests pass a fake.

    Raises (when awaited or entered):
        InvalidURI: ``uri`` is not a valid ``ws://`` or ``wss://`` URL.
        WebSocketError: not running in Pyodide and no ``transport_factory`` given.
        ConnectionFailed: the handshake failed (refused, unreachable, rejected).
        TimeoutError: the handshake took longer than ``open_timeout``.
    """

    def __init__(
        self,
        uri: str,
        *,
        subprotocols: Sequence[str] | None = None,
        open_timeout: float | None = 10.0,
        write_limit: int = 8 << 20,
        process_exception: Callable[[BaseException], bool] = should_retry,
        transport_factory: TransportFactory | None = None,
    ) -> None:
        self.uri = uri
        self.subprotocols = list(subprotocols or ())
        self.open_timeout = open_timeout
        self.write_limit = write_limit
        self.process_exception = process_exception
        self.transport_factory = transport_factory
        self._ws: WebSocketStream | None = None

    async def _open(self) -> WebSocketStream:
        check_uri(self.uri)
        factory = self.transport_factory
        if factory is None:
            try:
                # lazy-import: browser.py needs Pyodide; importing it here keeps the
                # package importable (and the core testable) on plain CPython.
                from .browser import BrowserTransport
            except ImportError:
                raise WebSocketError(
                    "no browser here: websocket_streaming opens connections only inside "
                    "Pyodide (or pass transport_factory=)"
                ) from None
            factory = BrowserTransport
        transport = factory(self.uri, self.subprotocols)
        ws = WebSocketStream(self.uri, transport, write_limit=self.write_limit)
        try:
            async with asyncio.timeout(self.open_timeout):
                await ws._wait_open()
        except TimeoutError:
            ws.abort()
            raise TimeoutError(
                f"timed out after {self.open_timeout} s connecting to {self.uri}"
            ) from None
        except BaseException:
            ws.abort()  # canceled, or failed: never leave a half-open socket behind
            raise
        return ws

    def __await__(self) -> Generator[Any, None, WebSocketStream]:
        return self._open().__await__()

    async def __aenter__(self) -> WebSocketStream:
        self._ws = await self._open()
        return self._ws

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def __aiter__(self) -> AsyncIterator[WebSocketStream]:
        """Yield a fresh connection each time the previous one is done with.

        Each iteration's connection is closed when the loop body finishes, and
        a new one is opened for the next iteration. Failed attempts for which
        ``process_exception`` returns True are retried after a growing delay
        (:func:`backoff`); the delay resets after a successful connection. Any
        other exception propagates. Typical use::

            async for ws in connect(url):
                try:
                    async for message in ws:
                        ...
                except ConnectionClosed:
                    continue

        Raises:
            InvalidURI: ``uri`` is not a valid ``ws://`` or ``wss://`` URL.
            Exception: the first failure ``process_exception`` declines to
                retry; by default anything but ConnectionFailed, TimeoutError
                and ConnectionClosedError.
        """
        delays = None
        while True:
            try:
                async with self as ws:
                    delays = None
                    yield ws
            except Exception as exc:
                if not self.process_exception(exc):
                    raise
                if delays is None:
                    delays = backoff()
                await asyncio.sleep(next(delays))
