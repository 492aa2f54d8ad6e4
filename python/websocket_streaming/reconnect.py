"""ReconnectingStream: one object that stays usable across drops.

``connect(url, reconnect=True)`` returns one. A supervisor task opens
connections (with :func:`~websocket_streaming.protocol.backoff` between
attempts), runs the app's ``on_connect`` hook on each, flushes the send queue,
and waits for the connection to close; ``recv()`` reads each connection to its
end, then the next one. Nothing here touches the browser: the page's
online/offline/visibility events come through a :class:`Lifecycle`.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from .connection import (
    MESSAGE_TYPES,
    ClosedOnExit,
    WebSocketStream,
    not_a_message,
    until_closed,
)
from .exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ReconnectFailed,
    SendQueueFull,
)
from .options import DEFAULTS
from .protocol import State, check_close, timer_delay
from .retry import Retry
from .transport import Data

__all__ = ["Lifecycle", "ReconnectingStream", "StateEvent"]

EventType = Literal["connecting", "open", "reconnecting", "close"]


@dataclass(frozen=True)
class StateEvent:
    """A change of a reconnecting stream's state.

    ``type`` is "connecting" (an attempt starts), "open" (connected, hook run and
    queue flushed), "reconnecting" (the connection or attempt ended; the next
    attempt comes after ``delay`` seconds) or "close" (for good).

    Attributes:
        type: what happened.
        attempt: the attempt's number since the last open (1 for the first).
        delay: seconds until the next attempt ("reconnecting" only).
        code, reason: the close code and reason that caused it, if a close did.
        error: the exception that caused it ("reconnecting", "close"), if any.
        flushed: queued messages sent on this open ("open" only).
    """

    type: EventType
    attempt: int = 0
    delay: float | None = None
    code: int | None = None
    reason: str | None = None
    error: BaseException | None = None
    flushed: int = 0


class Lifecycle(Protocol):
    """The page's network and visibility, as a reconnecting stream needs them."""

    @property
    def online(self) -> bool:
        """``navigator.onLine``: False means no attempt can succeed."""
        ...

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback("online" | "offline" | "visible")`` on those events;
        returns a function that unsubscribes."""
        ...


def _size(message: Data) -> int:
    return (
        len(message.encode("utf-8", "surrogatepass")) if isinstance(message, str) else len(message)
    )


class ReconnectingStream(ClosedOnExit):
    """A WebSocket stream that reconnects by itself: read and send across drops.

    Get one with ``connect(url, reconnect=True, ...)``, which documents the
    options. Guarantees:

    - ``recv()`` returns every message each connection received before it
      dropped, in order, then goes on with the next connection.
    - ``send()`` while disconnected queues the message (bounded); queued
      messages are sent in order, each once, when the next connection opens,
      after the ``on_connect`` hook. Delivery is *at most once*: a message the
      browser accepted just before a drop may be lost, and is not resent.
      ``send()`` returns True when the browser took the message at once, False
      when it was queued; the "open" event's ``flushed`` says how many queued
      messages went out, and ``unsent`` lists those still waiting.
    - When the stream gives up (``max_retries``, or the policy says stop), the
      reader gets the final exception after the messages before it, and every
      message still queued is in ``unsent`` (and in ReconnectFailed.unsent).

    Raises:
        TypeError: a backoff option is not a number.
        ValueError: a backoff option is out of range (see :func:`backoff`).
    """

    def __init__(
        self,
        open_connection: Callable[[], Awaitable[WebSocketStream]],
        *,
        min_delay: float = DEFAULTS.min_delay,
        max_delay: float = DEFAULTS.max_delay,
        factor: float = DEFAULTS.factor,
        max_retries: int | None = DEFAULTS.max_retries,
        should_retry: Callable[[BaseException], bool],
        on_connect: Callable[[WebSocketStream], Awaitable[None]] | None = None,
        send_queue: int = DEFAULTS.send_queue,
        send_queue_bytes: int = DEFAULTS.send_queue_bytes,
        lifecycle: Lifecycle | None = None,
        on_event: Callable[[StateEvent], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._open_connection = open_connection
        self._retry = Retry(  # checks the options: else the supervisor would fail later
            should_retry,
            min_delay=min_delay,
            max_delay=max_delay,
            factor=factor,
            max_retries=max_retries,
            jitter=jitter,
        )
        self._on_connect = on_connect
        self._max_queue = (send_queue, send_queue_bytes)
        self._lifecycle = lifecycle
        self._queue: deque[Data] = deque()
        self._queued_bytes = 0
        self._readers: deque[WebSocketStream] = deque()  # opened, not yet handed to a reader
        self._reading: WebSocketStream | None = None  # the connection recv() reads
        self._live: WebSocketStream | None = None  # open, hook run, queue flushed
        self._final: BaseException | None = None
        self._last_close: ConnectionClosed | None = None
        self._attempt = 0
        self._state = State.CONNECTING
        self._changed = asyncio.Event()  # a connection to read, or the end
        self._wake = asyncio.Event()  # online / visible: end the backoff now
        self._recv_busy = False
        self._closing = False
        self._listeners: list[Callable[[StateEvent], None]] = [on_event] if on_event else []
        #: Called with each new connection as soon as it opens, before on_connect (the JS
        #: facade follows the connections' JS queues with it).
        self.connection_listeners: list[Callable[[WebSocketStream], None]] = []
        self._subscribers: list[asyncio.Queue[StateEvent | None]] = []
        self._offline = False  # an "offline" event came, and no "online" since
        self._unsubscribe = lifecycle.subscribe(self._on_lifecycle) if lifecycle else None
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    # -- properties -----------------------------------------------------------

    @property
    def state(self) -> State:
        """CONNECTING (also while waiting to reconnect), OPEN, CLOSING or CLOSED."""
        return self._state

    @property
    def attempt(self) -> int:
        """Attempts since the last open: 0 while open, 1 during the first attempt."""
        return self._attempt

    @property
    def connection(self) -> WebSocketStream | None:
        """The current connection, while one is open."""
        return self._live

    @property
    def unsent(self) -> list[Data]:
        """Messages queued by ``send()`` and not yet handed to the browser, oldest first."""
        return list(self._queue)

    @property
    def latency(self) -> float:
        """The current connection's last heartbeat round trip, in seconds (0 if none)."""
        return self._live.latency if self._live else 0.0

    @property
    def dropped(self) -> int:
        """Unread messages dropped by ``on_overflow="drop-oldest"``, over every connection."""
        reading = self._reading.dropped if self._reading is not None else 0
        return self._dropped_before + reading + sum(c.dropped for c in self._readers)

    _dropped_before = 0

    # -- events -----------------------------------------------------------------

    def add_listener(self, callback: Callable[[StateEvent], None]) -> None:
        """Call ``callback(event)`` on every state change, from the event loop."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[StateEvent], None]) -> None:
        """Stop calling ``callback``. Raises ValueError if it was not added."""
        self._listeners.remove(callback)

    async def events(self) -> AsyncIterator[StateEvent]:
        """Yield every state change from now on; ends after the "close" event."""
        queue: asyncio.Queue[StateEvent | None] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            if self._state is State.CLOSED:
                return
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._subscribers.remove(queue)

    def _emit(self, event: StateEvent) -> None:
        for callback in list(self._listeners):
            callback(event)
        for queue in self._subscribers:
            queue.put_nowait(event)
            if event.type == "close":
                queue.put_nowait(None)

    # -- receiving ------------------------------------------------------------

    async def recv(self) -> Data:
        """Return the next message, from this connection or the next ones.

        Canceling ``recv()`` is safe: no message is lost.

        Raises:
            ConnectionClosedOK: the stream was closed with ``close()`` or the
                server closed cleanly and the policy said not to reconnect,
                and every message received before has been returned.
            ConnectionClosedError: likewise after an error close; ReconnectFailed
                after ``max_retries``.
            ConcurrencyError: another coroutine is already waiting in ``recv()``.
            Exception: what ``on_connect`` or ``should_retry`` raised, if it ended
                the stream.
        """
        if self._recv_busy:
            raise ConcurrencyError(
                "cannot wait for a message while another coroutine is already waiting for one"
            )
        self._recv_busy = True
        try:
            while True:
                conn = self._reading
                if conn is None:
                    conn = self._reading = await self.next_connection()
                try:
                    return await conn.recv()
                except ConnectionClosed:
                    if conn.state is not State.CLOSED:
                        raise  # not the end of the connection: cannot happen; be loud
                    self._reading = None  # read to its end
                    self._dropped_before += conn.dropped
        finally:
            self._recv_busy = False

    async def next_connection(self) -> WebSocketStream:
        """The next connection to read, oldest first: each connection that opened is
        handed out once, in order (``recv()`` reads them so; a reader of its own, such
        as the JS facade's, takes them here). Waits until one opens.

        Canceling it is safe: no connection is lost.

        Raises:
            ConnectionClosed / Exception: the stream's final exception (as ``recv()``),
                once it has ended and every connection was handed out.
        """
        while not self._readers:
            if self._final is not None:
                raise self._final
            self._changed.clear()
            await self._changed.wait()
        return self._readers.popleft()

    def unread_connections(self) -> list[WebSocketStream]:
        """Hand out every connection :meth:`next_connection` has not handed out yet, oldest
        first, at once (a reader of its own takes them when the stream ends)."""
        rest = list(self._readers)
        self._readers.clear()
        return rest

    def __aiter__(self) -> AsyncIterator[Data]:
        """Yield messages across reconnections; ends quietly after a clean final close.

        Raises:
            ConnectionClosedError: the stream ended with an error (ReconnectFailed...).
            ConcurrencyError: as for ``recv()``.
        """
        return until_closed(self.recv)

    # -- sending ------------------------------------------------------------

    async def send(self, message: str | bytes | bytearray | memoryview) -> bool:
        """Send now if connected, else queue until the next connection.

        Returns True when the browser took the message now, False when it was
        queued. Copies: as ``WebSocketStream.send`` when sent now; a queued
        bytes-like message is copied once into ``bytes``.

        Raises:
            TypeError: ``message`` is neither ``str`` nor bytes-like.
            SendQueueFull: disconnected, and the queue holds ``send_queue``
                messages or the message would take it over ``send_queue_bytes``.
            ConnectionClosed: the stream is closed for good (the final
                exception), or disconnected with ``send_queue=0``.
        """
        if not isinstance(message, MESSAGE_TYPES):
            raise not_a_message(message)
        if self._final is not None or self._closing:
            raise self._final_close()
        live = self._live
        if live is not None and live.state is State.OPEN:
            try:
                await live.send(message)
            except ConnectionClosed:
                pass  # dropped while draining: the browser took it (at most once)
            return True
        max_messages, max_bytes = self._max_queue
        if max_messages == 0:
            raise self._last_close or ConnectionClosedError(1006, "not connected")
        data: Data = message if isinstance(message, (str, bytes)) else bytes(message)
        size = _size(data)
        if len(self._queue) >= max_messages or self._queued_bytes + size > max_bytes:
            raise SendQueueFull(
                f"the send queue is full ({len(self._queue)} messages, {self._queued_bytes} "
                f"bytes; send_queue={max_messages}, send_queue_bytes={max_bytes}): "
                "the message was not queued"
            )
        self._queue.append(data)
        self._queued_bytes += size
        return False

    def _final_close(self) -> ConnectionClosed:
        if isinstance(self._final, ConnectionClosed):
            return self._final
        return ConnectionClosedOK(1000, "closed by close()")

    # -- closing ------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Stop reconnecting and close the current connection (see WebSocketStream.close).

        Messages received before stay readable; queued messages stay in ``unsent``.

        Raises:
            InvalidCloseCode: as for WebSocketStream.close.
        """
        check_close(code, reason)
        if self._closing:
            await self.wait_closed()
            return
        self._closing = True
        live = self._live
        if live is not None:
            self._state = State.CLOSING
            await live.close(code, reason)
        if not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._final is None:
            self._finish(live.closed_exception() if live else ConnectionClosedOK(code, reason))

    async def wait_closed(self) -> None:
        """Wait until the stream has ended for good. Raises nothing."""
        await asyncio.shield(self._task)

    # -- the supervisor ------------------------------------------------------

    def _on_lifecycle(self, what: str) -> None:
        self._offline = what == "offline" or (self._offline and what != "online")
        if what in ("online", "visible"):
            self._wake.set()
        if what == "visible" and self._live is not None:
            self._live.check_alive()

    async def _sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds, less if the page comes online or visible; while
        offline, wait until online (no attempt can succeed)."""
        self._wake.clear()
        try:
            async with asyncio.timeout(timer_delay(delay)):
                await self._wake.wait()
        except TimeoutError:
            pass
        while self._offline or (self._lifecycle is not None and not self._lifecycle.online):
            self._wake.clear()
            await self._wake.wait()

    async def _supervise(self) -> None:
        retry = self._retry
        try:
            while True:
                attempt = retry.failures + 1  # attempts since the last open
                self._attempt = attempt
                self._state = State.CONNECTING
                self._emit(StateEvent("connecting", attempt))
                opened = False
                try:
                    conn = await self._open_connection()
                except Exception as exc:
                    failure: BaseException = exc
                else:
                    failure = await self._serve(conn)
                    if self._closing:
                        return
                    if self._attempt == 0:  # it opened (_serve reset the count)
                        retry.succeeded()
                        opened = True
                self._state = State.CONNECTING
                if isinstance(failure, ConnectionClosed):
                    self._last_close = failure
                try:
                    what = "connection closed" if opened else "connect failed"
                    delay = retry.failed(failure, what, attempt=not opened)
                except Exception as exc:  # a bug in the policy ends the stream, loudly
                    self._finish(exc)
                    return
                self._attempt = retry.failures + 1
                if delay is None:
                    if retry.exhausted:
                        final = ReconnectFailed(retry.failures, list(self._queue))
                        final.__cause__ = failure
                        self._finish(final)
                    else:
                        self._finish(failure)
                    return
                code = failure.code if isinstance(failure, ConnectionClosed) else None
                reason = failure.reason if isinstance(failure, ConnectionClosed) else None
                self._emit(
                    StateEvent("reconnecting", retry.failures + 1, delay, code, reason, failure)
                )
                await self._sleep(delay)
        except asyncio.CancelledError:
            if not self._closing:
                raise

    async def _serve(self, conn: WebSocketStream) -> BaseException:
        """Run one connection: hook, flush, then wait for its close; return why it ended."""
        self._readers.append(conn)
        self._changed.set()
        for listener in list(self.connection_listeners):
            listener(conn)
        try:
            if self._on_connect is not None:
                await self._on_connect(conn)
            flushed = 0
            while self._queue:  # send() appends while we flush: the order holds
                if conn.state is not State.OPEN:
                    break
                # OPEN: send() hands the message to the browser before it awaits anything,
                # so it leaves the queue now; a drop while draining may lose it (at most
                # once), it is never sent twice.
                message = self._queue.popleft()
                self._queued_bytes -= _size(message)
                flushed += 1
                try:
                    await conn.send(message)
                except ConnectionClosed:
                    break
            if conn.state is State.OPEN:
                self._live = conn
                attempt, self._attempt = self._attempt, 0
                self._state = State.OPEN
                self._emit(StateEvent("open", attempt, flushed=flushed))
            await conn.wait_closed()
        except ConnectionClosed:
            await conn.wait_closed()
        except Exception as exc:
            conn.abort()
            return exc
        finally:
            self._live = None
        return conn.closed_exception()

    def _finish(self, final: BaseException) -> None:
        self._final = final
        self._state = State.CLOSED
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._changed.set()
        code = final.code if isinstance(final, ConnectionClosed) else None
        reason = final.reason if isinstance(final, ConnectionClosed) else None
        self._emit(StateEvent("close", self._attempt, None, code, reason, final))

    def __repr__(self) -> str:
        return f"<ReconnectingStream {self._state.name} attempt={self._attempt}>"
