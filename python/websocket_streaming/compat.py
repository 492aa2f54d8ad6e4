"""Run code written for the ``websockets`` library unchanged in the browser.

One call, then the app's own ``import websockets`` code works in a page, a Web
Worker or a JupyterLite notebook::

    from websocket_streaming import compat
    compat.install()

    import websockets
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect("wss://example.test/feed") as websocket:
        await websocket.send("hello")
        print(await websocket.recv())

:func:`install` registers these modules in ``sys.modules``: ``websockets``,
``websockets.asyncio``, ``websockets.asyncio.client``,
``websockets.asyncio.connection``, ``websockets.client`` and
``websockets.legacy.client`` (the legacy ``connect``), ``websockets.exceptions``,
``websockets.frames``, ``websockets.protocol``, ``websockets.typing``,
``websockets.http11`` and ``websockets.datastructures``. Any other
``websockets.*`` module (the server, the threading client) fails to import
with a ModuleNotFoundError that says why a page cannot have it. Calling
``install()`` again is harmless. If the real ``websockets`` is already
imported, ``install()`` raises RuntimeError (code holding the real classes
would not catch ours); a real ``websockets`` that is installed but not yet
imported is shadowed. :func:`uninstall` removes the modules again (names the
app already imported keep pointing at ours).

The connections are :class:`ClientConnection`, a thin adapter over
:class:`~websocket_streaming.WebSocketStream`: the core does all the work. What
a browser cannot do (set headers, send fragments or ping frames, report
addresses) is either emulated, documented on the member, or refused with an
error naming the browser's limit. The exceptions are the package's own:
``websockets.exceptions.ConnectionClosed`` *is*
:class:`websocket_streaming.ConnectionClosed`, ``WebSocketException`` is
:class:`~websocket_streaming.WebSocketError`, so ``except
websockets.ConnectionClosed`` catches what the core raises.

Nothing here imports ``js``: the module imports and is tested on CPython.
"""

from __future__ import annotations

import asyncio
import enum
import importlib.abc
import importlib.machinery
import logging
import sys
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import Any
from urllib.parse import urlsplit

from . import client
from .connection import WebSocketStream
from .exceptions import (
    Close,
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidURI,
    PayloadTooBig,
    WebSocketError,
)
from .protocol import Heartbeat, State, backoff
from .transport import Data

__all__ = [
    "ClientConnection",
    "CloseCode",
    "Headers",
    "Request",
    "Response",
    "WebSocketClientProtocol",
    "connect",
    "install",
    "legacy_connect",
    "process_exception",
    "uninstall",
]

#: The ``websockets`` version whose client API this module follows.
WEBSOCKETS_VERSION = "17.4"

#: Marks the modules install() made, so it can tell them from the real library.
_MARK = "__websocket_streaming_compat__"

_UNSET: Any = object()


# -- the data types the websockets API hands out --------------------------------------


class CloseCode(enum.IntEnum):
    """Close codes, as ``websockets.frames.CloseCode`` names them.

    A page may send only 1000 and 3000-4999: ``close()`` refuses the others
    with InvalidCloseCode.
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


class Headers(Mapping[str, str]):
    """HTTP headers, looked up without regard to case (``websockets.datastructures.Headers``).

    Read-only here: the headers a browser lets a page see.
    """

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): (k, v) for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get_all(self, key: str) -> list[str]:
        """Every value of header ``key``: one at most here."""
        return [self[key]] if key in self else []

    def raw_items(self) -> Iterator[tuple[str, str]]:
        """The ``(name, value)`` pairs, names as they were given."""
        return iter(self._items.values())

    def __repr__(self) -> str:
        return f"Headers({dict(self.raw_items())!r})"


@dataclass
class Request:
    """The opening request, as far as the page knows it: its path and what it offered.

    The browser adds Host, Origin, User-Agent, cookies, the key and the
    extensions itself and does not tell the page; ``headers`` holds only
    ``Sec-WebSocket-Protocol`` (the subprotocols offered), if any.
    """

    path: str
    headers: Headers = field(default_factory=Headers)


@dataclass
class Response:
    """The handshake's response, as far as the browser exposes it.

    ``status_code`` is 101 (the connection opened; a page never sees another
    status), ``headers`` holds ``Sec-WebSocket-Protocol`` and
    ``Sec-WebSocket-Extensions`` when the server chose any (the browser's
    ``protocol`` and ``extensions``); ``body`` is empty.
    """

    status_code: int = 101
    reason_phrase: str = "Switching Protocols"
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""


# -- exceptions ---------------------------------------------------------------------

# websockets' exceptions we never raise (a page never sees the HTTP exchange or the
# frames), defined so that code importing or catching them runs: (name, bases).
_EXTRA_EXCEPTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("InvalidProxy", ("WebSocketException",)),
    ("SecurityError", ("InvalidHandshake",)),
    ("RequestLineTooLong", ("SecurityError",)),
    ("StatusLineTooLong", ("SecurityError",)),
    ("HeaderLineTooLong", ("SecurityError",)),
    ("TooManyHeaders", ("SecurityError",)),
    ("TooManyFragments", ("WebSocketException",)),
    ("ProxyError", ("InvalidHandshake",)),
    ("InvalidProxyMessage", ("ProxyError",)),
    ("InvalidProxyStatus", ("ProxyError",)),
    ("InvalidMessage", ("InvalidHandshake",)),
    ("InvalidMethod", ("InvalidHandshake",)),
    ("InvalidProtocol", ("InvalidHandshake",)),
    ("InvalidHeader", ("InvalidHandshake",)),
    ("InvalidHeaderFormat", ("InvalidHeader",)),
    ("InvalidHeaderValue", ("InvalidHeader",)),
    ("InvalidOrigin", ("InvalidHeader",)),
    ("InvalidUpgrade", ("InvalidHeader",)),
    ("NegotiationError", ("InvalidHandshake",)),
    ("DuplicateParameter", ("NegotiationError",)),
    ("InvalidParameterName", ("NegotiationError",)),
    ("InvalidParameterValue", ("NegotiationError",)),
    ("ProtocolError", ("WebSocketException",)),
]


class InvalidStatus(InvalidHandshake):
    """The server rejected the handshake with an HTTP status (``websockets``' class).

    Never raised in a browser: a page does not see the status of a rejected
    handshake, only that it failed (ConnectionFailed, also an InvalidHandshake).
    """

    def __init__(self, response: Response) -> None:
        self.response = response
        super().__init__(response)

    def __str__(self) -> str:
        return f"server rejected WebSocket connection: HTTP {self.response.status_code:d}"


class InvalidState(WebSocketError, AssertionError):
    """An operation is not allowed in the connection's state (``websockets``' class)."""


#: Every name of ``websockets.exceptions``, bound to the class that stands for it.
EXCEPTIONS: dict[str, type[BaseException]] = {
    "WebSocketException": WebSocketError,
    "ConnectionClosed": ConnectionClosed,
    "ConnectionClosedOK": ConnectionClosedOK,
    "ConnectionClosedError": ConnectionClosedError,
    "InvalidURI": InvalidURI,
    "InvalidHandshake": InvalidHandshake,
    "InvalidStatus": InvalidStatus,
    "PayloadTooBig": PayloadTooBig,
    "InvalidState": InvalidState,
    "ConcurrencyError": ConcurrencyError,
}
for _name, _bases in _EXTRA_EXCEPTIONS:
    EXCEPTIONS[_name] = type(
        _name,
        tuple(EXCEPTIONS[b] for b in _bases),
        {"__module__": "websockets.exceptions", "__doc__": "Never raised in a browser."},
    )


# -- options ------------------------------------------------------------------------

#: Options of ``websockets``' connect() that a page cannot honour, and why.
REFUSED = {
    "origin": "the browser sends the page's own Origin header",
    "additional_headers": "a page cannot set handshake headers (pass a token in the URL "
    "or the first message instead)",
    "extra_headers": "a page cannot set handshake headers (pass a token in the URL "
    "or the first message instead)",
    "user_agent_header": "the browser sends its own User-Agent",
    "extensions": "the browser negotiates its own extensions (permessage-deflate)",
    "ssl": "the browser does TLS for wss:// URLs with its own certificate store",
    "proxy": "the browser uses its own proxy settings",
    "sock": "a page has no sockets",
    "server_hostname": "the browser does TLS with the URL's host name",
    "host": "the browser connects to the URL's host",
    "port": "the browser connects to the URL's port",
    "family": "the browser resolves the URL's host itself",
    "local_addr": "a page cannot choose its local address",
    "create_protocol": "the connection class is ClientConnection (see create_connection)",
    "klass": "the connection class is WebSocketClientProtocol",
    "loop": "the running event loop is used",
    "legacy_recv": "recv() raises ConnectionClosed after a close, as in the new API",
}


def _refuse(name: str, value: object) -> NotImplementedError:
    reason = REFUSED.get(name, "it configures the network connection, which the browser owns")
    return NotImplementedError(f"connect({name}={value!r}) is not possible in a browser: {reason}")


def _first(value: object) -> object:
    """websockets' ``int | (high, low)`` options: the high-water mark."""
    return value[0] if isinstance(value, tuple) else value


def process_exception(exc: Exception) -> Exception | None:
    """Whether ``async for ws in connect(...)`` retries after ``exc``: None to retry.

    As in ``websockets``: retries OSError (here ConnectionFailed: refused,
    unreachable, rejected) and TimeoutError (``open_timeout``); returns ``exc``
    (fatal) for anything else, such as InvalidURI.
    """
    if isinstance(exc, (OSError, TimeoutError)):
        return None
    return exc


def _delays() -> Generator[float]:
    """The default ``reconnect_delays``: 3.1 s growing by 1.618 up to 90 s, with jitter."""
    yield from backoff(min_delay=3.1, max_delay=90.0, factor=1.618)


# -- the connection -------------------------------------------------------------------


class ClientConnection:
    """A ``websockets.asyncio.client.ClientConnection`` over a :class:`WebSocketStream`.

    ``stream`` is the core's connection, which does all the work; this class
    maps the ``websockets`` API onto it. What differs in a browser is said on
    each member.
    """

    def __init__(
        self,
        stream: WebSocketStream,
        *,
        subprotocols: Sequence[str] = (),
        heartbeat: Heartbeat | None = None,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        self.stream = stream
        #: A unique id for the connection, as in ``websockets``.
        self.id = uuid.uuid4()
        self.logger = logger or logging.getLogger("websockets.client")
        self._heartbeat = heartbeat
        parts = urlsplit(stream.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        offered = {"Sec-WebSocket-Protocol": ", ".join(subprotocols)} if subprotocols else {}
        self.request: Request | None = Request(path, Headers(offered))
        chosen = {}
        if stream.subprotocol:
            chosen["Sec-WebSocket-Protocol"] = stream.subprotocol
        if stream.extensions:
            chosen["Sec-WebSocket-Extensions"] = stream.extensions
        self.response: Response | None = Response(headers=Headers(chosen))

    # -- properties -----------------------------------------------------------

    @property
    def state(self) -> State:
        """CONNECTING, OPEN, CLOSING or CLOSED: ``websockets.protocol.State``'s values."""
        return self.stream.state

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, or None."""
        return self.stream.subprotocol

    @property
    def close_code(self) -> int | None:
        """The close code, None while not closed; 1006 when no close frame came."""
        return self.stream.close_code

    @property
    def close_reason(self) -> str | None:
        """The close reason, None while not closed."""
        return self.stream.close_reason

    @property
    def close_exc(self) -> ConnectionClosed:
        """The exception that reports the close.

        Raises:
            InvalidState: the connection is not closed yet.
        """
        if self.stream.state is not State.CLOSED:
            raise InvalidState("the connection is not closed yet")
        return self.stream.closed_exception()

    @property
    def local_address(self) -> None:
        """None: a page does not know its socket's address."""
        return None

    @property
    def remote_address(self) -> None:
        """None: the browser does not tell a page the server's address."""
        return None

    @property
    def latency(self) -> float:
        """Seconds between the last application-level ping and its reply; 0 until one.

        Measured only with a heartbeat (see :meth:`ping`).
        """
        return self.stream.latency

    # -- receiving ------------------------------------------------------------

    async def recv(self, decode: bool | None = None) -> Data:
        """Return the next message: ``str`` for text, ``bytes`` for binary.

        ``decode=True`` returns binary messages decoded from UTF-8 as ``str``
        (one more copy); ``decode=False`` returns text encoded to UTF-8 as
        ``bytes``. Canceling ``recv()`` is safe: no message is lost.

        Raises:
            ConnectionClosed: the connection is closed and every message before
                the close was returned (ConnectionClosedOK after a clean close).
            ConcurrencyError: two coroutines call ``recv()`` at once.
            UnicodeDecodeError: ``decode=True`` and the binary message is not UTF-8.
        """
        message = await self.stream.recv()
        if decode is True and isinstance(message, bytes):
            return message.decode()
        if decode is False and isinstance(message, str):
            return message.encode()
        return message

    async def recv_streaming(self, decode: bool | None = None) -> AsyncIterator[Data]:
        """Yield the next message in fragments: here one fragment, the whole message.

        A browser reassembles fragmented messages before the page sees them.

        Raises:
            ConnectionClosed, ConcurrencyError: as for :meth:`recv`.
        """
        yield await self.recv(decode)

    async def __aiter__(self) -> AsyncIterator[Data]:
        """Yield messages until the connection closes; ends quietly on a clean close.

        Raises:
            ConnectionClosedError: the connection closed with an error.
        """
        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return

    # -- sending --------------------------------------------------------------

    async def send(
        self,
        message: str | bytes | bytearray | memoryview | Iterable[Any] | AsyncIterable[Any],
        *,
        text: bool | None = None,
    ) -> None:
        """Send a message: ``str`` as text, bytes-like as binary.

        An iterable or async iterable of fragments (all ``str`` or all
        bytes-like) is joined and sent as **one** message, since a browser
        cannot send fragmented messages: the peer sees one frame, not several
        (copied once, by the join). An empty iterable sends nothing.
        ``text=True`` sends bytes as a text frame (decoded from UTF-8, one
        copy); ``text=False`` sends ``str`` as a binary frame (encoded to UTF-8).

        Raises:
            ConnectionClosed: the connection is closing or closed.
            TypeError: the message is not one of those types, is a mapping, or
                mixes text and bytes fragments.
            UnicodeDecodeError: ``text=True`` with bytes that are not UTF-8.
        """
        if isinstance(message, (str, bytes, bytearray, memoryview)):
            data: str | bytes | bytearray | memoryview = message
        elif isinstance(message, Mapping):
            raise TypeError("send() takes str, bytes-like or an iterable of them, not a dict")
        elif isinstance(message, Iterable):
            joined = _join(list(message))
            if joined is None:
                return
            data = joined
        elif isinstance(message, AsyncIterable):
            joined = _join([fragment async for fragment in message])
            if joined is None:
                return
            data = joined
        else:
            raise TypeError(
                "send() takes str, bytes-like or an (async) iterable of them, "
                f"not {type(message).__name__}"
            )
        if text is True and not isinstance(data, str):
            data = bytes(data).decode()
        elif text is False and isinstance(data, str):
            data = data.encode()
        await self.stream.send(data)

    # -- closing --------------------------------------------------------------

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason``, and wait for the close.

        Waits at most ``close_timeout`` seconds for the server's answer.

        Raises:
            InvalidCloseCode: ``code`` is not 1000 or 3000-4999 (the only codes
                a page may send), or ``reason`` is over 123 bytes of UTF-8.
        """
        await self.stream.close(int(code), reason)

    async def wait_closed(self) -> None:
        """Wait until the connection is closed. Raises nothing."""
        await self.stream.wait_closed()

    async def __aenter__(self) -> ClientConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- keepalive ------------------------------------------------------------

    async def ping(self, data: str | bytes | None = None) -> Awaitable[float]:
        """Send an application-level ping now; return an awaitable of its latency.

        A page cannot send WebSocket ping frames (the browser answers the
        server's pings itself, and never sends its own). So this works only
        with a heartbeat, ``connect(..., heartbeat=Heartbeat(...))`` or
        ``install(heartbeat=...)``: the server must answer the heartbeat's
        ``ping`` message with its ``pong``. ``data``, if given, must be that
        ``ping`` message. The awaitable resolves with the round trip in
        seconds, or raises ConnectionClosed if the connection closes first
        (also when no reply comes within the heartbeat's timeout).

        Raises:
            NotImplementedError: no heartbeat: the browser cannot send pings.
            ValueError: ``data`` is not the heartbeat's ping message.
            ConnectionClosed: the connection is not open.
        """
        heartbeat = self._heartbeat
        if heartbeat is None:
            raise NotImplementedError(
                "ping() is not possible in a browser: a page cannot send WebSocket ping "
                "frames. Use an application-level ping the server answers: "
                "connect(..., heartbeat=Heartbeat(interval, ping=..., pong=...))"
            )
        if data is not None and data != heartbeat.ping:
            raise ValueError(
                f"ping({data!r}): the heartbeat's ping message is {heartbeat.ping!r}; "
                "a page can send only that"
            )
        if self.stream.state is not State.OPEN:
            if self.stream.state is State.CLOSED:
                raise self.stream.closed_exception()
            raise ConnectionClosedError(1006, "the connection is not open")
        transport = self.stream._transport  # the reply count: no public counter yet
        before = transport.pongs
        for _ in range(10):  # the keepalive task, started at open, may not have run yet
            if self.stream._ping_now is not None:
                break
            await asyncio.sleep(0)
        self.stream.check_alive()
        return asyncio.get_running_loop().create_task(self._pong(before))

    async def _pong(self, before: int) -> float:
        transport = self.stream._transport
        while transport.pongs == before:
            if self.stream.state is State.CLOSED:
                raise self.stream.closed_exception()
            await asyncio.sleep(0.01)
        return self.stream.latency

    async def pong(self, data: str | bytes = b"") -> None:
        """Not possible in a browser: a page cannot send pong frames.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            "pong() is not possible in a browser: a page cannot send WebSocket pong frames "
            "(the browser answers the server's pings itself)"
        )

    def __repr__(self) -> str:
        return f"<ClientConnection {self.stream.url} {self.state.name}>"


class WebSocketClientProtocol(ClientConnection):
    """The legacy API's connection (``websockets.legacy.client``): adds ``open`` and ``closed``."""

    @property
    def open(self) -> bool:
        """Whether the connection is OPEN."""
        return self.state is State.OPEN

    @property
    def closed(self) -> bool:
        """Whether the connection is CLOSED."""
        return self.state is State.CLOSED


def _join(fragments: list[Any]) -> str | bytes | None:
    """One message from fragments: all str, or all bytes-like; None for no fragments."""
    if not fragments:
        return None
    if all(isinstance(f, str) for f in fragments):
        return "".join(fragments)
    if all(isinstance(f, (bytes, bytearray, memoryview)) for f in fragments):
        return b"".join(fragments)
    raise TypeError("the fragments of a message must be all str or all bytes-like")


# -- connect ----------------------------------------------------------------------------


_default_heartbeat: Heartbeat | None = None


class connect:  # noqa: N801 - a class that reads as a function, like websockets' connect
    """``websockets.asyncio.client.connect`` over :func:`websocket_streaming.connect`.

    Awaitable, an async context manager, and ``async for websocket in
    connect(uri)``: the reconnect loop, as in ``websockets`` (each iteration's
    connection closed after the body; failed attempts retried after a delay
    while ``process_exception`` returns None; the delays reset after a
    success).

    Honoured: ``subprotocols``, ``open_timeout`` (10), ``close_timeout`` (10),
    ``max_size`` (1 MiB: a larger message closes the connection and ``recv()``
    raises PayloadTooBig, a ConnectionClosedError with code 1009),
    ``process_exception``, ``reconnect_delays``, ``logger``,
    ``create_connection`` (a ClientConnection subclass), ``compression``
    ("deflate" or None: the browser negotiates permessage-deflate by itself
    and cannot be told not to).

    Mapped: ``max_queue``, when given: unread messages over it close the
    connection (QueueOverflow, 1008) since a browser cannot stop reading; not
    given, unread data is bounded by 64 MiB only. ``write_limit``, when given:
    ``send()`` waits while the browser buffers more. ``ping_interval`` and
    ``ping_timeout`` set the interval and timeout of an application-level
    heartbeat when one is configured (``heartbeat=`` here or in
    :func:`install`: the server must answer it); without one they are ignored
    (the browser answers the server's pings, and cannot send its own).

    Extra keywords: ``heartbeat``, ``backend`` and ``transport_factory``, as
    :func:`websocket_streaming.connect` takes them.

    Refused, with NotImplementedError naming the option and the browser's
    limit: ``origin``, ``additional_headers``, ``user_agent_header``,
    ``extensions``, ``ssl``, a ``proxy`` URL, ``sock``, ``server_hostname``
    and any other keyword (``websockets`` passes those to the socket).

    Raises:
        NotImplementedError: an option a browser cannot honour.
        ValueError: ``compression`` other than "deflate" or None; an option out of range.
        TypeError: ``create_connection`` is not a ClientConnection subclass; an
            option of the wrong type.
        InvalidURI: ``uri`` is not a ``ws://`` or ``wss://`` URL.
        ConnectionFailed: the handshake failed (an InvalidHandshake and an OSError).
        TimeoutError: the handshake took longer than ``open_timeout``.
    """

    connection_class: type[ClientConnection] = ClientConnection

    def __init__(
        self,
        uri: str,
        *,
        origin: str | None = None,
        extensions: Sequence[Any] | None = None,
        subprotocols: Sequence[str] | None = None,
        compression: str | None = "deflate",
        additional_headers: Any = None,
        user_agent_header: Any = _UNSET,
        proxy: str | bool | None = True,
        process_exception: Callable[[Exception], Exception | None] = process_exception,
        open_timeout: float | None = 10,
        ping_interval: float | None = _UNSET,
        ping_timeout: float | None = _UNSET,
        close_timeout: float | None = 10,
        reconnect_delays: Callable[[], Generator[float]] = _delays,
        max_size: int | tuple[int | None, int | None] | None = 2**20,
        max_queue: int | tuple[int | None, int | None] | None = _UNSET,
        write_limit: int | tuple[int, int | None] = _UNSET,
        logger: Any = None,
        create_connection: type[ClientConnection] | None = None,
        heartbeat: Heartbeat | None = _UNSET,
        **kwargs: Any,
    ) -> None:
        for name, value, allowed in (
            ("origin", origin, (None,)),
            ("extensions", extensions, (None,)),
            ("proxy", proxy, (True, None)),
        ):
            if value not in allowed:
                raise _refuse(name, value)
        if additional_headers:
            raise _refuse("additional_headers", additional_headers)
        if user_agent_header is not _UNSET:
            raise _refuse("user_agent_header", user_agent_header)
        core_options: dict[str, Any] = {
            k: kwargs.pop(k) for k in ("backend", "transport_factory") if k in kwargs
        }
        for name, value in kwargs.items():
            if name == "extra_headers" and not value:
                continue
            if value is not None:
                raise _refuse(name, value)
        if compression not in ("deflate", None):
            raise ValueError(
                f"compression={compression!r}: a browser supports only permessage-deflate "
                '("deflate", which it negotiates by itself) or None'
            )
        connection_class = create_connection or self.connection_class
        if not (
            isinstance(connection_class, type) and issubclass(connection_class, ClientConnection)
        ):
            raise TypeError(
                "create_connection must be a subclass of "
                "websocket_streaming.compat.ClientConnection"
            )
        self.connection_class = connection_class
        self.process_exception = process_exception
        self.reconnect_delays = reconnect_delays
        self.logger = logger
        self.subprotocols = list(subprotocols or ())
        self.heartbeat = _heartbeat(heartbeat, ping_interval, ping_timeout)
        options: dict[str, Any] = dict(core_options, max_size=_first(max_size))
        if max_queue is not _UNSET:
            options["max_queue"] = _first(max_queue)
        if write_limit is not _UNSET:
            options["write_limit"] = _first(write_limit)
        self._core = client.connect(
            uri,
            subprotocols=self.subprotocols,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            heartbeat=self.heartbeat,
            **options,
        )
        self._connection: ClientConnection | None = None

    async def _create(self) -> ClientConnection:
        stream = await self._core
        return self.connection_class(
            stream, subprotocols=self.subprotocols, heartbeat=self.heartbeat, logger=self.logger
        )

    def __await__(self) -> Generator[Any, None, ClientConnection]:
        return self._create().__await__()

    async def __aenter__(self) -> ClientConnection:
        self._connection = await self._create()
        return self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def __aiter__(self) -> AsyncIterator[ClientConnection]:
        """Yield a new connection per iteration, reconnecting as ``websockets`` does.

        Raises:
            Exception: the first failure ``process_exception`` does not return
                None for (by default anything but OSError and TimeoutError), or
                the exception it returns instead.
        """
        delays: Iterator[float] | None = None
        while True:
            try:
                async with self as websocket:
                    yield websocket
            except Exception as exc:
                try:
                    new_exc = self.process_exception(exc)
                except Exception as raised:
                    new_exc = raised
                if new_exc is exc:
                    raise
                if new_exc is not None:
                    raise new_exc from exc
                if delays is None:
                    delays = self.reconnect_delays()
                await asyncio.sleep(next(delays))
            else:
                delays = None


def _heartbeat(heartbeat: Any, interval: Any, timeout: Any) -> Heartbeat | None:
    """The heartbeat: the given one or install()'s, with ping_interval/ping_timeout applied."""
    chosen: object = _default_heartbeat if heartbeat is _UNSET else heartbeat
    if chosen is None or interval is None:
        return None
    if not isinstance(chosen, Heartbeat):
        raise TypeError(f"heartbeat must be a Heartbeat or None, not {type(chosen).__name__}")
    if interval is not _UNSET:
        chosen = Heartbeat(interval, chosen.timeout, chosen.ping, chosen.pong)
    if timeout is not _UNSET:
        chosen = Heartbeat(chosen.interval, timeout, chosen.ping, chosen.pong)
    return chosen


class legacy_connect(connect):  # noqa: N801
    """The legacy ``websockets.client.connect`` / ``websockets.legacy.client.connect``.

    The same as :class:`connect`, with the legacy names: ``timeout`` for
    ``close_timeout``, ``extra_headers`` (refused, as ``additional_headers``),
    ``read_limit`` (accepted; nothing to bound), ``max_queue`` defaults to
    none given; connections are :class:`WebSocketClientProtocol`.

    Raises:
        NotImplementedError, ValueError, TypeError, InvalidURI: as :class:`connect`.
    """

    connection_class = WebSocketClientProtocol

    def __init__(self, uri: str, **kwargs: Any) -> None:
        if "timeout" in kwargs:
            kwargs["close_timeout"] = kwargs.pop("timeout")
        kwargs.pop("read_limit", None)
        if kwargs.pop("create_protocol", None) is not None:
            raise _refuse("create_protocol", "...")
        super().__init__(uri, **kwargs)


async def unix_connect(*args: Any, **kwargs: Any) -> ClientConnection:
    """Not possible in a browser: a page cannot open Unix sockets.

    Raises:
        NotImplementedError: always.
    """
    raise NotImplementedError("unix_connect() is not possible in a browser: a page has no sockets")


# -- install ----------------------------------------------------------------------------


#: Why the websockets modules install() does not provide cannot exist in a page.
MISSING = {
    "websockets.server": "a page cannot accept connections",
    "websockets.asyncio.server": "a page cannot accept connections",
    "websockets.legacy.server": "a page cannot accept connections",
    "websockets.sync": "the threading client needs blocking sockets; use the asyncio API",
    "websockets.trio": "the browser event loop is asyncio's",
}


class _Finder(importlib.abc.MetaPathFinder):
    """Fails imports of websockets modules install() does not provide, saying why."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("websockets.") or fullname in sys.modules:
            return None
        reason = next(
            (
                why
                for name, why in MISSING.items()
                if fullname == name or fullname.startswith(name + ".")
            ),
            "websocket_streaming.compat provides the asyncio client only",
        )
        raise ModuleNotFoundError(
            f"No module named {fullname!r} under websocket_streaming.compat: {reason}",
            name=fullname,
        )


_FINDER = _Finder()
_installed: dict[str, ModuleType] = {}


def _module(name: str, doc: str, **attrs: Any) -> ModuleType:
    module = ModuleType(name, doc)
    module.__dict__.update(attrs)
    module.__path__ = []  # a package: its submodules resolve by name
    setattr(module, _MARK, True)
    return module


def _build() -> dict[str, ModuleType]:
    """The websockets modules, bound to this module's classes."""
    exceptions = _module(
        "websockets.exceptions", "websockets' exceptions, as websocket_streaming's.", **EXCEPTIONS
    )
    exceptions.__all__ = list(EXCEPTIONS)  # type: ignore[attr-defined]
    frames = _module("websockets.frames", "Close frames.", Close=Close, CloseCode=CloseCode)
    protocol = _module("websockets.protocol", "The connection state.", State=State)
    typing = _module("websockets.typing", "Type aliases.", Data=Data, Subprotocol=str, Origin=str)
    http11 = _module("websockets.http11", "The handshake.", Request=Request, Response=Response)
    datastructures = _module("websockets.datastructures", "Headers.", Headers=Headers)
    api = dict(
        connect=connect,
        ClientConnection=ClientConnection,
        process_exception=process_exception,
        unix_connect=unix_connect,
    )
    asyncio_client = _module("websockets.asyncio.client", "The asyncio client.", **api)
    asyncio_connection = _module(
        "websockets.asyncio.connection", "Connections.", Connection=ClientConnection
    )
    asyncio_pkg = _module(
        "websockets.asyncio", "asyncio API.", client=asyncio_client, connection=asyncio_connection
    )
    legacy_api = dict(connect=legacy_connect, WebSocketClientProtocol=WebSocketClientProtocol)
    legacy_client = _module("websockets.legacy.client", "The legacy client.", **legacy_api)
    legacy = _module("websockets.legacy", "The legacy API.", client=legacy_client)
    client_module = _module(
        "websockets.client",
        "The legacy client's names.",
        ClientConnection=ClientConnection,
        **legacy_api,
    )
    top = _module(
        "websockets",
        "websocket_streaming.compat: the websockets client API over the browser's WebSocket.",
        __version__=f"{WEBSOCKETS_VERSION}+websocket.streaming",
        **api,
        **EXCEPTIONS,
        Close=Close,
        CloseCode=CloseCode,
        State=State,
        Data=Data,
        Subprotocol=str,
        Origin=str,
        Headers=Headers,
        Request=Request,
        Response=Response,
        asyncio=asyncio_pkg,
        client=client_module,
        legacy=legacy,
        exceptions=exceptions,
        frames=frames,
        protocol=protocol,
        typing=typing,
        http11=http11,
        datastructures=datastructures,
    )
    modules = [top, asyncio_pkg, asyncio_client, asyncio_connection, legacy, legacy_client]
    modules += [client_module, exceptions, frames, protocol, typing, http11, datastructures]
    return {m.__name__: m for m in modules}


def install(*, heartbeat: Heartbeat | None = None) -> ModuleType:
    """Make ``import websockets`` (and its client modules) resolve to this module.

    ``heartbeat``: an application-level ping every connection uses (the server
    must answer it), so that ``ping()``, ``latency``, ``ping_interval`` and
    ``ping_timeout`` work; None (default): none. Calling ``install()`` again
    is harmless (it sets the heartbeat again). Returns the ``websockets`` module.

    Raises:
        RuntimeError: the real ``websockets`` library is already imported:
            call ``install()`` before anything imports it.
    """
    global _default_heartbeat
    current = sys.modules.get("websockets")
    if current is not None and not getattr(current, _MARK, False):
        where = getattr(current, "__file__", None) or "somewhere"
        raise RuntimeError(
            f"the real websockets library is already imported (from {where}), so code "
            "holding its classes would not work with websocket_streaming's: call "
            "websocket_streaming.compat.install() before anything imports websockets"
        )
    if heartbeat is not None and not isinstance(heartbeat, Heartbeat):
        raise TypeError(f"heartbeat must be a Heartbeat or None, not {type(heartbeat).__name__}")
    _default_heartbeat = heartbeat
    if not _installed:
        _installed.update(_build())
    sys.modules.update(_installed)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return _installed["websockets"]


def uninstall() -> None:
    """Undo :func:`install`: ``import websockets`` finds the real library again, if any.

    Names the app already imported from ``websockets`` keep pointing at ours.
    Does nothing if not installed. Raises nothing.
    """
    global _default_heartbeat
    for name, module in _installed.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    _default_heartbeat = None
