"""WebSocketStream: the asyncio side of one connection.

It moves messages and wakes waiters; the browser work is done by a *transport*
(see :class:`Transport`), which ``browser.py`` implements over the page's
``WebSocket`` and the tests implement with a fake on plain CPython.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Protocol

from .exceptions import ConcurrencyError, ConnectionClosedOK, ConnectionFailed, describe_close
from .protocol import State, check_close, closed_exception

__all__ = ["Data", "Transport", "WebSocketStream"]

#: A received message: ``str`` for a text frame, ``bytes`` for a binary frame.
Data = str | bytes


class Transport(Protocol):
    """What a WebSocketStream needs from the thing that really holds the socket.

    The transport calls ``on_event()`` when the socket opens, when it closes,
    and when a message arrives after ``want_wake()`` was called (once, then it
    must be asked again). It never calls it re-entrantly from its own methods.
    """

    on_event: Callable[[], None]

    @property
    def state(self) -> State:
        """The browser's ``readyState``."""
        ...

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose, ``""`` if none (or not open yet)."""
        ...

    @property
    def extensions(self) -> str:
        """The extensions the server chose, ``""`` if none."""
        ...

    @property
    def buffered_amount(self) -> int:
        """The browser's ``bufferedAmount``: bytes sent but not yet on the wire."""
        ...

    @property
    def close_info(self) -> tuple[int, str, bool] | None:
        """``(code, reason, was_clean)`` once closed, else None."""
        ...

    @property
    def pending(self) -> int:
        """How many received messages wait to be taken."""
        ...

    def take(self) -> Iterable[Data]:
        """Remove and return every message received so far, oldest first."""
        ...

    def want_wake(self) -> None:
        """Call ``on_event()`` when the next message arrives (once)."""
        ...

    def send_text(self, data: str) -> int:
        """Queue a text frame (the browser encodes it to UTF-8) and return the
        ``buffered_amount`` after it; if the socket is not OPEN, send nothing and
        return -1."""
        ...

    def send_binary(self, data: memoryview) -> int:
        """Queue a binary frame with the bytes of ``data``, a C-contiguous view, as
        ``send_text`` does."""
        ...

    def close(self, code: int | None = None, reason: str = "") -> None:
        """Start the closing handshake, or fail the connection if not yet open.

        Like ``WebSocket.close()``: returns at once, and does nothing once
        closing or closed.
        """
        ...


class WebSocketStream:
    """An open WebSocket connection, read with ``recv()`` or ``async for``.

    Get one from :func:`websocket_streaming.connect`. Messages received while
    nobody is reading are kept, in order, until read, also after the
    connection has closed: ``recv()`` raises ``ConnectionClosed`` only once all
    of them have been returned.
    """

    def __init__(self, url: str, transport: Transport, *, write_limit: int = 8 << 20) -> None:
        self._url = url
        self._transport = transport
        self._write_limit = write_limit
        self._messages: deque[Data] = deque()
        self._recv_waiter: asyncio.Future[None] | None = None
        self._recv_busy = False
        self._state_waiters: list[asyncio.Future[None]] = []
        self._close_sent: tuple[int, str] | None = None
        transport.on_event = self._on_event

    # -- properties ---------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL this connection was opened with."""
        return self._url

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, or None."""
        return self._transport.protocol or None

    @property
    def extensions(self) -> str:
        """The extensions the server chose (``Sec-WebSocket-Extensions``), or ``""``."""
        return self._transport.extensions

    @property
    def state(self) -> State:
        """CONNECTING, OPEN, CLOSING or CLOSED."""
        return self._transport.state

    @property
    def close_code(self) -> int | None:
        """The close code the browser reported, or None while not closed."""
        info = self._transport.close_info
        return None if info is None else info[0]

    @property
    def close_reason(self) -> str | None:
        """The close reason the browser reported, or None while not closed."""
        info = self._transport.close_info
        return None if info is None else info[1]

    @property
    def buffered_amount(self) -> int:
        """Bytes passed to ``send()`` that the browser has not yet put on the wire."""
        return self._transport.buffered_amount

    # -- receiving ----------------------------------------------------------

    async def recv(self) -> Data:
        """Return the next message: ``str`` for a text frame, ``bytes`` for binary.

        A message already received returns at once, without a trip through the
        event loop. Binary data over 4 KiB is copied once, from the browser's
        ArrayBuffer into the ``bytes`` (smaller messages are packed per batch, see
        ``BrowserTransport.take``); text is decoded once into the ``str``.

        Canceling ``recv()`` is safe: no message is lost.

        Raises:
            ConnectionClosedOK: the connection closed cleanly and every message
                received before the close has been returned.
            ConnectionClosedError: likewise, after an unclean close.
            ConcurrencyError: another coroutine is already waiting in ``recv()``.
        """
        if self._messages:
            return self._messages.popleft()
        if not self._recv_busy:  # one call takes the whole backlog, if there is one
            self._messages.extend(self._transport.take())
            if self._messages:
                return self._messages.popleft()
        await self.wait_message()
        self._messages.extend(self._transport.take())
        return self._messages.popleft()

    async def wait_message(self) -> None:
        """Wait until a message is ready, so that ``recv()`` returns at once.

        The message stays where it is (the JS facade reads it from the
        browser's side without a copy).

        Raises:
            ConnectionClosedOK / ConnectionClosedError: as for ``recv()``.
            ConcurrencyError: another coroutine is already waiting for a message.
        """
        if self._recv_busy:
            raise ConcurrencyError(
                "cannot wait for a message while another coroutine is already waiting for one"
            )
        self._recv_busy = True
        try:
            while not (self._messages or self._transport.pending):
                info = self._transport.close_info
                if info is not None:
                    raise closed_exception(*info)
                waiter = asyncio.get_running_loop().create_future()
                self._recv_waiter = waiter
                self._transport.want_wake()
                try:
                    await waiter
                finally:
                    self._recv_waiter = None
        finally:
            self._recv_busy = False

    async def __aiter__(self) -> AsyncIterator[Data]:
        """Yield messages until the connection closes.

        Ends quietly after a clean close (``ConnectionClosedOK``).

        Raises:
            ConnectionClosedError: the connection closed with an error.
            ConcurrencyError: as for ``recv()``.
        """
        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return

    # -- sending ------------------------------------------------------------

    async def send(self, message: str | bytes | bytearray | memoryview) -> None:
        """Send one message: a text frame for ``str``, a binary frame for bytes-like.

        Copies: a ``str`` is encoded once by the browser. A contiguous bytes-like
        object over 4 KiB is handed to the browser as a view of Pyodide's memory,
        with no copy on our side (the browser copies it into its send buffer);
        one of 4 KiB or less is copied once into a scratch JS array of the
        socket's, which costs less than making the view; a non-contiguous
        memoryview is copied once first.

        Returns once the browser has queued the message. If more than
        ``write_limit`` bytes are then waiting in the browser's buffer, waits
        until they drain below it, so a fast producer cannot exhaust memory.

        Raises:
            ConnectionClosed: the connection is closing or closed; the message
                was not sent. Also raised when the connection closes while
                ``send()`` waits for the buffer to drain: the browser may not
                have sent everything.
            TypeError: ``message`` is neither ``str`` nor bytes-like.
        """
        # One call into the transport per message: it sends only when OPEN and
        # returns the buffered amount, or -1 when it sent nothing.
        if isinstance(message, str):
            buffered = self._transport.send_text(message)
        elif isinstance(message, (bytes, bytearray, memoryview)):
            view = memoryview(message)
            if not view.c_contiguous:
                view = memoryview(view.tobytes())
            buffered = self._transport.send_binary(view)
        else:
            raise TypeError(
                f"send() takes str, bytes, bytearray or memoryview, not {type(message).__name__}"
            )
        if buffered < 0:
            self._check_writable()  # raises: not open
            raise closed_exception(1006, "the connection is not open", False)
        if buffered > self._write_limit:
            await self._drain()

    def _check_writable(self) -> None:
        state = self._transport.state
        if state is State.OPEN:
            return
        info = self._transport.close_info
        if info is not None:
            raise closed_exception(*info)
        # CLOSING: a close frame is on its way and the close event has not come.
        if self._close_sent is not None:
            raise closed_exception(*self._close_sent, True)
        raise closed_exception(1006, "the connection is closing", False)

    async def _drain(self) -> None:
        # Browsers fire no event when bufferedAmount falls, so poll it. Pyodide
        # runs delays of 2 ms or less as message-channel tasks, which can starve
        # the browser's network tasks: poll with a real timer.
        low = self._write_limit // 2
        while self._transport.buffered_amount > low:
            self._check_writable()  # closed while waiting: what is buffered is lost
            await asyncio.sleep(0.005)

    # -- closing ------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake and wait until the connection is closed.

        Messages received before the close stay readable with ``recv()``.
        Closing a closed connection does nothing.

        Raises:
            InvalidCloseCode: ``code`` is not 1000 or 3000-4999, or ``reason``
                is longer than 123 bytes of UTF-8.
        """
        check_close(code, reason)
        if self._transport.state in (State.CONNECTING, State.OPEN):
            self._close_sent = (code, reason)
            self._transport.close(code, reason)
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed, by either side. Raises nothing."""
        await self._wait_state(State.CLOSED)

    def abort(self) -> None:
        """Drop the connection now without waiting for the closing handshake."""
        if self._transport.state in (State.CONNECTING, State.OPEN):
            self._transport.close()

    async def __aenter__(self) -> WebSocketStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- internals ------------------------------------------------------------

    async def _wait_state(self, *states: State) -> None:
        """Wait until the transport reaches one of ``states`` (woken by its open/close events)."""
        while self._transport.state not in states:
            waiter = asyncio.get_running_loop().create_future()
            self._state_waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._state_waiters:
                    self._state_waiters.remove(waiter)

    async def _wait_open(self) -> None:
        """Wait for the handshake to finish.

        The open, message and close events may all run before this coroutine
        resumes: a socket found closed with a close frame (clean, or a code
        other than 1006) or with messages waiting did open, so it is returned
        and ``recv()`` reports the messages, then the close.

        Raises:
            ConnectionFailed: the socket closed before it opened.
        """
        await self._wait_state(State.OPEN, State.CLOSED)
        if self._transport.state is not State.OPEN:
            info = self._transport.close_info or (1006, "", False)
            if info[2] or info[0] != 1006 or self._transport.pending:
                return  # it opened, then closed before we resumed
            raise ConnectionFailed(
                f"could not connect to {self._url}: the browser closed the connection "
                f"with {describe_close(info[0], info[1])} before it opened "
                "(the server refused it, is unreachable, or rejected the handshake; "
                "browsers do not say which)"
            )

    def _on_event(self) -> None:
        """Called by the transport when the socket opened, closed or got a message."""
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._state_waiters:
            waiters, self._state_waiters = self._state_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def __repr__(self) -> str:
        return f"<WebSocketStream {self._url} {self.state.name}>"
