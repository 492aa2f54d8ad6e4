"""``websockets.sync.client`` (the threading client's API), blocking, over the asyncio one.

After :func:`websocket_streaming.compat.install`, code written for
``websockets.sync.client`` runs unchanged where the runtime can block (see
:mod:`.sync`)::

    from websockets.sync.client import connect

    with connect("ws://127.0.0.1:8765/echo") as websocket:
        websocket.send("Hello world!")
        print(websocket.recv(timeout=5))

Each blocking call runs the matching coroutine of :mod:`.compat_client` (the
``websockets`` asyncio API over the core) through :func:`.sync.run`, so the
options, the browser's limits and the exceptions are exactly the asyncio
surface's; only the waiting differs. Where the runtime cannot block, every
call raises :class:`~.sync.CannotBlock` at once. Follows ``websockets``
17.4 (``compat_client.WEBSOCKETS_VERSION``).

Nothing here imports ``js``: the module imports and is tested on CPython.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from types import ModuleType, TracebackType
from typing import Any

from . import compat_client, sync
from .compat_refused import PONG_REFUSED, refused_name
from .exceptions import ConnectionClosedOK
from .protocol import State, timer_delay
from .transport import Data

__all__ = [
    "ClientConnection",
    "PongWaiter",
    "connect",
    "modules",
    "reconnect",
    "unix_connect",
    "unix_reconnect",
]


class PongWaiter:
    """What :meth:`ClientConnection.ping` returns, in place of ``threading.Event``: a page
    has no threads, so :meth:`wait` blocks the way :func:`.sync.run` does."""

    def __init__(self, task: asyncio.Future[float], ack_on_close: bool) -> None:
        self._task = task
        self._ack_on_close = ack_on_close

    def is_set(self) -> bool:
        """Whether the pong arrived (or, with ``ack_on_close``, the connection closed).
        Raises nothing."""
        if not self._task.done():
            return False
        return self._ack_on_close or self._task.exception() is None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the pong up to ``timeout`` seconds (None: until it comes or the
        connection closes); return :meth:`is_set`.

        Raises:
            CannotBlock: the runtime cannot block here.
        """
        sync.run(self._wait(timeout), "websockets.sync ping().wait()")
        return self.is_set()

    async def _wait(self, timeout: float | None) -> None:
        try:
            async with asyncio.timeout(timer_delay(timeout)):
                await asyncio.wait([self._task])
        except TimeoutError:
            pass


def _forward(name: str) -> Any:
    """A read-only property reading the asyncio connection's ``name``, with its doc."""
    doc = getattr(compat_client.ClientConnection, name).__doc__
    return property(lambda self: getattr(self.connection, name), doc=doc)


class ClientConnection:
    """A ``websockets.sync.client.ClientConnection`` over the asyncio one (``connection``).

    Each method blocks until the asyncio method it maps to is done. What
    differs in a browser is said on the asyncio :class:`.compat_client.ClientConnection`.
    """

    def __init__(self, connection: compat_client.ClientConnection, legacy: bool | None) -> None:
        self.connection = connection
        #: A unique id for the connection, as in ``websockets``.
        self.id = connection.id
        self.logger = connection.logger
        self.request = connection.request
        self.response = connection.response
        # websockets 17 warns once when connect()'s result is used outside ``with``
        # without legacy=True: the same code gives the same warning here.
        self._pending_legacy_warning = legacy is None

    def _legacy_warning(self) -> None:
        if self._pending_legacy_warning:
            self._pending_legacy_warning = False
            warnings.warn(  # as websockets 17.1+: connect() is to be used with ``with``
                "connect() must be used as a context manager: "
                "with connect(...) as websocket: ...; alternatively, use "
                "websocket = connect(..., legacy=True) to connect directly",
                DeprecationWarning,
                stacklevel=3,
            )

    def _run[T](self, coroutine: Coroutine[Any, Any, T], what: str) -> T:
        return sync.run(coroutine, f"websockets.sync ClientConnection.{what}()")

    # -- properties: the asyncio connection's, read through ----------------------

    state = _forward("state")
    subprotocol = _forward("subprotocol")
    close_code = _forward("close_code")
    close_reason = _forward("close_reason")
    local_address = _forward("local_address")
    remote_address = _forward("remote_address")
    latency = _forward("latency")

    # -- context manager and iteration -----------------------------------------

    def __enter__(self) -> ClientConnection:
        self._pending_legacy_warning = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # websockets closes with 1011 after an exception; a page may send only 1000 and
        # 3000-4999, so it is 1000 either way.
        self.close()

    def __iter__(self) -> Iterator[Data]:
        """Yield :meth:`recv` until the connection closes; ends quietly on a clean close.

        Raises:
            ConnectionClosedError: the connection closed with an error.
            CannotBlock: the runtime cannot block here.
        """
        try:
            while True:
                yield self.recv()
        except ConnectionClosedOK:
            return

    # -- receiving ------------------------------------------------------------

    def recv(self, timeout: float | None = None, decode: bool | None = None) -> Data:
        """Return the next message: ``str`` for text, ``bytes`` for binary.

        ``timeout``: seconds to wait (None: forever; 0 or less: only a message
        already received), then TimeoutError; the wait is an asyncio timeout,
        never a poll, and a timeout loses no message. ``decode``: as the
        asyncio ``recv()``.

        Raises:
            TimeoutError: no message within ``timeout``.
            ConnectionClosed: the connection is closed and every message before
                the close was returned (ConnectionClosedOK after a clean close).
            ConcurrencyError: another call is already waiting in ``recv()``.
            CannotBlock: the runtime cannot block here.
        """
        self._legacy_warning()
        return self._run(self._recv(timeout, decode), "recv")

    async def _recv(self, timeout: float | None, decode: bool | None) -> Data:
        if timeout is None:
            return await self.connection.recv(decode)
        try:
            async with asyncio.timeout(timer_delay(max(timeout, 0))):
                return await self.connection.recv(decode)
        except TimeoutError:
            raise TimeoutError(f"timed out in {timeout:.1f}s") from None  # websockets' words

    def recv_streaming(self, decode: bool | None = None) -> Iterator[Data]:
        """Yield the next message in fragments: here one, the whole message (a browser
        reassembles fragments before the page sees them).

        Raises: as :meth:`recv`.
        """
        self._legacy_warning()
        yield self.recv(decode=decode)

    # -- sending --------------------------------------------------------------

    def send(self, message: Data | Iterable[Data], *, text: bool | None = None) -> None:
        """Send a message: ``str`` as text, bytes-like as binary; an iterable of
        fragments is joined and sent as one message (a page cannot send fragments).

        Raises:
            ConnectionClosed: the connection is closing or closed.
            TypeError: not a message type, a mapping, or mixed fragments.
            CannotBlock: the runtime cannot block here.
        """
        self._legacy_warning()
        self._run(self.connection.send(message, text=text), "send")

    # -- closing --------------------------------------------------------------

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection and wait for the close (at most ``close_timeout``).
        Idempotent: does nothing once closed.

        Raises:
            InvalidCloseCode: ``code`` is not 1000 or 3000-4999, or ``reason`` is too long.
            CannotBlock: the runtime cannot block here.
        """
        self._legacy_warning()
        if self.connection.state is State.CLOSED:
            return
        self._run(self.connection.close(code, reason), "close")

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (None: forever) for the connection to close;
        return whether it is closed.

        Raises:
            CannotBlock: the runtime cannot block here.
        """
        self._run(self._wait_closed(timeout), "wait_closed")
        return self.connection.state is State.CLOSED

    async def _wait_closed(self, timeout: float | None) -> None:
        try:
            async with asyncio.timeout(timer_delay(timeout)):
                await self.connection.wait_closed()
        except TimeoutError:
            pass

    # -- keepalive ------------------------------------------------------------

    def ping(self, data: str | bytes | None = None, *, ack_on_close: bool = False) -> PongWaiter:
        """Send an application-level ping (needs a heartbeat, as the asyncio ``ping()``);
        return a :class:`PongWaiter` whose ``wait()`` blocks until the pong.

        Raises:
            NotImplementedError: no heartbeat: a page cannot send ping frames.
            ValueError: ``data`` is not the heartbeat's ping message.
            ConnectionClosed: the connection is not open.
            CannotBlock: the runtime cannot block here.
        """
        self._legacy_warning()
        pong = self._run(self.connection.ping(data), "ping")
        return PongWaiter(asyncio.ensure_future(pong), ack_on_close)  # a task already

    def pong(self, data: str | bytes = b"") -> None:
        """Not possible in a browser: a page cannot send pong frames.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(PONG_REFUSED)

    def __repr__(self) -> str:
        return f"<sync {self.connection!r}>"


# -- connect -----------------------------------------------------------------------------


def connect(uri: str, *, legacy: bool | None = None, **kwargs: Any) -> Any:
    """``websockets.sync.client.connect``: open a connection, blocking until it is open.

    As in ``websockets`` 17: returns the :class:`ClientConnection`, to use as
    ``with connect(uri) as websocket:`` (used outside ``with`` without
    ``legacy=True`` it warns once, DeprecationWarning); ``legacy=False``
    returns :class:`reconnect` instead. Options: as the asyncio ``connect``
    (honoured, mapped and refused the same way).

    Raises:
        CannotBlock: the runtime cannot block here (after the options are checked).
        NotImplementedError, ValueError, TypeError: an option, as the asyncio ``connect``.
        InvalidURI: ``uri`` is not a ws:// or wss:// URL.
        ConnectionFailed: the handshake failed (an InvalidHandshake and an OSError).
        TimeoutError: the handshake took longer than ``open_timeout``.
    """
    if legacy is False:
        return reconnect(uri, **kwargs)
    opener = compat_client.connect(uri, **kwargs)
    connection = sync.run(_await(opener), "websockets.sync.client.connect()")
    return ClientConnection(connection, legacy)


async def _await[T](awaitable: Awaitable[T]) -> T:
    """A coroutine of any awaitable, for :func:`.sync.run`."""
    return await awaitable


class reconnect:  # noqa: N801 - reads as websockets' reconnect
    """``websockets.sync.client.reconnect``: ``for websocket in reconnect(uri):`` yields a
    new connection per iteration, closing the previous one, retrying failed attempts
    after a delay while ``process_exception`` returns None (as the asyncio
    ``async for websocket in connect(uri)``); ``with reconnect(uri) as websocket:``
    opens one.

    Raises (constructor):
        NotImplementedError, ValueError, TypeError: an option, as the asyncio ``connect``.
    """

    def __init__(self, uri: str, **kwargs: Any) -> None:
        self._opener = compat_client.connect(uri, **kwargs)
        self._opened: ClientConnection | None = None

    def connect(self) -> ClientConnection:
        """Open one connection.

        Raises:
            As :func:`connect`.
        """
        connection = sync.run(_await(self._opener), "websockets.sync.client.reconnect()")
        return ClientConnection(connection, legacy=True)

    def __enter__(self) -> ClientConnection:
        self._opened = self.connect()
        return self._opened

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def __iter__(self) -> Iterator[ClientConnection]:
        """Yield a new connection per iteration.

        Raises:
            Exception: the first failure ``process_exception`` does not return None for.
            CannotBlock: the runtime cannot block here.
        """
        connections: AsyncIterator[compat_client.ClientConnection] = aiter(self._opener)
        while True:
            connection = sync.run(_await(anext(connections)), "websockets.sync reconnect")
            yield ClientConnection(connection, legacy=True)


#: Refused with their reason (compat_refused's table): a page has no Unix sockets.
unix_connect = refused_name("unix_connect", "websockets.sync.client")
unix_reconnect = refused_name("unix_reconnect", "websockets.sync.client")


# -- the modules install() registers ------------------------------------------------------


def modules(make: Callable[..., ModuleType]) -> dict[str, ModuleType]:
    """``websockets.sync``, ``.sync.client`` and ``.sync.connection``, made with
    ``make(name, doc, **attributes)``. Raises nothing."""
    api = {name: globals()[name] for name in __all__ if name not in ("modules", "PongWaiter")}
    client = make("websockets.sync.client", "The blocking client.", **api)
    connection = make("websockets.sync.connection", "Connections.", Connection=ClientConnection)
    package = make("websockets.sync", "The blocking API.", client=client, connection=connection)
    return {m.__name__: m for m in (package, client, connection)}
