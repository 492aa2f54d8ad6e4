"""The ``websockets`` client API over the core: ClientConnection and connect().

:class:`ClientConnection` is a thin adapter over
:class:`~websocket_streaming.WebSocketStream` (the core does all the work);
:class:`connect` adapts :func:`websocket_streaming.connect`. See :mod:`.compat`
for how they replace the ``websockets`` modules. Pure Python, no ``js``.

Over 600 lines on purpose: ClientConnection mirrors the ``websockets`` client API
member by member, each with the browser's limit documented where it has one;
splitting the one class would scatter the one API.
"""

from __future__ import annotations

import asyncio
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
    Mapping,
    Sequence,
)
from typing import Any
from urllib.parse import urlsplit

from . import client
from .compat_refused import PONG_REFUSED, refused_attribute, refused_name
from .compat_types import CloseCode, Headers, HeadersLike, InvalidState, Request, Response
from .connection import MESSAGE_TYPES, ClosedOnExit, WebSocketStream, until_closed
from .exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
)
from .protocol import Heartbeat, State, backoff
from .retry import Retry, retrying
from .transport import Data

__all__ = [
    "ClientConnection",
    "WebSocketClientProtocol",
    "connect",
    "legacy_connect",
    "process_exception",
    "unix_connect",
]

#: The ``websockets`` version whose client API this module follows.
WEBSOCKETS_VERSION = "17.4"

_UNSET: Any = object()


# -- options ------------------------------------------------------------------------

#: Options of ``websockets``' connect() that a page cannot honour, and why.
REFUSED = {
    "origin": "the browser sends the page's own Origin header",
    "extensions": "the browser negotiates its own extensions (permessage-deflate)",
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


class ClientConnection(ClosedOnExit):
    """A ``websockets.asyncio.client.ClientConnection`` over a :class:`WebSocketStream`.

    ``stream`` is the core's connection, which does all the work; this class
    maps the ``websockets`` API onto it. What differs in a browser is said on
    each member. The members of ``websockets``' class that a page cannot have
    (its socket callbacks and I/O machinery) raise AttributeError saying why
    (:data:`~websocket_streaming.compat_refused.REFUSED_ATTRIBUTES`).
    """

    def __init__(
        self,
        stream: WebSocketStream,
        *,
        subprotocols: Sequence[str] = (),
        heartbeat: Heartbeat | None = None,
        logger: logging.Logger | logging.LoggerAdapter[Any] | str | None = None,
        close_timeout: float | None = 10,
    ) -> None:
        self.stream = stream
        #: A unique id for the connection, as in ``websockets``.
        self.id = uuid.uuid4()
        if logger is None or isinstance(logger, str):  # websockets takes a logger's name too
            logger = logging.getLogger(logger or "websockets.client")
        self.logger = logger
        #: The event loop the connection runs in.
        self.loop = asyncio.get_running_loop()
        #: Seconds ``close()`` waits for the server's answer (None: no limit).
        self.close_timeout = close_timeout
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
    def debug(self) -> bool:
        """Whether the logger logs DEBUG messages."""
        return self.logger.isEnabledFor(logging.DEBUG)

    @property
    def ping_interval(self) -> float | None:
        """The heartbeat's interval; None without a heartbeat (no pings are sent)."""
        return self._heartbeat.interval if self._heartbeat else None

    @property
    def ping_timeout(self) -> float | None:
        """The heartbeat's reply timeout; None without a heartbeat."""
        return self._heartbeat.reply_timeout if self._heartbeat else None

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

    def __aiter__(self) -> AsyncIterator[Data]:
        """Yield messages until the connection closes; ends quietly on a clean close.

        Raises:
            ConnectionClosedError: the connection closed with an error.
        """
        return until_closed(self.recv)

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
        if isinstance(message, MESSAGE_TYPES):
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

    async def drain(self) -> None:
        """Wait until the browser's send buffer is under ``write_limit`` (the core's drain()).

        Raises:
            ConnectionClosed: the connection closed while data was still buffered.
        """
        await self.stream.drain()

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
        return asyncio.get_running_loop().create_task(self.stream.ping())

    async def pong(self, data: str | bytes = b"") -> None:
        """Not possible in a browser: a page cannot send pong frames.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(PONG_REFUSED)

    def __repr__(self) -> str:
        return f"<ClientConnection {self.stream.url} {self.state.name}>"

    def __getattr__(self, name: str) -> Any:
        # Only for names the class does not have: a refused member says why.
        raise refused_attribute(type(self), name)


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


default_heartbeat: Heartbeat | None = None


class connect(client.Opener[ClientConnection]):  # noqa: N801 - reads as websockets' connect
    """``websockets.asyncio.client.connect`` over :func:`websocket_streaming.connect`.

    Awaitable, an async context manager, and ``async for websocket in
    connect(uri)``: the reconnect loop, as in ``websockets`` (each iteration's
    connection closed after the body; failed attempts retried after a delay
    while ``process_exception`` returns None; the delays reset after a
    success).

    Honoured: ``subprotocols``, ``open_timeout`` (10), ``close_timeout`` (10),
    ``max_size`` (1 MiB: a larger message closes the connection and ``recv()``
    raises PayloadTooBig, a ConnectionClosedError with code 1009),
    ``process_exception``, ``reconnect_delays``, ``logger`` (a logger or its
    name), ``create_connection`` (a ClientConnection subclass), ``compression``
    ("deflate" or None: the browser negotiates permessage-deflate by itself
    and cannot be told not to), ``uri`` as a keyword.

    Accepted as ``websockets`` accepts them, with the browser doing the work:
    ``ssl`` (True or an ``ssl.SSLContext`` for ``wss://``, whose settings the
    browser does not apply: it does TLS with its own certificate store; any
    ``ssl`` but None for ``ws://`` raises ValueError, as there),
    ``user_agent_header`` (a str or None: sent as ``User-Agent`` where the
    host sends headers, Node.js and Deno; a browser sends its own, which a page
    cannot set), ``additional_headers`` (sent where the host can; in a browser
    headers given are refused by the core: a page cannot set handshake headers).

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
    limit: ``origin``, ``extensions``, a
    ``proxy`` URL, ``sock``, ``server_hostname`` and any other keyword
    (``websockets`` passes those to the socket).

    Raises:
        NotImplementedError: an option a browser cannot honour.
        ValueError: ``compression`` other than "deflate" or None; an option out
            of range; ``ssl`` given for ``ws://`` or None for ``wss://``.
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
        user_agent_header: str | None = None,
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
        if not (user_agent_header is None or isinstance(user_agent_header, str)):
            raise TypeError(
                f"user_agent_header must be a str or None, not {type(user_agent_header).__name__}"
            )
        core_options: dict[str, Any] = {
            k: kwargs.pop(k) for k in ("backend", "transport_factory") if k in kwargs
        }
        headers = _headers(additional_headers)
        if user_agent_header is not None and client.host_sends_headers():  # else the host's own
            headers = {k: v for k, v in (headers or {}).items() if k.lower() != "user-agent"}
            headers["User-Agent"] = user_agent_header
        if headers:  # the core sends them where the host can, and refuses them in a browser
            core_options["additional_headers"] = headers
        ssl = kwargs.pop("ssl", _UNSET)
        for name, value in kwargs.items():
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
        _check_ssl(ssl, self._core.uri)
        self.close_timeout = close_timeout

    async def _create(self) -> ClientConnection:
        stream = await self._core
        return self.connection_class(
            stream,
            subprotocols=self.subprotocols,
            heartbeat=self.heartbeat,
            logger=self.logger,
            close_timeout=self.close_timeout,
        )

    def __aiter__(self) -> AsyncIterator[ClientConnection]:
        """Yield a new connection per iteration, reconnecting as ``websockets`` does.

        Raises:
            Exception: the first failure ``process_exception`` does not return
                None for (by default anything but OSError and TimeoutError), or
                the exception it returns instead.
        """
        return retrying(self._create, Retry(self._retry_policy, delays=self.reconnect_delays))

    def _retry_policy(self, exc: BaseException) -> bool:
        """``process_exception`` as the core's policy: None retries; ``exc`` itself is
        raised; another exception is raised from ``exc``."""
        assert isinstance(exc, Exception)
        try:
            new_exc = self.process_exception(exc)
        except Exception as raised:
            new_exc = raised
        if new_exc is None:
            return True
        if new_exc is exc:
            return False
        raise new_exc from exc


def _headers(value: HeadersLike | None) -> dict[str, str] | None:
    """``additional_headers`` for the core (which sends them where the host can, and
    refuses them in a browser): a dict (repeated names joined by ", "), or None."""
    if not value:
        return None
    headers = value if isinstance(value, Headers) else Headers(value)
    return {name: ", ".join(headers.get_all(name)) for name in headers}


def _check_ssl(ssl: Any, uri: object) -> None:
    """``ssl`` as ``websockets`` takes it: for ``wss://``, True or an SSLContext (the
    browser does the TLS with its own certificate store either way); for ``ws://``, None.

    Raises:
        ValueError: ``ssl`` given for a ``ws://`` URL, or ``ssl=None`` for ``wss://``
            (``websockets``' own messages).
        TypeError: ``ssl`` is neither a bool, None nor an ``ssl.SSLContext``.
    """
    if ssl is _UNSET:
        return
    secure = isinstance(uri, str) and uri.lower().startswith(("wss:", "https:"))
    if not secure and ssl is not None:
        raise ValueError("ssl argument is incompatible with a ws:// URI")
    if secure and ssl is None:
        raise ValueError("ssl=None is incompatible with a wss:// URI")
    # An SSLContext can only come from an imported ssl module: no import needed to check.
    ssl_module = sys.modules.get("ssl")
    context = getattr(ssl_module, "SSLContext", ())
    if not (ssl is None or isinstance(ssl, bool) or isinstance(ssl, context)):
        raise TypeError(f"ssl must be True or an ssl.SSLContext, not {type(ssl).__name__}")


def _heartbeat(heartbeat: Any, interval: Any, timeout: Any) -> Heartbeat | None:
    """The heartbeat: the given one or install()'s, with ping_interval/ping_timeout applied."""
    chosen: object = default_heartbeat if heartbeat is _UNSET else heartbeat
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
    ``close_timeout``, ``extra_headers`` (as ``additional_headers``),
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
        if "extra_headers" in kwargs:
            kwargs["additional_headers"] = kwargs.pop("extra_headers")
        if kwargs.pop("create_protocol", None) is not None:
            raise _refuse("create_protocol", "...")
        super().__init__(uri, **kwargs)


#: Not possible in a browser (compat_refused.REFUSED_NAMES says why): raises when called.
unix_connect = refused_name("unix_connect", "websockets.asyncio.client")
