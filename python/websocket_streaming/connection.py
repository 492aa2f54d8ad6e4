"""WebSocketStream: the asyncio side of one connection.

It moves messages and wakes waiters; the browser work is done by a *transport*
(see ``transport.py``), which ``browser.py`` implements over the page's
``WebSocket`` and the tests implement with a fake on plain CPython.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Self

from .exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedOK,
    ConnectionFailed,
    WebSocketError,
    describe_close,
)
from .options import BACKENDS as _BACKENDS
from .options import DEFAULT_BACKEND as _DEFAULT_BACKEND
from .options import DEFAULTS, OPTIONS, check_options
from .protocol import Heartbeat, State, check_close, closed_exception, timer_delay
from .retry import logger
from .transport import Data, Transport
from .waiter import Waiter

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_MAX_QUEUE_BYTES",
    "DEFAULT_MAX_SIZE",
    "MESSAGE_TYPES",
    "WebSocketStream",
    "not_a_message",
    "until_closed",
]

#: ``max_size``: the largest message handed to the reader, in bytes (``options.DEFAULTS``).
DEFAULT_MAX_SIZE: int = DEFAULTS.max_size
#: ``max_queue_bytes``: unread data held for the reader, in bytes (``options.DEFAULTS``).
DEFAULT_MAX_QUEUE_BYTES: int = DEFAULTS.max_queue_bytes
#: ``backend``: the browser API under the connection: "classic", "native" or "auto" (see
#: ``options.BACKENDS``). "native" is not the default: Chromium 156 drops the messages it
#: holds unread when the server's close frame arrives (browser.py).
BACKENDS = _BACKENDS
#: The backend of ``connect()`` when it is given none (read when a connection opens).
DEFAULT_BACKEND = _DEFAULT_BACKEND
#: ``recv()`` moves the backlog into Python in batches of at most this many messages
#: and bytes, so a large backlog is never held twice (once in JS, once in Python).
TAKE_MESSAGES = 4096
TAKE_BYTES = 1 << 20

#: The options WebSocketStream takes: the schema's "connection" group (backend is the
#: transport's, chosen by connect()).
_STREAM_OPTIONS = tuple(o.name for o in OPTIONS if o.group == "connection" and o.name != "backend")


#: What ``send()`` takes: text, or a bytes-like object.
MESSAGE_TYPES = (str, bytes, bytearray, memoryview)


def not_a_message(message: object) -> TypeError:
    """The error ``send()`` raises for anything but :data:`MESSAGE_TYPES`."""
    return TypeError(
        f"send() takes str, bytes, bytearray or memoryview, not {type(message).__name__}"
    )


def _wake_all(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)


async def until_closed(recv: Callable[[], Awaitable[Data]]) -> AsyncIterator[Data]:
    """Yield ``recv()``'s messages; a clean close (ConnectionClosedOK) ends it quietly.

    Raises what ``recv()`` raises, ConnectionClosedOK excepted."""
    try:
        while True:
            yield await recv()
    except ConnectionClosedOK:
        return


class ClosedOnExit:
    """What ``async with`` does to a stream: returns it, and closes it (1000) on exit."""

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the stream (every subclass defines it)."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class WebSocketStream(ClosedOnExit):
    """An open WebSocket connection, read with ``recv()`` or ``async for``.

    Get one from :func:`websocket_streaming.connect`, which documents the
    options. Messages received while nobody is reading are kept, in order,
    until read, also after the connection has closed: ``recv()`` raises
    ``ConnectionClosed`` only once all of them have been returned. What is
    kept is bounded by ``max_queue`` / ``max_queue_bytes`` (see ``connect``).

    Raises:
        TypeError: an option has the wrong type (bool is refused for numbers).
        ValueError: an option is out of range (negative, NaN, infinite, an
            ``on_overflow`` other than "close" or "drop-oldest", ``idle_timeout=0``).
    """

    def __init__(
        self,
        url: str,
        transport: Transport,
        *,
        write_limit: int = DEFAULTS.write_limit,
        close_timeout: float | None = DEFAULTS.close_timeout,
        max_size: int | None = DEFAULTS.max_size,
        max_queue: int | None = DEFAULTS.max_queue,
        max_queue_bytes: int | None = DEFAULTS.max_queue_bytes,
        on_overflow: str = DEFAULTS.on_overflow,
        heartbeat: Heartbeat | None = DEFAULTS.heartbeat,
        idle_timeout: float | None = DEFAULTS.idle_timeout,
    ) -> None:
        given = locals()
        check_options({name: given[name] for name in _STREAM_OPTIONS})
        self._url = url
        self._transport = transport
        self._write_limit = write_limit
        self._close_timeout = close_timeout
        self._heartbeat = heartbeat
        self._idle_timeout = idle_timeout
        self._messages: deque[Data] = deque()
        self._recv_waiter: Waiter | None = None
        self._recv_busy = False
        self._state_waiters: list[Waiter] = []
        self._close_sent: tuple[int, str] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._ping_now: asyncio.Event | None = None
        self._pong_waiters: list[asyncio.Future[None]] = []
        self._drops = (on_overflow == "drop-oldest", 0)  # (dropping, drops logged so far)
        self._close_logged = False
        transport.on_event = self._on_event
        transport.set_limits(max_size, max_queue, max_queue_bytes, on_overflow == "drop-oldest")
        if heartbeat is not None:
            transport.set_pong(heartbeat.pong)

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
        if self._transport.close_info is not None:
            return State.CLOSED  # also when we stopped waiting for the browser (abandon)
        return self._transport.state

    @property
    def close_code(self) -> int | None:
        """The close code, or None while not closed: the browser's, or 1009 / 1008 /
        1006 when we closed it (message too big / reader too slow / dead peer or close
        timeout)."""
        return self._close_as_reported()[0]

    @property
    def close_reason(self) -> str | None:
        """The close reason, or None while not closed (as ``close_code``)."""
        return self._close_as_reported()[1]

    def _close_as_reported(self) -> tuple[int | None, str | None]:
        fault = self._transport.fault
        if fault is not None:
            return fault.code, fault.reason
        info = self._transport.close_info
        return (None, None) if info is None else (info[0], info[1])

    @property
    def closed_cleanly(self) -> bool:
        """Whether the connection closed with a closing handshake (False while open, and
        when we closed it for a fault: a message over ``max_size``, a queue overflow)."""
        info = self._transport.close_info
        return info is not None and info[2] and self._transport.fault is None

    @property
    def transport(self) -> Transport:
        """The :class:`~websocket_streaming.Transport` this stream runs on (a
        ``BrowserTransport`` in a browser; the JS facade reads its JS state)."""
        return self._transport

    @property
    def write_limit(self) -> int:
        """Bytes waiting in the browser's send buffer above which ``send()`` waits."""
        return self._write_limit

    @property
    def buffered_amount(self) -> int:
        """Bytes passed to ``send()`` that the browser has not yet put on the wire."""
        return self._transport.buffered_amount

    @property
    def dropped(self) -> int:
        """Unread messages dropped so far by ``on_overflow="drop-oldest"``."""
        return self._transport.dropped

    @property
    def latency(self) -> float:
        """Seconds between the last heartbeat ping and its reply; 0 until one is measured."""
        return self._transport.latency or 0.0

    # -- receiving ----------------------------------------------------------

    async def recv(self) -> Data:
        """Return the next message: ``str`` for a text frame, ``bytes`` for binary.

        A message already received returns at once, without a trip through the
        event loop. Binary data over 4 KiB is copied once, from the browser's
        ArrayBuffer into the ``bytes`` (smaller messages are packed per batch, see
        ``BrowserTransport.take``); text is decoded once into the ``str``. The
        backlog moves into Python in batches of at most 4096 messages / 1 MiB.

        A ``recv()`` that waits is resumed inside the browser's ``message``
        event (no event-loop turn in between, so a reply it sends leaves from
        that event too), unless messages are arriving back to back: then one
        loop turn later, so that it takes them in one batch. Either way it runs
        in its own task and context; called from inside another running task,
        the wake-up always goes through the loop (see ``waiter.py``).

        Canceling ``recv()`` is safe: no message is lost.

        Raises:
            ConnectionClosedOK: the connection closed cleanly and every message
                received before the close has been returned.
            ConnectionClosedError: likewise, after an unclean close; its
                subclasses PayloadTooBig (a message over ``max_size``) and
                QueueOverflow (unread data over ``max_queue``) when we closed it.
            ConcurrencyError: another coroutine is already waiting in ``recv()``.
        """
        messages = self._messages
        if not messages or self._recv_busy:  # busy: a message handed to the waiting reader
            await self.wait_message()
        return messages.popleft()

    async def wait_message(self) -> None:
        """Wait until a message is ready, so that ``recv()`` returns at once.

        Raises:
            ConnectionClosedOK / ConnectionClosedError: as for ``recv()``.
            ConcurrencyError: another coroutine is already waiting for a message.
        """
        if self._recv_busy:
            raise ConcurrencyError(
                "cannot wait for a message while another coroutine is already waiting for one"
            )
        messages = self._messages
        if messages:
            return
        self._recv_busy = True
        try:
            while True:  # one call: a batch of the backlog, or else a wake-up asked for
                batch = self._transport.take(TAKE_MESSAGES, TAKE_BYTES)
                if batch is None:  # closed, and every message received was read
                    raise self.closed_exception()
                if batch:
                    messages.extend(batch)
                    if self._drops[0]:
                        self._log_drops()
                    return
                waiter = Waiter(asyncio.get_running_loop())
                self._recv_waiter = waiter
                try:
                    await waiter
                finally:
                    self._recv_waiter = None
                if messages:  # handed over with the wake-up (see Transport)
                    return
        finally:
            self._recv_busy = False

    def _log_drops(self) -> None:
        dropped = self._transport.dropped
        if dropped != self._drops[1]:
            logger.warning(
                "dropped %d unread messages from %s (on_overflow='drop-oldest'; %d in all)",
                dropped - self._drops[1],
                self._url,
                dropped,
            )
            self._drops = (True, dropped)

    def closed_exception(self) -> ConnectionClosed:
        """The exception that reports how this connection closed (it must be closed)."""
        fault = self._transport.fault
        if fault is not None:
            return fault
        info = self._transport.close_info
        assert info is not None, "the connection is not closed"
        return closed_exception(*info)

    def __aiter__(self) -> AsyncIterator[Data]:
        """Yield messages until the connection closes.

        Ends quietly after a clean close (``ConnectionClosedOK``).

        Raises:
            ConnectionClosedError: the connection closed with an error.
            ConcurrencyError: as for ``recv()``.
        """
        return until_closed(self.recv)

    # -- sending ------------------------------------------------------------

    async def send(self, message: str | bytes | bytearray | memoryview) -> None:
        """Send one message: a text frame for ``str``, a binary frame for bytes-like.

        Copies: a ``str`` is encoded once by the browser. A contiguous bytes-like
        object over 256 KiB is handed to the browser as a view of Pyodide's
        memory, with no copy on our side (the browser copies it into its send
        buffer); one of 256 KiB or less is copied once into a buffer of the
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
            raise not_a_message(message)
        if buffered < 0:
            self._check_writable()  # raises: not open
            raise closed_exception(1006, "the connection is not open", False)
        if buffered > self._write_limit:
            await self.drain()

    def _check_writable(self) -> None:
        if self._transport.close_info is not None:
            raise self.closed_exception()
        state = self._transport.state
        if state is State.OPEN:
            return
        # CLOSING: a close frame is on its way and the close event has not come.
        if self._close_sent is not None:
            raise closed_exception(*self._close_sent, True)
        raise closed_exception(1006, "the connection is closing", False)

    async def drain(self) -> None:
        """Wait until at most ``write_limit`` bytes wait in the browser's send buffer
        (``send()`` does this after each message; call it after sending by other means,
        as the JS facade does).

        Raises:
            ConnectionClosed: the connection closed while waiting (what was still
                buffered may not have been sent), or is closing or closed.
        """
        # Browsers fire no event when bufferedAmount falls, so poll it. Pyodide
        # runs delays of 2 ms or less as message-channel tasks, which can starve
        # the browser's network tasks: poll with a real timer. Resume as soon as
        # the buffer is back under the limit, not half of it, so that it never
        # runs dry between two polls.
        while self._transport.buffered_amount > self._write_limit:
            self._check_writable()  # closed while waiting: what is buffered is lost
            await asyncio.sleep(0.005)

    # -- closing ------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake and wait until the connection is closed.

        Waits at most ``close_timeout`` seconds (default 5) for the peer to
        answer; then stops waiting and reports the connection closed with 1006
        (``close_code``), reason "the peer did not answer the close frame
        within N s". The browser still drops the TCP connection in its own
        time (60 s in Chromium, about 21 s in Firefox, 5 s in WebKitGTK).

        Messages received before the close stay readable with ``recv()``.
        Closing a closed connection does nothing.

        Raises:
            InvalidCloseCode: ``code`` is not 1000 or 3000-4999, or ``reason``
                is longer than 123 bytes of UTF-8.
        """
        check_close(code, reason)
        if self.state in (State.CONNECTING, State.OPEN):
            self._close_sent = (code, reason)
            self._transport.close(code, reason)
        if self.state is State.CLOSED:
            return
        try:
            async with asyncio.timeout(timer_delay(self._close_timeout)):
                await self.wait_closed()
        except TimeoutError:
            self._abandon(f"the peer did not answer the close frame within {self._close_timeout} s")

    async def wait_closed(self) -> None:
        """Wait until the connection is closed, by either side. Raises nothing."""
        await self._wait_state(State.CLOSED)

    def abort(self) -> None:
        """Drop the connection now without waiting for the closing handshake."""
        if self._transport.state in (State.CONNECTING, State.OPEN):
            self._transport.close()

    def _abandon(self, reason: str) -> None:
        """Report the connection closed (1006, ``reason``) now and wake every waiter."""
        if self._transport.close_info is None:
            logger.warning("dropping the connection to %s: %s", self._url, reason)
            self.abort()
            self._transport.abandon(reason)
        self._on_event()

    # -- keepalive ------------------------------------------------------------

    async def ping(self) -> float:
        """Send the heartbeat's ping now and wait for its reply; return the round trip
        in seconds.

        A page cannot send WebSocket ping frames, so this is the application-level
        ping of the ``heartbeat`` option: the server must answer it. No reply
        within the heartbeat's timeout drops the connection, as the heartbeat does.

        Raises:
            WebSocketError: the connection has no ``heartbeat``.
            ConnectionClosed: the connection is not open, or closed before the reply.
        """
        if self._heartbeat is None:
            raise WebSocketError(
                "ping() needs a heartbeat: a page cannot send WebSocket ping frames; "
                "connect(..., heartbeat=Heartbeat(interval, ping=..., pong=...))"
            )
        self._check_writable()
        transport = self._transport
        before = transport.pongs
        self.check_alive()
        while transport.pongs == before:
            if transport.close_info is not None:
                raise self.closed_exception()
            waiter = asyncio.get_running_loop().create_future()
            self._pong_waiters.append(waiter)
            await waiter  # woken by _on_event: a reply, or the close
        return self.latency

    def check_alive(self) -> None:
        """Send a heartbeat ping now, without waiting for the interval (the page was
        hidden, its timers throttled). Does nothing without a heartbeat."""
        if self._ping_now is not None:
            self._ping_now.set()

    async def _run_keepalive(self) -> None:
        """Declare the peer dead when it does not answer a heartbeat ping in time, or
        sends nothing for ``idle_timeout`` seconds: the connection is dropped."""
        heartbeat, idle = self._heartbeat, self._idle_timeout
        loop = asyncio.get_running_loop()
        assert self._ping_now is not None  # made by _start_keepalive, so check_alive() works early
        transport = self._transport
        next_ping = loop.time() + heartbeat.interval if heartbeat else None
        pinged: tuple[float, int] | None = None  # (deadline, pongs at the ping)
        seen, seen_at = transport.received, loop.time()
        while self.state is State.OPEN:
            now = loop.time()
            ping_now = self._ping_now.is_set()  # cleared here: a set event never waits
            self._ping_now.clear()
            if transport.received != seen:
                seen, seen_at = transport.received, now
            if idle is not None and now - seen_at >= idle:
                self._abandon(f"nothing received for {idle} s (idle_timeout)")
                return
            if pinged is not None:
                if transport.pongs != pinged[1]:
                    pinged = None
                elif now >= pinged[0]:
                    timeout = heartbeat.reply_timeout if heartbeat else 0
                    self._abandon(f"no reply to the heartbeat ping within {timeout} s")
                    return
            if heartbeat is not None and next_ping is not None and pinged is None:
                if now >= next_ping or ping_now:
                    pinged = (now + heartbeat.reply_timeout, transport.pongs)
                    transport.send_ping(heartbeat.ping)
                    next_ping = now + heartbeat.interval
            deadlines = [d for d in (next_ping, pinged and pinged[0]) if d is not None]
            if idle is not None:  # look at the count often enough to be late by idle / 4 at most
                deadlines.append(min(seen_at + idle, now + idle / 4))
            delay = max(0.0, min(deadlines) - now) if deadlines else None
            try:
                async with asyncio.timeout(timer_delay(delay)):  # woken early by check_alive()
                    await self._ping_now.wait()
            except TimeoutError:
                pass

    def _start_keepalive(self) -> None:
        if (self._heartbeat or self._idle_timeout) and self._keepalive is None:
            self._ping_now = asyncio.Event()
            self._keepalive = asyncio.get_running_loop().create_task(self._run_keepalive())

    # -- internals ------------------------------------------------------------

    async def _wait_state(self, *states: State) -> None:
        """Wait until the stream reaches one of ``states`` (woken by its open/close events)."""
        while self.state not in states:
            waiter = Waiter(asyncio.get_running_loop())
            self._state_waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._state_waiters:
                    self._state_waiters.remove(waiter)

    async def wait_open(self) -> None:
        """Wait for the handshake to finish, then start the heartbeat, if any.

        The open, message and close events may all run before this coroutine
        resumes: a socket that did open (the transport saw its open event) is
        returned even if closed since, and ``recv()`` reports its messages,
        then the close.

        Raises:
            ConnectionFailed: the socket closed before it opened.
        """
        await self._wait_state(State.OPEN, State.CLOSED)
        if self._transport.opened:
            self._start_keepalive()
            return
        info = self._transport.close_info or (1006, "", False)
        raise ConnectionFailed(
            f"could not connect to {self._url}: the browser closed the connection "
            f"with {describe_close(info[0], info[1])} before it opened "
            "(the server refused it, is unreachable, or rejected the handshake; "
            "browsers do not say which)"
        )

    def _on_event(self, now: bool = False, message: Data | None = None) -> None:
        """The transport's ``on_event`` (see :class:`~websocket_streaming.Transport`): the
        socket opened or closed, a heartbeat reply came, or a message came for a waiting
        reader, handed over with the call (``message``) or left to ``take()``. ``now``:
        from a browser event with nothing else running, so a waiting reader (or, for the
        open, the task awaiting it) resumes inside this call (see waiter.py)."""
        if message is not None:
            self._messages.append(message)  # older than any message still in the transport
        reader = self._recv_waiter
        if reader is not None and not reader.done():
            if now:
                reader.wake_now()
            else:
                reader.set_result(None)
        if message is not None:  # the fast path: the socket is open, nothing else to see
            return
        if self._state_waiters:  # the open (``now``: resumed inside its event) or the close
            waiters, self._state_waiters = self._state_waiters, []
            for waiter in waiters:
                if now:
                    waiter.wake_now()
                elif not waiter.done():
                    waiter.set_result(None)
        if self._pong_waiters:
            _wake_all(self._pong_waiters)
            self._pong_waiters = []
        if self._transport.close_info is not None:
            if self._ping_now is not None:
                self._ping_now.set()  # the keepalive loop ends
            if not self._close_logged:
                self._log_close()

    def _log_close(self) -> None:
        self._close_logged = True
        fault = self._transport.fault
        if fault is not None:
            logger.warning("closed the connection to %s: %s", self._url, fault.reason)
        elif self._transport.opened:
            logger.info("connection to %s closed: %s", self._url, self.closed_exception())

    def __repr__(self) -> str:
        return f"<WebSocketStream {self._url} {self.state.name}>"
