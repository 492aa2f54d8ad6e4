"""The ``websocket-client`` library's API (``import websocket``), blocking, over the core.

After :func:`websocket_streaming.compat.install`, code written for
``websocket-client`` (the version in pyproject's dev group, 1.9.2) runs unchanged
where the runtime can block (see :mod:`.sync`)::

    import websocket

    ws = websocket.create_connection("ws://127.0.0.1:8765/echo", timeout=5)
    ws.send("Hello")
    print(ws.recv())
    ws.close()

    app = websocket.WebSocketApp(url, on_open=..., on_message=..., on_close=...)
    app.run_forever()

Each blocking call runs the core's coroutine (:func:`websocket_streaming.connect`,
the stream's ``send``/``recv``/``close``) through :func:`.sync.run`; where the
runtime cannot block it raises :class:`~.sync.CannotBlock` at once. What a page
cannot do (send ping, pong or fragment frames, set headers or socket options,
use a proxy) is documented on the member: pings and pongs are no-ops (the
browser answers the server's pings itself), the rest is refused with
NotImplementedError naming the browser's limit. Return values and exception
messages follow ``websocket-client``'s, so transcripts compare equal.

Nothing here imports ``js``: the module imports and is tested on CPython.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, ClassVar

from . import client, sync
from .compat_refused import refused_name
from .connection import WebSocketStream
from .exceptions import ConnectionClosed, ConnectionFailed
from .protocol import timer_delay
from .transport import Data

__all__ = [
    "ABNF",
    "WebSocket",
    "WebSocketAddressException",
    "WebSocketApp",
    "WebSocketBadStatusException",
    "WebSocketConnectFailed",
    "WebSocketConnectionClosedException",
    "WebSocketException",
    "WebSocketPayloadException",
    "WebSocketProtocolException",
    "WebSocketProxyException",
    "WebSocketTimeoutException",
    "create_connection",
    "enableTrace",
    "getdefaulttimeout",
    "modules",
    "setdefaulttimeout",
]

#: What send() takes: text, or bytes-like data.
Payload = str | bytes | bytearray | memoryview

#: The ``websocket-client`` version whose API this module follows.
WEBSOCKET_CLIENT_VERSION = "1.9.2"

STATUS_NORMAL = 1000
STATUS_GOING_AWAY = 1001
STATUS_PROTOCOL_ERROR = 1002
STATUS_UNSUPPORTED_DATA_TYPE = 1003
STATUS_STATUS_NOT_AVAILABLE = 1005
STATUS_ABNORMAL_CLOSED = 1006
STATUS_INVALID_PAYLOAD = 1007
STATUS_POLICY_VIOLATION = 1008
STATUS_MESSAGE_TOO_BIG = 1009
STATUS_INVALID_EXTENSION = 1010
STATUS_UNEXPECTED_CONDITION = 1011
STATUS_SERVICE_RESTART = 1012
STATUS_TRY_AGAIN_LATER = 1013
STATUS_BAD_GATEWAY = 1014
STATUS_TLS_HANDSHAKE_ERROR = 1015


# -- exceptions: websocket-client's tree, same names and bases ---------------------------


class WebSocketException(Exception):
    """The root of ``websocket-client``'s exceptions."""


class WebSocketProtocolException(WebSocketException):
    """The peer broke the protocol (the browser reports it as a close with 1002/1006)."""


class WebSocketPayloadException(WebSocketException):
    """A payload was invalid."""


class WebSocketConnectionClosedException(WebSocketException):
    """The connection is closed: by us, by the peer, or lost."""


class WebSocketTimeoutException(WebSocketException):
    """A ``recv()`` or the handshake took longer than the timeout."""


class WebSocketProxyException(WebSocketException):
    """A proxy failed (never raised here: the browser uses its own proxy settings)."""


class WebSocketBadStatusException(WebSocketException):
    """The handshake got a status other than 101 (kept for ``except`` clauses: a browser
    never tells a page the status, so a failed handshake raises :class:`WebSocketConnectFailed`)."""

    def __init__(
        self,
        message: str,
        status_code: int,
        status_message: str | None = None,
        resp_headers: dict[str, str] | None = None,
        resp_body: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.status_message = status_message
        self.resp_headers = resp_headers
        self.resp_body = resp_body


class WebSocketAddressException(WebSocketException):
    """The host name did not resolve (kept for ``except`` clauses: the browser does not
    say so apart from a refused connection)."""


class WebSocketConnectFailed(WebSocketException, ConnectionRefusedError):
    """The connection failed: refused, unreachable or rejected (not in ``websocket-client``).

    A browser does not tell a page which, so this is both what ``websocket-client``
    raises for a refused connection (ConnectionRefusedError, an OSError) and a
    WebSocketException.
    """


# -- frames ----------------------------------------------------------------------------


class ABNF:
    """A frame's opcode constants, and a whole frame for :meth:`WebSocket.send_frame`.

    A page sends whole text and binary messages only (``fin=1``).
    """

    OPCODE_CONT = 0x0
    OPCODE_TEXT = 0x1
    OPCODE_BINARY = 0x2
    OPCODE_CLOSE = 0x8
    OPCODE_PING = 0x9
    OPCODE_PONG = 0xA
    OPCODES = (OPCODE_CONT, OPCODE_TEXT, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG)
    OPCODE_MAP: ClassVar[dict[int, str]] = {
        0x0: "cont",
        0x1: "text",
        0x2: "binary",
        0x8: "close",
        0x9: "ping",
        0xA: "pong",
    }
    LENGTH_7 = 0x7E
    LENGTH_16 = 1 << 16
    LENGTH_63 = 1 << 63

    def __init__(
        self, fin: int = 0, rsv1: int = 0, rsv2: int = 0, rsv3: int = 0,
        opcode: int = OPCODE_TEXT, mask_value: int = 1, data: str | bytes | None = "",
    ) -> None:  # fmt: skip
        self.fin = fin
        self.rsv1, self.rsv2, self.rsv3 = rsv1, rsv2, rsv3
        self.opcode = opcode
        self.mask_value = mask_value
        self.data = b"" if data is None else data

    @staticmethod
    def create_frame(data: str | bytes, opcode: int, fin: int = 1) -> ABNF:
        """A frame of ``data`` (``str`` is encoded to UTF-8 for binary opcodes). Raises nothing."""
        if opcode == ABNF.OPCODE_BINARY and isinstance(data, str):
            data = data.encode()
        return ABNF(fin, 0, 0, 0, opcode, 1, data)


def _frame_length(payload: int) -> int:
    """What ``websocket-client``'s send() returns: the masked frame's length in bytes."""
    header = 2 if payload < ABNF.LENGTH_7 else 4 if payload < ABNF.LENGTH_16 else 10
    return header + 4 + payload


# -- module-level settings ----------------------------------------------------------------

_default_timeout: float | None = None


def setdefaulttimeout(timeout: float | None) -> None:
    """Set the timeout new connections start with (seconds; None: wait forever). Raises nothing."""
    global _default_timeout
    _default_timeout = timeout


def getdefaulttimeout() -> float | None:
    """The timeout new connections start with. Raises nothing."""
    return _default_timeout


def enableTrace(traceable: bool, handler: Any = None, level: str = "DEBUG") -> None:  # noqa: N802
    """Accepted and ignored: there are no raw frames to trace; the browser's developer
    tools show the connection's frames. Raises nothing."""


#: connect() options a page cannot honour (when given a value other than empty), and why.
REFUSED = {
    "header": "a page cannot set handshake headers (pass a token in the URL or the first message)",
    "cookie": "the browser sends its own cookies for the URL's site",
    "origin": "the browser sends the page's own Origin header",
    "host": "the browser sends the URL's host",
    "socket": "a page has no sockets",
    "sockopt": "a page has no sockets",
    "sslopt": "the browser does TLS for wss:// URLs with its own certificate store",
    "http_proxy_host": "the browser uses its own proxy settings",
    "http_proxy_port": "the browser uses its own proxy settings",
    "http_proxy_auth": "the browser uses its own proxy settings",
    "proxy_type": "the browser uses its own proxy settings",
    "dispatcher": "run_forever() reads in this call, by blocking; there is no socket to select",
}

#: connect() options accepted and ignored: the browser does this part itself.
IGNORED = {"suppress_origin", "suppress_host", "redirect_limit", "http_no_proxy"}
IGNORED |= {"http_proxy_timeout", "enable_multithread", "skip_utf8_validation"}
IGNORED |= {"fire_cont_frame", "get_mask_key"}


def _check_options(options: dict[str, Any]) -> None:
    for name, value in options.items():
        if name in IGNORED or not value:
            continue
        reason = REFUSED.get(name, "it configures the socket, which the browser owns")
        raise NotImplementedError(
            f"websocket option {name}={value!r} is not possible in a browser: {reason}"
        )


# -- the connection ----------------------------------------------------------------------


class WebSocket:
    """``websocket.WebSocket``: a blocking connection over the core's :class:`WebSocketStream`.

    ``sock`` is the core's stream while connected (None before and after), so
    ``if ws.sock`` reads as in ``websocket-client``. The constructor's options
    (``sockopt``, ``sslopt``, ...) are checked as :meth:`connect`'s.

    Raises (constructor):
        NotImplementedError: an option a page cannot honour (non-empty ``sockopt``, ``sslopt``).
    """

    def __init__(self, get_mask_key: Any = None, **options: Any) -> None:
        _check_options(options)
        self.sock: WebSocketStream | None = None
        self.connected = False
        self.close_frame: ABNF | None = None
        self.get_mask_key = get_mask_key
        self._timeout: float | None = None
        self._subprotocol: str | None = None
        self._status: int | None = None
        self._headers: dict[str, str] | None = None
        self._lost = False  # the peer's close was reported: later reads find the socket gone
        self._url = ""

    # -- settings --------------------------------------------------------------

    def gettimeout(self) -> float | None:
        """Seconds ``recv()`` waits before a timeout (None: forever). Raises nothing."""
        return self._timeout

    def settimeout(self, timeout: float | None) -> None:
        """Set how long ``recv()`` (and :meth:`connect`) wait, in seconds; None: forever.

        The wait is the core's (an asyncio timeout), never a poll.

        Raises:
            TypeError: ``timeout`` is not a number or None.
            ValueError: ``timeout`` is negative.
        """
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise TypeError(f"timeout must be a number or None, not {type(timeout).__name__}")
            if timeout < 0:
                raise ValueError("Timeout value out of range")
        self._timeout = timeout

    timeout = property(gettimeout, settimeout)

    def getsubprotocol(self) -> str | None:
        """The subprotocol the server chose, or None. Raises nothing."""
        return self._subprotocol

    subprotocol = property(getsubprotocol)

    def getstatus(self) -> int | None:
        """The handshake's status: 101 once connected (all a page sees). Raises nothing."""
        return self._status

    status = property(getstatus)

    def getheaders(self) -> dict[str, str] | None:
        """The response headers a page can know (``sec-websocket-protocol``,
        ``sec-websocket-extensions``), lowercased; None before connecting. Raises nothing."""
        return self._headers

    headers = property(getheaders)

    def is_ssl(self) -> bool:
        """Whether the URL is ``wss://`` (the browser does the TLS). Raises nothing."""
        return self._url.startswith("wss://")

    def fileno(self) -> int:
        """Not possible in a browser: a page has no sockets.

        Raises:
            WebSocketException: always.
        """
        raise WebSocketException("fileno() is not possible in a browser: a page has no sockets")

    def set_mask_key(self, func: Any) -> None:
        """Accepted and ignored: the browser masks the frames it sends. Raises nothing."""
        self.get_mask_key = func

    # -- connecting ------------------------------------------------------------

    def connect(self, url: str, **options: Any) -> None:
        """Open the connection (blocking until the handshake is done).

        Honoured: ``subprotocols``, ``timeout`` (also set as the connection's
        timeout). Accepted and ignored: ``suppress_origin``, ``suppress_host``,
        ``redirect_limit`` and others the browser does itself. Refused when
        given a value: ``header``, ``cookie``, ``origin``, ``host``, proxies,
        ``socket``, ``sockopt``, ``sslopt``.

        Raises:
            CannotBlock: the runtime cannot block here (see :mod:`.sync`).
            NotImplementedError: an option a page cannot honour.
            InvalidURI: ``url`` is not a ws://, wss://, http:// or https:// URL (a ValueError).
            WebSocketConnectFailed: refused, unreachable or rejected.
            WebSocketTimeoutException: the handshake took longer than the timeout.
        """
        if "timeout" in options:
            self.settimeout(options.pop("timeout"))
        subprotocols: Sequence[str] = options.pop("subprotocols", None) or ()
        _check_options(options)
        opener = client.connect(url, subprotocols=subprotocols, max_size=None)
        try:
            stream = sync.run(self._open(opener), "websocket.create_connection()")
        except TimeoutError:
            raise WebSocketTimeoutException("Connection timed out") from None
        except ConnectionFailed as exc:
            raise WebSocketConnectFailed(str(exc)) from None
        self.sock, self._url, self.connected, self._lost = stream, stream.url, True, False
        self._subprotocol, self._status = stream.subprotocol, 101
        self._headers = {}
        if stream.subprotocol:
            self._headers["sec-websocket-protocol"] = stream.subprotocol
        if stream.extensions:
            self._headers["sec-websocket-extensions"] = stream.extensions

    async def _open(self, opener: client.connect) -> WebSocketStream:
        async with asyncio.timeout(timer_delay(self._timeout)):
            stream: WebSocketStream = await opener
        return stream

    # -- sending ---------------------------------------------------------------

    def send(self, payload: Payload, opcode: int = ABNF.OPCODE_TEXT) -> int:
        """Send a message; return the frame's length, as ``websocket-client`` does.

        ``OPCODE_TEXT`` (default) sends ``str`` (or UTF-8 bytes, decoded: one
        copy) as text; ``OPCODE_BINARY`` sends bytes (or ``str``, encoded) as
        binary. ``OPCODE_PING`` and ``OPCODE_PONG`` send nothing: a page cannot
        send control frames (the browser answers the server's pings itself).
        The data is copied once into the browser's send buffer.

        Raises:
            WebSocketConnectionClosedException: the connection is closed.
            CannotBlock: the runtime cannot block here.
            NotImplementedError: ``OPCODE_CONT`` or ``OPCODE_CLOSE`` (use :meth:`close`).
            TypeError: the payload is not ``str`` or bytes-like.
            UnicodeDecodeError: text bytes that are not UTF-8.
        """
        if opcode in (ABNF.OPCODE_CONT, ABNF.OPCODE_CLOSE):
            raise NotImplementedError(
                f"send(opcode={opcode:#x}) is not possible in a browser: a page sends whole "
                "text and binary messages only (use close() to close)"
            )
        data: Data
        if isinstance(payload, str):
            data = payload if opcode == ABNF.OPCODE_TEXT else payload.encode()
        elif isinstance(payload, (bytes, bytearray, memoryview)):
            data = bytes(payload).decode() if opcode == ABNF.OPCODE_TEXT else bytes(payload)
        else:
            raise TypeError(f"send() takes str or bytes, not {type(payload).__name__}")
        # websocket-client returns the frame's length; isascii() is O(1), so only a
        # non-ASCII str pays for an encode to count its UTF-8 bytes.
        size = len(data) if not isinstance(data, str) or data.isascii() else len(data.encode())
        length = _frame_length(size)
        stream = self.sock
        if stream is None or not self.connected:
            raise WebSocketConnectionClosedException("socket is already closed.")
        if opcode in (ABNF.OPCODE_PING, ABNF.OPCODE_PONG):
            return length
        try:
            sync.run(stream.send(data), "websocket.WebSocket.send()")
        except ConnectionClosed:
            self.connected = False
            raise WebSocketConnectionClosedException("socket is already closed.") from None
        return length

    def send_text(self, text_data: str) -> int:
        """Send ``text_data`` as a text message. Raises: as :meth:`send`."""
        return self.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: bytes | bytearray) -> int:
        """Send ``data`` as a binary message. Raises: as :meth:`send`."""
        return self.send(data, ABNF.OPCODE_BINARY)

    def send_binary(self, payload: bytes) -> int:
        """Send ``payload`` as a binary message. Raises: as :meth:`send`."""
        return self.send(payload, ABNF.OPCODE_BINARY)

    def send_frame(self, frame: ABNF) -> int:
        """Send a whole (``fin=1``) text or binary frame made by :meth:`ABNF.create_frame`.

        Raises:
            NotImplementedError: a fragment (``fin=0``), as a page cannot send one.
            Others: as :meth:`send`.
        """
        if not frame.fin:
            raise NotImplementedError(
                "send_frame() of a fragment is not possible in a browser: a page sends "
                "whole messages only"
            )
        return self.send(frame.data, frame.opcode)

    def ping(self, payload: str | bytes = "") -> None:
        """Sends nothing: a page cannot send ping frames. The browser answers the
        server's pings itself, which keeps the connection alive.

        Raises:
            WebSocketConnectionClosedException: the connection is closed.
        """
        self.send(payload, ABNF.OPCODE_PING)

    def pong(self, payload: str | bytes = "") -> None:
        """Sends nothing: a page cannot send pong frames (the browser answers pings itself).

        Raises:
            WebSocketConnectionClosedException: the connection is closed.
        """
        self.send(payload, ABNF.OPCODE_PONG)

    # -- receiving -------------------------------------------------------------

    def recv(self) -> str | bytes:
        """Return the next message: ``str`` for text, ``bytes`` for binary; ``""`` once
        when the server's close frame arrives (as ``websocket-client``).

        Waits at most :meth:`gettimeout` seconds; a timeout loses nothing and
        the connection stays usable.

        Raises:
            WebSocketTimeoutException: no message within the timeout.
            WebSocketConnectionClosedException: the connection is closed (by us,
                or the close was already reported, or it was lost without a close frame).
            CannotBlock: the runtime cannot block here.
        """
        opcode, message = self._recv_message()
        if opcode in (ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY):
            return message
        return ""

    def recv_data(self, control_frame: bool = False) -> tuple[int, bytes]:
        """Return ``(opcode, data)`` for the next message; text is encoded to UTF-8 bytes
        (one more copy). The server's close frame comes as ``(OPCODE_CLOSE, code + reason)``.
        ``control_frame`` is accepted; a page never sees ping or pong frames.

        Raises: as :meth:`recv`.
        """
        opcode, message = self._recv_message()
        return opcode, message.encode() if isinstance(message, str) else message

    def _recv_message(self) -> tuple[int, Data]:
        stream = self.sock
        if stream is None:
            raise WebSocketConnectionClosedException("Connection is closed")
        if self._lost:
            raise WebSocketConnectionClosedException("Connection to remote host was lost.")
        try:
            message = sync.run(self._recv_within(stream), "websocket.WebSocket.recv()")
        except TimeoutError:
            raise WebSocketTimeoutException("Connection timed out") from None
        except ConnectionClosed as exc:
            self.connected, self._lost = False, True
            if exc.rcvd is None:  # no close frame: the connection was lost
                raise WebSocketConnectionClosedException(
                    "Connection to remote host was lost."
                ) from None
            body = b"" if exc.rcvd.code == 1005 else struct.pack("!H", exc.rcvd.code)
            self.close_frame = ABNF(
                1, 0, 0, 0, ABNF.OPCODE_CLOSE, 0, body + exc.rcvd.reason.encode()
            )
            return ABNF.OPCODE_CLOSE, self.close_frame.data
        opcode = ABNF.OPCODE_TEXT if isinstance(message, str) else ABNF.OPCODE_BINARY
        return opcode, message

    async def _recv_within(self, stream: WebSocketStream) -> Data:
        async with asyncio.timeout(timer_delay(self._timeout)):
            return await stream.recv()  # canceling it is safe: no message is lost

    def __iter__(self) -> Iterator[str | bytes]:
        """Yield :meth:`recv` forever (as ``websocket-client``: ``""`` at the server's close,
        then WebSocketConnectionClosedException). Raises: as :meth:`recv`."""
        while True:
            yield self.recv()

    def __next__(self) -> str | bytes:
        """:meth:`recv`. Raises: as :meth:`recv`."""
        return self.recv()

    def next(self) -> str | bytes:
        """:meth:`recv`. Raises: as :meth:`recv`."""
        return self.recv()

    # -- closing ---------------------------------------------------------------

    def close(
        self, status: int = STATUS_NORMAL, reason: str | bytes = b"", timeout: float | None = 3
    ) -> None:
        """Close the connection: send ``status`` and ``reason``, wait up to ``timeout``
        seconds for the server's close frame (kept in ``close_frame``), then drop it.
        Does nothing if not connected.

        Raises:
            ValueError: ``status`` out of 0-65535 (``websocket-client``'s check), or
                one a page may not send (InvalidCloseCode: only 1000 and 3000-4999),
                or a reason over 123 bytes.
            CannotBlock: the runtime cannot block here.
        """
        stream = self.sock
        if not self.connected or stream is None:
            return
        if status < 0 or status >= ABNF.LENGTH_16:
            raise ValueError("code is invalid range")
        text = reason.decode() if isinstance(reason, bytes) else reason
        sync.run(self._close(stream, status, text, timeout), "websocket.WebSocket.close()")
        code, why = stream.close_code, stream.close_reason or ""
        if code is not None and code not in (1005, 1006):
            self.close_frame = ABNF(
                1, 0, 0, 0, ABNF.OPCODE_CLOSE, 0, struct.pack("!H", code) + why.encode()
            )
        self.shutdown()

    @staticmethod
    async def _close(
        stream: WebSocketStream, code: int, reason: str, timeout: float | None
    ) -> None:
        try:
            async with asyncio.timeout(timer_delay(timeout)):
                await stream.close(code, reason)
        except TimeoutError:
            stream.abort()

    def abort(self) -> None:
        """Drop the connection at once, without the closing handshake. Raises nothing."""
        if self.sock is not None:
            self.sock.abort()
        self.connected = False

    def shutdown(self) -> None:
        """Drop the connection at once and forget it (``sock`` becomes None). Raises nothing."""
        self.abort()
        self.sock = None


def create_connection(
    url: str, timeout: float | None = None, class_: type[WebSocket] = WebSocket, **options: Any
) -> WebSocket:
    """Connect to ``url`` and return the connected ``class_`` (a :class:`WebSocket`).

    ``timeout`` (default :func:`getdefaulttimeout`) bounds the handshake and each
    ``recv()``. Other options: as :meth:`WebSocket.connect`.

    Raises:
        As :meth:`WebSocket.connect`; TypeError/ValueError: a bad ``timeout``.
    """
    websocket = class_(
        **{k: options.pop(k) for k in ("sockopt", "sslopt", "get_mask_key") if k in options}
    )
    websocket.settimeout(timeout if timeout is not None else getdefaulttimeout())
    websocket.connect(url, **options)
    return websocket


# -- the callback app -------------------------------------------------------------------


class WebSocketApp:
    """``websocket.WebSocketApp``: callbacks driven by :meth:`run_forever`, which blocks.

    Callbacks are called as in ``websocket-client``: ``on_open(app)``,
    ``on_message(app, message)``, ``on_data(app, data, opcode, fin)``,
    ``on_error(app, exception)``, ``on_close(app, close_status_code, close_msg)``,
    ``on_reconnect(app)``. ``on_ping``, ``on_pong`` and ``on_cont_message`` are
    accepted and never called: a page sees no control frames or fragments. An
    exception in a callback is passed to ``on_error`` (not raised).

    Raises (constructor):
        NotImplementedError: ``header``, ``cookie`` or ``socket`` given (see
            :meth:`WebSocket.connect`).
    """

    def __init__(
        self,
        url: str,
        header: Any = None,
        on_open: Callable[..., Any] | None = None,
        on_reconnect: Callable[..., Any] | None = None,
        on_message: Callable[..., Any] | None = None,
        on_error: Callable[..., Any] | None = None,
        on_close: Callable[..., Any] | None = None,
        on_ping: Callable[..., Any] | None = None,
        on_pong: Callable[..., Any] | None = None,
        on_cont_message: Callable[..., Any] | None = None,
        keep_running: bool = True,
        get_mask_key: Any = None,
        cookie: str | None = None,
        subprotocols: Sequence[str] | None = None,
        on_data: Callable[..., Any] | None = None,
        socket: Any = None,
    ) -> None:
        _check_options({"header": header, "cookie": cookie, "socket": socket})
        self.url = url
        self.header = header if header is not None else []
        self.cookie = cookie
        self.on_open, self.on_reconnect, self.on_message = on_open, on_reconnect, on_message
        self.on_data, self.on_error, self.on_close = on_data, on_error, on_close
        self.on_ping, self.on_pong, self.on_cont_message = on_ping, on_pong, on_cont_message
        self.keep_running = False
        self.get_mask_key = get_mask_key
        self.subprotocols = subprotocols
        self.sock: WebSocket | None = None
        self.has_errored = False
        self.last_close_frame: ABNF | None = None
        self._torn_down = False

    def send(self, data: Payload, opcode: int = ABNF.OPCODE_TEXT) -> None:
        """Send a message (see :meth:`WebSocket.send`).

        Raises:
            WebSocketConnectionClosedException: not connected.
            Others: as :meth:`WebSocket.send`.
        """
        if not self.sock or self.sock.send(data, opcode) == 0:
            raise WebSocketConnectionClosedException("Connection is already closed.")

    def send_text(self, text_data: str) -> None:
        """Send a text message. Raises: as :meth:`send`."""
        self.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: bytes | bytearray) -> None:
        """Send a binary message. Raises: as :meth:`send`."""
        self.send(data, ABNF.OPCODE_BINARY)

    def close(self, **kwargs: Any) -> None:
        """Close the connection (``kwargs`` as :meth:`WebSocket.close`); :meth:`run_forever`
        then calls ``on_close`` and returns. Raises: as :meth:`WebSocket.close`."""
        self.keep_running = False
        sock = self.sock
        if sock:
            sock.close(**kwargs)
            if sock.close_frame is not None:
                self.last_close_frame = sock.close_frame
            self.sock = None

    def ready(self) -> bool:
        """Whether the connection is open. Raises nothing."""
        return bool(self.sock and self.sock.connected)

    def run_forever(
        self,
        sockopt: Any = None,
        sslopt: Any = None,
        ping_interval: float = 0,
        ping_timeout: float | None = None,
        ping_payload: str = "",
        reconnect: int | None = None,
        **options: Any,
    ) -> bool:
        """Connect, call ``on_open``, then read and dispatch messages until the connection
        closes or :meth:`close` is called; blocks meanwhile. Returns True if it ended
        with an error (``has_errored``), False after a close.

        As in ``websocket-client``: a close by the server calls ``on_error`` with a
        WebSocketConnectionClosedException ("Connection closed normally (code
        1000): reason") and then ``on_close(app, code, reason)``; a failure calls
        ``on_error(app, exc)`` and ``on_close(app, None, None)``. ``reconnect=N``
        (seconds) reconnects after a drop or a server close, calling
        ``on_reconnect`` (or ``on_open``), until :meth:`close`. ``ping_interval``
        sends nothing (a page cannot send pings; the browser answers the
        server's). Options: as :meth:`WebSocket.connect`.

        Raises:
            WebSocketException: the ping options are inconsistent, or it is already running.
            NotImplementedError: an option a page cannot honour (``dispatcher``, proxies, ...).
            CannotBlock: the runtime cannot block here (raised before connecting).
        """
        if ping_timeout is not None and ping_timeout <= 0:
            raise WebSocketException("Ensure ping_timeout > 0")
        if ping_interval is not None and ping_interval < 0:
            raise WebSocketException("Ensure ping_interval >= 0")
        if ping_timeout and ping_interval and ping_interval <= ping_timeout:
            raise WebSocketException("Ensure ping_interval > ping_timeout")
        if self.sock:
            raise WebSocketException("socket is already opened")
        _check_options(dict(options, sockopt=sockopt, sslopt=sslopt))
        why = sync.why_cannot_block()
        if why is not None:  # refuse before anything is opened or any callback runs
            raise sync.CannotBlock(
                f"websocket.WebSocketApp.run_forever() cannot block here: {why}; {sync.INSTEAD}"
            )
        self.keep_running, self.has_errored, self._torn_down = True, False, False
        reconnecting = False
        try:
            while True:
                close_frame = self._run_once(reconnecting, bool(reconnect), options)
                if not (reconnect and self.keep_running):
                    self._teardown(close_frame)
                    break
                sync.run(asyncio.sleep(reconnect), "websocket.WebSocketApp.run_forever()")
                reconnecting = True
        finally:
            self._teardown()
        return self.has_errored

    def _run_once(
        self, reconnecting: bool, reconnect: bool, options: dict[str, Any]
    ) -> ABNF | None:
        """One connection: connect, on_open/on_reconnect, dispatch; the close frame, if any.

        on_error follows websocket-client: a server close is reported to it unless
        ``reconnect`` is on; a failure, unless this is a reconnection.
        """
        self.last_close_frame = None
        sock = self.sock = WebSocket(self.get_mask_key)
        sock.settimeout(getdefaulttimeout())
        try:
            sock.connect(self.url, subprotocols=self.subprotocols, **options)
            if reconnecting and self.on_reconnect:
                self._callback(self.on_reconnect)
            else:
                self._callback(self.on_open)
            while self.keep_running and self.sock is not None:
                opcode, data = sock.recv_data(True)
                if opcode == ABNF.OPCODE_CLOSE:
                    code, reason = _parse_close(data)
                    message = "Connection closed" if code is None else (
                        "Connection closed normally (code 1000)" if code == STATUS_NORMAL
                        else f"Connection closed (code {code})"
                    )  # fmt: skip
                    error = WebSocketConnectionClosedException(
                        f"{message}: {reason}" if reason else message
                    )
                    error.status_code, error.reason = code, reason  # type: ignore[attr-defined]
                    if not reconnect:
                        self._callback(self.on_error, error)
                    return sock.close_frame
                text = data.decode() if opcode == ABNF.OPCODE_TEXT else data
                self._callback(self.on_data, text, opcode, True)
                self._callback(self.on_message, text)
        except sync.CannotBlock:
            raise
        except Exception as exc:
            self.has_errored = True
            if not reconnecting:
                self._callback(self.on_error, exc)
        return None

    def _teardown(self, close_frame: ABNF | None = None) -> None:
        if self._torn_down:
            return
        self._torn_down = True
        self.keep_running = False
        if self.sock:
            sock, self.sock = self.sock, None
            sock.close()
        frame = close_frame or self.last_close_frame
        code, reason = _parse_close(frame.data) if frame is not None else (None, None)
        if not self.on_close:
            code, reason = None, None
        self._callback(self.on_close, code, reason)

    def _callback(self, callback: Callable[..., Any] | None, *args: Any) -> None:
        """Call ``callback(self, *args)``; its exception goes to on_error, as websocket-client."""
        if callback:
            try:
                callback(self, *args)
            except sync.CannotBlock:
                raise
            except Exception as exc:
                if self.on_error and callback is not self.on_error:
                    self.on_error(self, exc)


def _parse_close(data: str | bytes) -> tuple[int | None, str | None]:
    """A close frame's body as ``websocket-client`` parses it: (code, reason or None)."""
    body = data.encode() if isinstance(data, str) else data
    if len(body) < 2:
        return None, None
    return 256 * body[0] + body[1], body[2:].decode("utf-8", errors="replace") or None


# -- the modules install() registers ------------------------------------------------------


def modules(make: Callable[..., ModuleType]) -> dict[str, ModuleType]:
    """The ``websocket`` module and the private modules code imports from
    (``from websocket._exceptions import ...``), each with the public names of the real
    one, made with ``make(name, doc, **attributes)``; what a page cannot have is refused
    (compat_refused's table). Raises nothing."""
    names = {name: globals()[name] for name in __all__ if name != "modules"}
    status = {name: value for name, value in globals().items() if name.startswith("STATUS_")}
    errors = {n: v for n, v in names.items() if isinstance(v, type) and issubclass(v, Exception)}

    def refused(module: str, *which: str) -> dict[str, Any]:
        return {name: refused_name(name, module) for name in which}

    private = {
        "_abnf": make(
            "websocket._abnf",
            "Frames and close codes.",
            ABNF=ABNF,
            **status,
            **refused("websocket._abnf", "continuous_frame", "frame_buffer"),
        ),
        "_app": make("websocket._app", "The callback app.", WebSocketApp=WebSocketApp),
        "_core": make(
            "websocket._core",
            "The connection.",
            WebSocket=WebSocket,
            create_connection=create_connection,
        ),
        "_exceptions": make("websocket._exceptions", "The exceptions.", **errors),
        "_socket": make(
            "websocket._socket",
            "Timeouts (the socket is the browser's).",
            getdefaulttimeout=getdefaulttimeout,
            setdefaulttimeout=setdefaulttimeout,
            **refused(
                "websocket._socket",
                "DEFAULT_SOCKET_OPTION",
                "recv",
                "recv_line",
                "send",
                "sock_opt",
            ),
        ),
    }
    top = make(
        "websocket",
        "websocket_streaming.compat: the websocket-client API over the browser's WebSocket.",
        __version__=f"{WEBSOCKET_CLIENT_VERSION}+websocket.streaming",
        **names,
        **status,
        **private,
    )
    return {"websocket": top} | {f"websocket.{n}": m for n, m in private.items()}
