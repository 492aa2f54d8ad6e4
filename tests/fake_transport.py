"""A browser WebSocket simulated on plain CPython, for the unit tests.

:class:`FakeTransport` implements the ``Transport`` protocol the way
``browser.py`` does over a page's ``WebSocket``, and follows the browser's
rules (WHATWG WebSockets standard):

- ``state`` goes CONNECTING -> OPEN -> CLOSING -> CLOSED, and changes inside
  a "browser task", except ``close()``, which moves to CLOSING at once, as
  ``WebSocket.close()`` does.
- Every event is a browser task: it runs from ``loop.call_soon``, never inside
  a transport method, so ``on_event`` is never called re-entrantly.
- ``on_event`` is called when the socket opens and when it closes, always; on
  a heartbeat reply; when a message arrives only if a ``take()`` found nothing
  since the last call (then the flag is cleared), like browser.js's
  ``waiting`` flag, and then the message is handed over with the call
  (``on_event(now, message)``, as browser.js does for a reader that keeps up)
  unless ``hands_over`` is false (browser.js during a burst: the reader
  ``take()``s it); a ``take()`` that finds nothing after the close returns None.
- It holds every message it receives: the bounds on what is held
  (``max_size``, ``max_queue``, drop-oldest) are browser.js's, unit-tested under
  Node (tests/js/). ``set_limits`` is recorded in ``limits``; the test plays what
  browser.js does at a bound with :meth:`fault_close` and :meth:`drop_oldest`.
- A message that arrives while the state is not OPEN is dropped (the
  standard's "if ready state is not OPEN, return"). Messages already received
  stay takeable after the close.
- ``send_*`` send nothing and return -1 unless OPEN (browser.py's helper checks
  ``readyState`` first); otherwise they return ``buffered_amount``. Nothing is
  ever put on the wire by itself: the test calls :meth:`drain`.
- ``close()`` rejects what the browser rejects (code not 1000 or 3000-4999,
  reason over 123 bytes). In CONNECTING it fails the connection (close event
  1006, not clean); in OPEN the server answers at once if ``answer_close`` is
  true, echoing the code (1005 when none was sent), else when the test calls
  :meth:`peer_close`.

The test drives the "network" with :meth:`open`, :meth:`receive`,
:meth:`peer_close`, :meth:`fail`, :meth:`drain`, :meth:`fault_close` and
:meth:`drop_oldest`, then lets the browser
tasks run with ``await transport.flush()``.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from websocket_streaming.exceptions import (
    ConnectionClosed,
    PayloadTooBig,
    QueueOverflow,
    WebSocketError,
)
from websocket_streaming.protocol import State

__all__ = [
    "FakeFactory",
    "FakeTransport",
    "async_test",
    "exactly",
    "loop_test",
    "real_sleep",
    "run_in_loop",
]

#: asyncio.sleep as it was at import, for helpers that must still yield to the
#: loop when a test has patched asyncio.sleep.
real_sleep = asyncio.sleep

Data = str | bytes


def _ignore() -> None:
    pass


def exactly(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern that matches exactly ``message``."""
    return f"^{re.escape(message)}$"


def run_in_loop(
    main: Callable[[], Coroutine[Any, Any, None]],
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> None:
    """Run ``main()`` in a fresh event loop; fail if a callback raised inside the loop.

    asyncio only logs an exception raised by a callback or a forgotten task
    ("Task exception was never retrieved", "Task was destroyed but it is
    pending"); here it fails the test.
    """
    errors: list[dict[str, Any]] = []
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.get_loop().set_exception_handler(lambda loop, context: errors.append(context))
        runner.run(main())
    gc.collect(1)  # a forgotten task reports its exception when freed (young objects: cheap)
    if errors:
        raise AssertionError(
            "the event loop caught errors: "
            + "; ".join(f"{c['message']} {c.get('exception')!r}" for c in errors)
        )


def loop_test[**P](
    timeout: float, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
) -> Callable[[Callable[P, Coroutine[Any, Any, None]]], Callable[P, None]]:
    """A decorator that runs an async test with :func:`run_in_loop`, failing it after
    ``timeout`` seconds of the loop's clock."""

    def decorator(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            async def main() -> None:
                async with asyncio.timeout(timeout):
                    await fn(*args, **kwargs)

            run_in_loop(main, loop_factory)

        return wrapper

    return decorator


#: Run an async test function in a fresh event loop, failing it after 5 s.
async_test = loop_test(5)


class FakeTransport:
    """One simulated browser WebSocket (see the module docstring for its rules).

    What the stream did to it is recorded in ``sent`` (messages sent while
    OPEN: ``str`` for text, ``bytes`` for binary), ``binary_sources`` (the ``.obj`` of every memoryview
    handed to ``send_binary``), ``close_calls`` (``(code, reason)`` per
    ``close()``), ``wake_requests`` (empty ``take()`` calls) and ``events`` (``on_event`` calls).
    """

    def __init__(
        self,
        url: str = "ws://fake.test/",
        protocols: Sequence[str] = (),
        *,
        answer_close: bool = True,
    ) -> None:
        self.url = url
        self.protocols = list(protocols)
        self.answer_close = answer_close
        self.on_event: Callable[..., None] = _ignore
        #: Wake a waiting reader as browser.py does from a message event (on_event(True)).
        self.wakes_now = False
        #: Hand the message that ends a wait over with the wake-up (else: take() it).
        self.hands_over = True
        self._state = State.CONNECTING
        self._protocol = ""
        self._extensions = ""
        self._buffered = 0
        self._close_info: tuple[int, str, bool] | None = None
        self._queue: list[Data] = []
        self._waiting = False
        self._was_opened = False
        self._fault: ConnectionClosed | None = None
        #: What set_limits() was given: (max_size, max_messages, max_bytes, drop).
        self.limits: tuple[int | None, int | None, int | None, bool] = (None, None, None, False)
        self._pong: Data | Callable[[Data], bool] | None = None
        self._dropped = 0
        self._received = 0
        self._pongs = 0
        self._ping_at = 0.0
        self._latency: float | None = None
        self.pings: list[Data] = []
        self.abandoned: list[str] = []
        self._tasks = 0
        self.sent: list[Data] = []
        self.binary_sources: list[object] = []
        self.close_calls: list[tuple[int | None, str]] = []
        self.wake_requests = 0
        self.events = 0
        self.takes: list[int] = []

    # -- the Transport protocol --------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def protocol(self) -> str:
        return self._protocol

    @property
    def extensions(self) -> str:
        return self._extensions

    @property
    def buffered_amount(self) -> int:
        return self._buffered

    @property
    def close_info(self) -> tuple[int, str, bool] | None:
        return self._close_info

    @property
    def opened(self) -> bool:
        return self._was_opened

    @property
    def fault(self) -> ConnectionClosed | None:
        return self._fault

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def received(self) -> int:
        return self._received

    @property
    def pongs(self) -> int:
        return self._pongs

    @property
    def latency(self) -> float | None:
        return self._latency

    def set_limits(
        self, max_size: int | None, max_messages: int | None, max_bytes: int | None, drop: bool
    ) -> None:
        self.limits = (max_size, max_messages, max_bytes, drop)

    def set_pong(self, pong: Data | Callable[[Data], bool] | None) -> None:
        self._pong = pong

    def take(self, max_messages: int = 1 << 30, max_bytes: int = 1 << 60) -> list[Data] | None:
        end, taken = 0, 0
        while end < len(self._queue) and end < max_messages:
            n = _size(self._queue[end])
            if end > 0 and taken + n > max_bytes:
                break
            taken += n
            end += 1
        messages, self._queue = self._queue[:end], self._queue[end:]
        self.takes.append(len(messages))
        if not messages:
            if self._close_info is not None:
                return None
            self.wake_requests += 1
            self._waiting = True
        return messages

    def send_ping(self, data: Data) -> int:
        self.pings.append(data)
        self._ping_at = asyncio.get_running_loop().time()
        return self._send(data, len(data))

    def abandon(self, reason: str) -> None:
        self.abandoned.append(reason)
        self._finish(1006, reason, False)

    def send_text(self, data: str) -> int:
        assert type(data) is str, f"send_text() got {type(data).__name__}"
        return self._send(data, len(data.encode("utf-8", "surrogatepass")))

    def send_binary(self, data: memoryview) -> int:
        assert type(data) is memoryview, f"send_binary() got {type(data).__name__}"
        # browser.py sends view.data of getBuffer("u8"): the bytes must be contiguous.
        assert data.c_contiguous, "send_binary() got a non-contiguous memoryview"
        self.binary_sources.append(data.obj)
        return self._send(data.tobytes(), data.nbytes)  # the browser copies into its buffer

    def close(self, code: int | None = None, reason: str = "") -> None:
        if code is not None and code != 1000 and not 3000 <= code <= 4999:
            raise WebSocketError(f"the browser could not close: InvalidAccessError: {code}")
        if len(reason.encode("utf-8", "surrogatepass")) > 123:
            raise WebSocketError("the browser could not close: SyntaxError: reason too long")
        self.close_calls.append((code, reason))
        if self._state is State.CONNECTING:
            self._state = State.CLOSING
            self._task(self._closed, 1006, "", False)
        elif self._state is State.OPEN:
            self._state = State.CLOSING
            if self.answer_close:
                self._task(self._closed, 1005 if code is None else code, reason, True)

    # -- driving it from a test ---------------------------------------------

    def open(self, protocol: str = "", extensions: str = "") -> None:
        """The handshake succeeds (in a browser task), choosing this subprotocol."""
        if protocol:
            assert protocol in self.protocols, "a browser fails a subprotocol it did not offer"
        self._task(self._opened, protocol, extensions)

    def receive(self, *messages: Data) -> None:
        """The server sends these messages, one browser task each, in order."""
        for message in messages:
            assert type(message) in (str, bytes), type(message)
            self._task(self._message, message)

    def peer_close(self, code: int = 1000, reason: str = "", was_clean: bool = True) -> None:
        """The connection closes from the server's side (or ours is answered).

        A clean close takes two browser tasks, as in a browser: the server's
        close frame arrives (state CLOSING, no event), then the TCP connection
        ends (state CLOSED, close event). An unclean one takes only the second.
        """
        if was_clean:
            self._task(self._closing)
        self._task(self._closed, code, reason, was_clean)

    def fail(self) -> None:
        """The connection fails: an error, then close 1006, not clean (before or after open)."""
        self._task(self._closed, 1006, "", False)

    def fault_close(self, fault: PayloadTooBig | QueueOverflow) -> None:
        """browser.js closes the connection at a bound (in a browser task): 4009 and
        reported 1009 for PayloadTooBig, 4008 and 1008 for QueueOverflow."""

        def close() -> None:
            if self._close_info is not None:
                return
            self._fault = fault
            wire = "message too big" if isinstance(fault, PayloadTooBig) else "reader too slow"
            self.close_calls.append((fault.code + 3000, wire))
            self._finish(fault.code, fault.reason, False, fire=True)

        self._task(close)

    def drop_oldest(self, n: int) -> None:
        """browser.js's drop-oldest policy drops the ``n`` oldest unread messages."""
        del self._queue[:n]
        self._dropped += n

    def drain(self, nbytes: int | None = None) -> None:
        """The browser puts ``nbytes`` (default: all) of its send buffer on the wire."""
        self._buffered = 0 if nbytes is None else max(0, self._buffered - nbytes)

    async def flush(self) -> None:
        """Let every scheduled browser task run, then the tasks they woke."""
        while self._tasks:
            await real_sleep(0)
        for _ in range(3):
            await real_sleep(0)

    # -- the browser's tasks ---------------------------------------------------

    def _task(self, step: Callable[..., None], *args: Any) -> None:
        self._tasks += 1

        def run() -> None:
            self._tasks -= 1
            step(*args)

        asyncio.get_running_loop().call_soon(run)

    def _fire(self) -> None:
        self.events += 1
        self.on_event()

    def _send(self, data: Data, nbytes: int) -> int:
        # browser.py's helper checks readyState first and sends nothing unless OPEN.
        if self._state is not State.OPEN:
            return -1
        self._buffered += nbytes
        self.sent.append(data)
        return self._buffered

    def _opened(self, protocol: str, extensions: str) -> None:
        if self._state is not State.CONNECTING:
            return  # closed or failed meanwhile: no open event
        self._state = State.OPEN
        self._was_opened = True
        self._protocol = protocol
        self._extensions = extensions
        self._waiting = False
        self._fire()

    def _message(self, message: Data) -> None:
        if self._state is not State.OPEN or self._close_info is not None:
            return
        self._received += 1
        pong = self._pong
        if pong is not None and (pong(message) if callable(pong) else message == pong):
            self._pongs += 1
            self._latency = asyncio.get_running_loop().time() - self._ping_at
            self._fire()
            return
        self._queue.append(message)
        if self._waiting:
            self._waiting = False
            self.events += 1
            if self.hands_over:
                self.on_event(self.wakes_now, self._queue.pop(0))
            else:
                self.on_event(self.wakes_now)

    def _closing(self) -> None:
        if self._state is State.OPEN:
            self._state = State.CLOSING

    def _closed(self, code: int, reason: str, was_clean: bool) -> None:
        if self._state is State.CLOSED:
            return  # one close event per socket
        self._state = State.CLOSED
        self._finish(code, reason, was_clean, fire=True)

    def _finish(self, code: int, reason: str, was_clean: bool, fire: bool = False) -> None:
        """The close as reported: once (the browser's later close event is dropped)."""
        if self._close_info is not None:
            return
        self._close_info = (code, reason, was_clean)
        self._waiting = False
        if fire:
            self._fire()


def _size(message: Data) -> int:
    """What a message counts for in the bounds: bytes, or UTF-16 units for text (as browser.js)."""
    if isinstance(message, str):
        return len(message.encode("utf-16-le", "surrogatepass")) // 2
    return len(message)


class FakeFactory:
    """A transport factory that scripts each attempt.

    Each step is "open" (the handshake succeeds), "fail" (it fails: close 1006),
    "hang" (nothing ever happens), or an exception for the factory to raise
    (as BrowserTransport raises when the browser refuses the URL). After the
    script runs out, every attempt does ``then`` (default: opens).
    Every transport made is in ``transports``, for the test to drive.
    """

    def __init__(
        self, *script: str | BaseException, protocol: str = "", then: str = "open"
    ) -> None:
        self.script = list(script)
        self.protocol = protocol
        self.then = then
        self.calls: list[tuple[str, list[str]]] = []
        self.headers: list[tuple[tuple[str, str], ...]] = []  # each attempt's, () for none
        self.transports: list[FakeTransport] = []

    def __call__(
        self, url: str, protocols: Sequence[str], headers: Sequence[tuple[str, str]] = ()
    ) -> FakeTransport:
        self.calls.append((url, list(protocols)))
        self.headers.append(tuple(headers))
        step = self.script.pop(0) if self.script else self.then
        if isinstance(step, BaseException):
            raise step
        transport = FakeTransport(url, protocols)
        self.transports.append(transport)
        if step == "open":
            transport.open(protocol=self.protocol)
        elif step == "fail":
            transport.fail()
        else:
            assert step == "hang", step
        return transport
