"""Property-based tests of the pure core (hypothesis), through the fake transport on the
fake clock.

A generated scenario is a WebSocketStream with random options and a random interleaving of
what the network does (open, messages, a close from the server with any code, clean or
not, a failure), what the app does (send, recv, recv with a timeout, cancel a recv,
close with a valid or invalid code, abort) and how time passes (one loop iteration, every
browser task, virtual seconds). recv/send/close run as eager tasks, so each call starts
in the state the scenario left. The invariants:

- no message lost, duplicated or reordered: what the reader got is exactly what the
  browser accepted; what the browser
  was handed is exactly what ``send()`` was called with while OPEN, in order;
- every call ends exactly once (every task done at the end, none woken twice: a second
  ``set_result`` would raise in the loop and fail the test), with the exact exception:
  ConcurrencyError exactly when another recv() is still running, the ConnectionClosed
  subclass, code and reason the close calls for;
- the state only moves forward (CONNECTING -> OPEN -> CLOSING -> CLOSED, skips allowed),
  and ``close_code`` never changes once CLOSED;
- what Python holds is bounded by its batch size.

Where the bounds on what the browser holds fall (``max_queue``, ``max_queue_bytes``,
``max_size``, drop-oldest) is browser.js's policy, tested under Node (tests/js/) and in
real browsers (test_limits.py), not here.

Cases per test: see hypothesis_profiles.py (over 10,000 in all with this module's
pure-function properties and test_reconnect_model.py).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from fake_clock import VirtualTimeLoop
from fake_transport import FakeTransport, real_sleep, run_in_loop
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples
from websocket_streaming import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidCloseCode,
    PayloadTooBig,
    State,
    WebSocketStream,
)
from websocket_streaming.connection import TAKE_MESSAGES
from websocket_streaming.protocol import (
    MIN_TIMER,
    OK_CLOSE_CODES,
    RETRY_CLOSE_CODES,
    backoff,
    check_close,
    closed_exception,
    should_retry,
    timer_delay,
)

URL = "ws://fake.test/props"


class RecordingTransport(FakeTransport):
    """A FakeTransport that records the messages it accepted for the reader, in order."""

    def __init__(self, *, answer_close: bool) -> None:
        super().__init__(URL, answer_close=answer_close)
        self.accepted: list[str | bytes] = []

    def _message(self, message: str | bytes) -> None:
        received = self._received
        super()._message(message)
        if self._received != received:
            self.accepted.append(message)


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``main`` on a fresh virtual-time loop; errors caught by the loop fail the case."""
    run_in_loop(main, VirtualTimeLoop)


def spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Start ``coro`` now, in the state the scenario left (an eager task)."""
    return asyncio.eager_task_factory(asyncio.get_running_loop(), coro)


def expected_close(transport: FakeTransport, close_sent: tuple[int, str] | None) -> Any:
    """The ConnectionClosed a call must raise now, computed from the fake socket alone."""
    if transport.close_info is not None:
        return transport.fault or closed_exception(*transport.close_info)
    if transport.state is State.CLOSING and close_sent is not None:
        return closed_exception(*close_sent, True)
    return None  # CONNECTING, or CLOSING without our close: 1006, see below


def same_close(exc: BaseException, expected: Any) -> bool:
    return (
        type(exc) is type(expected)
        and exc.code == expected.code  # type: ignore[attr-defined]
        and exc.reason == expected.reason  # type: ignore[attr-defined]
    )


message_data = st.one_of(st.text(max_size=5), st.binary(max_size=5))
send_data = st.one_of(
    st.text(max_size=5),
    st.binary(max_size=5),
    st.binary(max_size=5).map(bytearray),
    st.binary(max_size=5).map(memoryview),
    st.integers(0, 9),  # not a message: TypeError
)
any_code = st.one_of(
    st.sampled_from([1000, 1001, 1002, 1005, 1006, 1008, 1009, 1011, 1012, 1015, 3000, 4999]),
    st.integers(1000, 4999),
)
action = st.one_of(
    st.tuples(st.just("open")),
    st.tuples(st.just("receive"), st.lists(message_data, min_size=1, max_size=4)),
    st.tuples(st.just("peer_close"), any_code, st.sampled_from(["", "bye"]), st.booleans()),
    st.tuples(st.just("fail")),
    st.tuples(
        st.just("close"),
        st.sampled_from([1000, 3000, 4999, 999, 1001, 2999, 5000]),
        st.sampled_from(["", "bye", "é" * 62]),
    ),
    st.tuples(st.just("abort")),
    st.tuples(st.just("send"), send_data),
    st.tuples(st.just("drain")),
    st.tuples(st.just("recv")),
    st.tuples(st.just("recv_timeout"), st.sampled_from([0, 0.001, 0.02, 1.0])),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("tick")),
    st.tuples(st.just("flush")),
    st.tuples(st.just("wait"), st.sampled_from([0.005, 0.05, 0.6])),
)
options = st.fixed_dictionaries(
    {
        "write_limit": st.sampled_from([0, 4, 8 << 20]),
        "close_timeout": st.sampled_from([None, 0, 0.5, 5.0]),
    }
)


class Scenario:
    """One stream, the tasks started on it, and what was observed."""

    def __init__(self, opts: dict[str, Any], answer_close: bool) -> None:
        self.opts = opts
        self.transport = RecordingTransport(answer_close=answer_close)
        self.ws = WebSocketStream(URL, self.transport, **opts)
        self.states: list[State] = [self.ws.state]
        self.close_code: int | None = None
        on_event = self.transport.on_event

        def watch(*args: Any) -> None:  # the stream's event hook, watched
            on_event(*args)
            self.observe()

        self.transport.on_event = watch
        self.recv_task: asyncio.Task[Any] | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.got: list[str | bytes] = []  # what recv() returned, in order
        self.handed: list[bytes | str] = []  # what send() was called with while OPEN
        self.close_sent: tuple[int, str] | None = None

    def observe(self) -> None:
        ws = self.ws
        state = ws.state
        assert state >= self.states[-1], f"state went back: {self.states[-1]!r} -> {state!r}"
        self.states.append(state)
        if state is State.CLOSED:
            assert ws.close_code is not None and ws.close_reason is not None
            if self.close_code is None:
                self.close_code = ws.close_code
            assert ws.close_code == self.close_code, "close_code changed after the close"
        else:
            assert ws.close_code is None and ws.close_reason is None
        assert len(ws._messages) <= TAKE_MESSAGES

    def recv_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is None:
            self.got.append(task.result())

    def start_recv(self, timeout: float | None) -> None:
        busy = self.recv_task is not None and not self.recv_task.done()
        closed = self.transport.close_info is not None and not self.readable()
        expected = expected_close(self.transport, None)

        async def recv() -> Any:
            if timeout is None:
                return await self.ws.recv()
            async with asyncio.timeout(timeout):
                return await self.ws.recv()

        task = spawn(recv())
        task.add_done_callback(self.recv_done)
        self.tasks.append(task)
        if busy:
            assert task.done() and isinstance(task.exception(), ConcurrencyError)
            assert str(task.exception()) == (
                "cannot wait for a message while another coroutine is already waiting for one"
            )
            return
        self.recv_task = task
        if closed:
            assert task.done(), "recv() on a closed stream with nothing to read must not wait"
            exc = task.exception()
            assert exc is not None and same_close(exc, expected), (exc, expected)

    def readable(self) -> bool:
        return bool(self.ws._messages or self.transport.pending)

    def send(self, data: Any) -> None:
        transport, ws = self.transport, self.ws
        if not isinstance(data, (str, bytes, bytearray, memoryview)):
            with pytest.raises(TypeError) as info:
                spawn(ws.send(data)).result()
            assert str(info.value) == (
                f"send() takes str, bytes, bytearray or memoryview, not {type(data).__name__}"
            )
            return
        was_open = transport.state is State.OPEN and transport.close_info is None
        expected = expected_close(transport, self.close_sent)
        task = spawn(ws.send(data))
        self.tasks.append(task)
        if was_open:
            self.handed.append(data if isinstance(data, str) else bytes(data))
            if not task.done():
                assert transport.buffered_amount > self.opts["write_limit"]
            else:
                assert task.exception() is None
            return
        assert task.done(), "send() on a socket that is not open must not wait"
        exc = task.exception()
        assert isinstance(exc, ConnectionClosed)
        if expected is not None:
            assert same_close(exc, expected), (exc, expected)
        else:
            assert type(exc) is ConnectionClosedError and exc.code == 1006

    def close(self, code: int, reason: str) -> None:
        calls = list(self.transport.close_calls)
        task = spawn(self.ws.close(code, reason))
        self.tasks.append(task)
        if code != 1000 and not 3000 <= code <= 4999:
            assert isinstance(task.exception(), InvalidCloseCode)
            assert str(task.exception()) == (
                f"close code {code} is not allowed: use 1000 or 3000-4999"
            )
            assert self.transport.close_calls == calls
            return
        if len(reason.encode()) > 123:
            assert isinstance(task.exception(), InvalidCloseCode)
            return
        if self.ws.state in (State.CONNECTING, State.OPEN) or (self.transport.close_calls != calls):
            self.close_sent = self.close_sent or (code, reason)
        timeout = self.opts["close_timeout"]
        started = asyncio.get_running_loop().time()

        def check(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                return
            assert task.exception() is None, task.exception()
            assert self.ws.state is State.CLOSED
            if timeout is not None:  # never later than the close timeout (10 ms timer floor)
                elapsed = asyncio.get_running_loop().time() - started
                assert elapsed <= max(timeout, MIN_TIMER if timeout else 0) + 1e-9

        task.add_done_callback(check)

    async def step(self, act: tuple[Any, ...]) -> None:
        kind, transport = act[0], self.transport
        if kind == "open":
            transport.open()
        elif kind == "receive":
            transport.receive(*act[1])
        elif kind == "peer_close":
            transport.peer_close(act[1], act[2], act[3])
        elif kind == "fail":
            transport.fail()
        elif kind == "close":
            self.close(act[1], act[2])
        elif kind == "abort":
            self.ws.abort()
        elif kind == "send":
            self.send(act[1])
        elif kind == "drain":
            transport.drain()
        elif kind == "recv":
            self.start_recv(None)
        elif kind == "recv_timeout":
            self.start_recv(act[1])
        elif kind == "cancel":
            if self.recv_task is not None:
                self.recv_task.cancel()
        elif kind == "tick":
            await real_sleep(0)
        elif kind == "flush":
            await transport.flush()
        else:
            await asyncio.sleep(act[1])
        self.observe()

    async def finish(self) -> None:
        """Close for good, let every call end, read what is left; check it all."""
        ws, transport = self.ws, self.transport
        await transport.flush()
        if transport.close_info is None:
            transport.fail()  # a no-op if the close event already came
            await transport.flush()
        if transport.close_info is None:  # CLOSED already, close event not yet processed
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.1)  # a send draining polls every 5 ms
        self.observe()
        assert ws.state is State.CLOSED
        pending = [t for t in self.tasks if not t.done()]
        assert not pending, f"calls left hanging after the close: {pending}"
        for task in self.tasks:
            if not task.cancelled():
                task.exception()  # retrieved: none is "never retrieved"
        final = transport.fault or closed_exception(*transport.close_info)  # type: ignore[misc]
        while True:
            try:
                self.got.append(await ws.recv())
            except ConnectionClosed as exc:
                assert same_close(exc, final), (exc, final)
                break
        assert ws._recv_waiter is None and not ws._state_waiters and not ws._recv_busy
        # no message lost, duplicated or reordered
        accepted = transport.accepted
        assert self.got == accepted and all(
            type(a) is type(b) for a, b in zip(self.got, accepted, strict=True)
        )
        assert transport.sent == self.handed


@settings(max_examples=examples(5500))
@given(
    opts=options,
    answer_close=st.booleans(),
    actions=st.lists(action, max_size=30),
)
def test_stream_interleavings(opts, answer_close, actions):
    """Any interleaving of network events, calls and time keeps every invariant."""

    async def main() -> None:
        scenario = Scenario(opts, answer_close)
        for act in actions:
            await scenario.step(act)
        await scenario.finish()

    run(main)


# -- the pure functions -------------------------------------------------------------


@settings(max_examples=examples(1000))
@given(
    code=st.one_of(st.integers(-5, 6000), st.booleans(), st.none(), st.floats(), st.text()),
    reason=st.one_of(st.text(max_size=130), st.none(), st.binary(max_size=3)),
)
def test_check_close_accepts_exactly_what_a_browser_may_send(code, reason):
    """check_close accepts exactly an int 1000 or 3000-4999 (not bool) and a str of at most
    123 bytes of UTF-8, and says which rule was broken."""
    code_ok = type(code) is int and (code == 1000 or 3000 <= code <= 4999)
    reason_ok = isinstance(reason, str) and len(reason.encode("utf-8", "surrogatepass")) <= 123
    if code_ok and reason_ok:
        check_close(code, reason)
        return
    with pytest.raises(InvalidCloseCode) as info:
        check_close(code, reason)
    message = str(info.value)
    if type(code) is not int:
        assert message == f"the close code must be an int, not {type(code).__name__}"
    elif not code_ok:
        assert message == f"close code {code} is not allowed: use 1000 or 3000-4999"
    elif not isinstance(reason, str):
        assert message == f"the close reason must be a str, not {type(reason).__name__}"
    else:
        size = len(reason.encode("utf-8", "surrogatepass"))
        assert message == f"the close reason is {size} bytes of UTF-8; at most 123 are allowed"


@settings(max_examples=examples(1000))
@given(code=st.integers(0, 5000), reason=st.text(max_size=3), clean=st.booleans())
def test_closed_exception_and_retry_policy(code, reason, clean):
    """OK exactly for a clean 1000/1001, or 1005 without a reason; the default policy
    retries exactly 1001, 1006, 1011-1014, whatever the cleanliness."""
    exc = closed_exception(code, reason, clean)
    ok = clean and code in OK_CLOSE_CODES and not (code == 1005 and reason)  # 1005 + reason: wire
    assert type(exc) is (ConnectionClosedOK if ok else ConnectionClosedError)
    assert (exc.code, exc.reason) == (code, reason)
    assert should_retry(exc) is (code in RETRY_CLOSE_CODES)
    assert should_retry(PayloadTooBig(code, 1)) is False
    assert should_retry(ConnectionFailed("x")) is True
    assert should_retry(TimeoutError()) is True


@settings(max_examples=examples(1000))
@given(
    min_delay=st.floats(0, 10),
    span=st.floats(0, 50),
    factor=st.floats(1, 4),
    jitters=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=12),
)
def test_backoff_grows_scaled_by_the_jitter(min_delay, span, factor, jitters):
    """The n-th delay is min(max, min * factor**n) scaled by 0.5 + jitter (capped at max)."""
    max_delay = min_delay + span
    fed = iter(jitters)
    delays = backoff(min_delay, max_delay, factor, jitter=lambda: next(fed))
    base = min_delay
    for jitter in jitters:
        delay = next(delays)
        assert math.isclose(delay, min(max_delay, base * (0.5 + jitter)), rel_tol=1e-9)
        assert 0 <= delay <= max_delay
        base = min(max_delay, base * factor)


@settings(max_examples=examples(1000))
@given(delay=st.one_of(st.none(), st.floats(0, 100)))
def test_timer_delay_never_arms_a_tiny_timer(delay):
    """0 and None pass; a positive delay is at least MIN_TIMER, and never shortened."""
    got = timer_delay(delay)
    if delay is None or delay == 0:
        assert got == delay
    else:
        assert got is not None and got >= MIN_TIMER and got >= delay
        assert got == delay or delay < MIN_TIMER
