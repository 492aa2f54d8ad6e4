"""reconnect.py: ReconnectingStream over scripted FakeTransports, on the fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fake_clock import fake_clock_test
from fake_transport import FakeFactory, FakeTransport, exactly
from websocket_streaming import (
    ConcurrencyError,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    ReconnectFailed,
    ReconnectingStream,
    SendQueueFull,
    State,
    StateEvent,
    WebSocketStream,
    connect,
)

URL = "ws://fake.test/feed"


class Recorder:
    """Every StateEvent of a stream, in order, with a way to wait for the next ones."""

    def __init__(self, stream: ReconnectingStream) -> None:
        self.events: list[StateEvent] = []
        self._changed = asyncio.Event()
        stream.add_listener(self._on_event)

    def _on_event(self, event: StateEvent) -> None:
        self.events.append(event)
        self._changed.set()

    @property
    def types(self) -> list[str]:
        """The events' types, in order."""
        return [event.type for event in self.events]

    async def wait(self, kind: str, count: int = 1) -> StateEvent:
        """Wait until ``count`` events of this type came; return the last of them."""
        while self.types.count(kind) < count:
            self._changed.clear()
            await self._changed.wait()
        return [event for event in self.events if event.type == kind][count - 1]


class FakeLifecycle:
    """The page's online/offline/visible events, fired by the test."""

    def __init__(self) -> None:
        self.online = True
        self.callbacks: list[Callable[[str], None]] = []

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback`` on each event fired; return the unsubscribe function."""
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def fire(self, what: str) -> None:
        """The page fires "online", "offline" or "visible"."""
        if what in ("online", "offline"):
            self.online = what == "online"
        for callback in list(self.callbacks):
            callback(what)


def start(
    factory: FakeFactory, url: Any = URL, **options: Any
) -> tuple[ReconnectingStream, Recorder]:
    """A ReconnectingStream opening connections as connect() does, with a neutral jitter
    (each delay is exactly min(max_delay, min_delay * factor ** n)), and its events."""
    opener = connect(url, reconnect=True, transport_factory=factory, **options)
    stream = ReconnectingStream(
        opener.open_connection,
        lifecycle=opener.lifecycle,
        jitter=lambda: 0.5,
        **opener.reconnect_options,
    )
    return stream, Recorder(stream)


def now() -> float:
    """The loop's (virtual) time."""
    return asyncio.get_running_loop().time()


async def drop_and_reopen(
    factory: FakeFactory, recorder: Recorder, opens: int, *, code: int = 1006
) -> FakeTransport:
    """Drop the current connection (1006 by default) and wait for the next open."""
    if code == 1006:
        factory.transports[-1].fail()
    else:
        factory.transports[-1].peer_close(code, "")
    await recorder.wait("open", opens)
    return factory.transports[-1]


# -- reading across drops ------------------------------------------------------------------


@fake_clock_test
async def test_recv_reads_every_connection_in_order():
    """Messages before a drop, then the next connection's, in order, after one backoff delay."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=2.0)
    await recorder.wait("open")
    assert stream.state is State.OPEN and stream.connection is not None
    factory.transports[0].receive("a", b"b")
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    assert stream.state is State.CONNECTING and stream.connection is None
    second = await drop_and_reopen(factory, recorder, 2)
    assert now() == 2.0
    second.receive("c")
    assert [await stream.recv() for _ in range(3)] == ["a", b"b", "c"]
    assert len(factory.transports) == 2


@fake_clock_test
async def test_async_for_reads_across_drops_and_ends_on_a_clean_close():
    """async for yields every connection's messages and ends quietly when the server closes 1000."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=1.0)
    await recorder.wait("open")
    factory.transports[0].receive("1", "2")
    second = await drop_and_reopen(factory, recorder, 2)
    second.receive("3")
    second.peer_close(1000, "done")
    assert [message async for message in stream] == ["1", "2", "3"]
    with pytest.raises(ConnectionClosedOK):
        await stream.recv()


@fake_clock_test
async def test_recv_concurrency_error():
    """A second recv() while one waits raises ConcurrencyError; the first gets its message."""
    factory = FakeFactory()
    stream, recorder = start(factory)
    await recorder.wait("open")
    first = asyncio.create_task(stream.recv())
    await asyncio.sleep(0)
    with pytest.raises(ConcurrencyError):
        await stream.recv()
    with pytest.raises(ConcurrencyError):
        async for _ in stream:
            pass
    factory.transports[0].receive("mine")
    assert await first == "mine"


@fake_clock_test
async def test_cancelled_recv_loses_nothing():
    """Cancelling recv() while it waits, on a connection or between two, loses no message."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=5.0)
    await recorder.wait("open")
    waiting = asyncio.create_task(stream.recv())
    await asyncio.sleep(1)
    waiting.cancel()
    factory.transports[0].receive("kept")
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    assert await stream.recv() == "kept"
    waiting = asyncio.create_task(stream.recv())  # between connections
    await asyncio.sleep(1)
    waiting.cancel()
    second = await drop_and_reopen(factory, recorder, 2)
    second.receive("next")
    assert await stream.recv() == "next"


@fake_clock_test
async def test_recv_waiting_between_connections_gets_the_next_ones_message():
    """A recv() waiting after a connection was read to its end returns the next
    connection's first message."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=5.0)
    await recorder.wait("open")
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    waiting = asyncio.create_task(stream.recv())
    await asyncio.sleep(1)
    assert not waiting.done()
    await recorder.wait("open", 2)
    factory.transports[1].receive("next")
    async with asyncio.timeout(1):
        assert await waiting == "next"
    assert now() == 5.0


@fake_clock_test
async def test_dropped_counts_over_every_connection():
    """dropped sums the drop-oldest drops of every connection, also of those read to their end."""
    factory = FakeFactory()
    stream, recorder = start(factory, max_queue=1, on_overflow="drop-oldest", min_delay=5.0)
    await recorder.wait("open")
    factory.transports[0].receive("a", "b", "c")
    await factory.transports[0].flush()
    factory.transports[0].drop_oldest(2)  # as browser.js does with max_queue=1
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    assert stream.dropped == 2
    assert await stream.recv() == "c"
    waiting = asyncio.create_task(stream.recv())
    await asyncio.sleep(1)  # the first connection was read to its end
    assert stream.dropped == 2
    await recorder.wait("open", 2)
    factory.transports[1].receive("d", "e")
    await factory.transports[1].flush()
    factory.transports[1].drop_oldest(1)
    assert await waiting == "d"  # handed over to the waiting reader before "e" came
    assert stream.dropped == 3


@fake_clock_test
async def test_attempt_during_a_backoff_is_the_next_attempts_number():
    """During the backoff after a drop, attempt is 1: the number of the attempt to come."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=5.0)
    await recorder.wait("open")
    assert stream.attempt == 0
    factory.transports[0].fail()
    reconnecting = await recorder.wait("reconnecting")
    assert stream.attempt == reconnecting.attempt == 1
    await recorder.wait("open", 2)
    assert stream.attempt == 0


# -- sending across drops ----------------------------------------------------------------------


@fake_clock_test
async def test_queued_sends_flush_in_order_once_after_the_hook():
    """Sends while disconnected return False and go out after on_connect's, in order, once."""
    factory = FakeFactory()
    hooked: list[WebSocketStream] = []

    async def on_connect(ws: WebSocketStream) -> None:
        hooked.append(ws)
        await ws.send(f"hello {len(hooked)}")

    stream, recorder = start(factory, on_connect=on_connect, min_delay=3.0)
    await recorder.wait("open")
    assert await stream.send("live") is True
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    assert [await stream.send(m) for m in ("q1", b"q2", bytearray(b"q3"))] == [False] * 3
    assert stream.unsent == ["q1", b"q2", b"q3"]
    second = await drop_and_reopen(factory, recorder, 2)
    assert recorder.events[-1].flushed == 3
    assert stream.unsent == []
    assert await stream.send("after") is True
    assert factory.transports[0].sent == ["hello 1", "live"]
    assert second.sent == ["hello 2", "q1", b"q2", b"q3", "after"]
    third = await drop_and_reopen(factory, recorder, 3)
    assert third.sent == ["hello 3"]  # nothing is sent twice
    assert len(hooked) == 3 and hooked[1].url == URL


@fake_clock_test
async def test_send_during_the_hook_is_queued_after_what_was_queued():
    """The app's send() while on_connect runs joins the queue: the order holds."""
    factory = FakeFactory("fail")
    stream: ReconnectingStream | None = None

    async def on_connect(ws: WebSocketStream) -> None:
        assert stream is not None
        assert await stream.send("during hook") is False
        await ws.send("hook")

    stream, recorder = start(factory, on_connect=on_connect)
    assert await stream.send("before") is False
    await recorder.wait("open")
    assert factory.transports[1].sent == ["hook", "before", "during hook"]
    assert recorder.events[-1].flushed == 2


@pytest.mark.parametrize(
    ("options", "messages", "full"),
    [
        ({"send_queue": 2}, ["a", "b"], "c"),
        ({"send_queue_bytes": 5}, ["abc", b"de"], "f"),
        ({"send_queue_bytes": 5}, ["é", "abc"], b"x"),  # text counts UTF-8 bytes
    ],
)
@fake_clock_test
async def test_send_queue_full_loses_nothing(options, messages, full):
    """At the bound, send() raises SendQueueFull; what was queued is all sent later, in order."""
    factory = FakeFactory("hang")
    stream, recorder = start(factory, **options)
    await recorder.wait("connecting")
    for message in messages:
        assert await stream.send(message) is False
    limit = {"send_queue": 1000, "send_queue_bytes": 1 << 20, **options}
    size = sum(len(m.encode()) if isinstance(m, str) else len(m) for m in messages)
    with pytest.raises(
        SendQueueFull,
        match=exactly(
            f"the send queue is full ({len(messages)} messages, {size} bytes; "
            f"send_queue={limit['send_queue']}, send_queue_bytes={limit['send_queue_bytes']}): "
            "the message was not queued"
        ),
    ):
        await stream.send(full)
    assert stream.unsent == messages
    factory.transports[0].open()
    await recorder.wait("open")
    assert factory.transports[0].sent == messages


@fake_clock_test
async def test_flushed_messages_leave_the_send_queue_bound():
    """Messages flushed on an open no longer count: the next disconnection queues as many
    bytes again."""
    factory = FakeFactory("hang")
    stream, recorder = start(factory, send_queue_bytes=5)
    await recorder.wait("connecting")
    assert await stream.send("12345") is False
    factory.transports[0].open()
    await recorder.wait("open")
    assert factory.transports[0].sent == ["12345"]
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    assert await stream.send("abcde") is False
    assert stream.unsent == ["abcde"]


@fake_clock_test
async def test_send_queue_zero_raises_while_disconnected():
    """send_queue=0: send() while disconnected raises ConnectionClosed (the last close) at once."""
    factory = FakeFactory("hang")
    stream, recorder = start(factory, send_queue=0)
    await recorder.wait("connecting")
    with pytest.raises(ConnectionClosedError) as info:
        await stream.send("x")
    assert (info.value.code, info.value.reason) == (1006, "not connected")
    factory.transports[0].open()
    await recorder.wait("open")
    assert await stream.send("y") is True
    factory.transports[0].peer_close(1012, "restart")
    await recorder.wait("reconnecting")
    with pytest.raises(ConnectionClosedError) as info:
        await stream.send("z")
    assert (info.value.code, info.value.reason) == (1012, "restart")
    assert stream.unsent == []


@fake_clock_test
async def test_send_rejects_other_types():
    """send() raises TypeError for anything but str and bytes-like, connected or not."""
    stream, recorder = start(FakeFactory("hang"))
    await recorder.wait("connecting")
    with pytest.raises(TypeError, match="int"):
        await stream.send(42)  # type: ignore[arg-type]
    assert stream.unsent == []


# -- giving up --------------------------------------------------------------------------------


@fake_clock_test
async def test_max_retries_gives_up_after_the_backoff_delays():
    """max_retries=3 against failing attempts: ReconnectFailed after 1+2+4 s, unsent kept."""
    factory = FakeFactory(then="fail")
    stream, recorder = start(factory, max_retries=3, min_delay=1.0, factor=2.0, max_delay=10.0)
    assert await stream.send("a") is False
    assert await stream.send(b"b") is False
    event = await recorder.wait("close")
    assert now() == 1 + 2 + 4
    assert len(factory.transports) == 4
    assert [e.delay for e in recorder.events if e.type == "reconnecting"] == [1.0, 2.0, 4.0]
    final = event.error
    assert isinstance(final, ReconnectFailed)
    assert (final.attempts, final.unsent, final.code) == (4, ["a", b"b"], 1006)
    assert isinstance(final.__cause__, ConnectionFailed)
    failures = [e.error for e in recorder.events if e.type == "reconnecting"]
    assert final.__cause__ not in failures  # the last attempt's, not an earlier one
    with pytest.raises(ReconnectFailed) as info:
        await stream.recv()
    assert info.value is final
    with pytest.raises(ReconnectFailed):
        await stream.send("c")
    assert stream.unsent == ["a", b"b"]
    assert stream.state is State.CLOSED


@fake_clock_test
async def test_connect_raises_reconnect_failed_before_the_first_open():
    """await connect(reconnect=True) raises ReconnectFailed when max_retries run out first."""
    factory = FakeFactory(then="fail")
    with pytest.raises(ReconnectFailed) as info:
        await connect(URL, reconnect=True, max_retries=2, transport_factory=factory)
    assert info.value.attempts == 3
    assert len(factory.transports) == 3


@fake_clock_test
async def test_max_retries_counts_attempts_in_a_row():
    """A successful open resets the count: failures before it do not add up with later ones."""
    factory = FakeFactory("fail", "fail", "open", "fail", "fail", "open")
    stream, recorder = start(factory, max_retries=2, min_delay=1.0, factor=1.0)
    await recorder.wait("open")
    factory.transports[-1].fail()
    await recorder.wait("open", 2)
    assert stream.state is State.OPEN
    assert len(factory.transports) == 6


@pytest.mark.parametrize(
    ("code", "exc_type"), [(1000, ConnectionClosedOK), (4000, ConnectionClosedError)]
)
@fake_clock_test
async def test_policy_stops_on_a_server_close(code, exc_type):
    """A close should_retry refuses (1000, 4000) ends the stream: no reconnect, recv raises it."""
    factory = FakeFactory()
    stream, recorder = start(factory)
    await recorder.wait("open")
    factory.transports[0].receive("last")
    factory.transports[0].peer_close(code, "bye")
    event = await recorder.wait("close")
    assert (event.code, event.reason) == (code, "bye")
    await asyncio.sleep(1000)
    assert len(factory.transports) == 1
    assert await stream.recv() == "last"
    with pytest.raises(exc_type) as info:
        await stream.recv()
    assert (info.value.code, info.value.reason) == (code, "bye")
    assert stream.state is State.CLOSED


@fake_clock_test
async def test_policy_retries_a_service_restart():
    """A close with 1012 (service restart) reconnects; the event carries the code and reason."""
    factory = FakeFactory()
    _, recorder = start(factory)
    await recorder.wait("open")
    factory.transports[0].peer_close(1012, "restart")
    await recorder.wait("open", 2)
    reconnecting = await recorder.wait("reconnecting")
    assert (reconnecting.code, reconnecting.reason) == (1012, "restart")
    assert isinstance(reconnecting.error, ConnectionClosedError)


@fake_clock_test
async def test_custom_policy_decides():
    """process_exception replaces the default policy and sees each failure."""
    seen: list[BaseException] = []

    def policy(exc: BaseException) -> bool:
        seen.append(exc)
        return len(seen) < 3

    factory = FakeFactory(then="fail")
    _, recorder = start(factory, process_exception=policy)
    event = await recorder.wait("close")
    assert len(seen) == 3 and event.error is seen[-1]
    assert isinstance(event.error, ConnectionFailed)
    assert len(factory.transports) == 3


@fake_clock_test
async def test_hook_error_ends_the_stream():
    """An on_connect hook that raises: the connection is dropped, and recv() raises its error."""

    async def on_connect(ws: WebSocketStream) -> None:
        raise KeyError("hook")

    factory = FakeFactory()
    stream, recorder = start(factory, on_connect=on_connect)
    await recorder.wait("close")
    assert factory.transports[0].close_calls == [(None, "")]
    with pytest.raises(KeyError, match="hook"):
        await stream.recv()


# -- events ---------------------------------------------------------------------------------


@fake_clock_test
async def test_events_in_order():
    """connecting, open, reconnecting(attempt, delay, code), connecting, open(flushed), close."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=1.5)
    streamed = asyncio.create_task(collect(stream))
    await recorder.wait("open")
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    await stream.send("queued")
    await recorder.wait("open", 2)
    await stream.close()
    expected = [
        StateEvent("connecting", 1),
        StateEvent("open", 1),
        StateEvent("reconnecting", 1, 1.5, 1006, "", recorder.events[2].error),
        StateEvent("connecting", 1),
        StateEvent("open", 1, flushed=1),
        StateEvent("close", 0, None, 1000, "", recorder.events[5].error),
    ]
    assert recorder.events == expected
    assert isinstance(recorder.events[2].error, ConnectionClosedError)
    assert isinstance(recorder.events[5].error, ConnectionClosedOK)
    assert await streamed == expected[1:]  # subscribed once the first attempt had begun


async def collect(stream: ReconnectingStream) -> list[StateEvent]:
    """Every event from events(), until it ends."""
    return [event async for event in stream.events()]


@fake_clock_test
async def test_listeners_can_be_removed():
    """remove_listener stops the calls; removing one never added raises ValueError."""
    factory = FakeFactory()
    stream, recorder = start(factory)
    seen: list[StateEvent] = []
    stream.add_listener(seen.append)
    await recorder.wait("open")
    stream.remove_listener(seen.append)
    await stream.close()
    assert [e.type for e in seen] == ["connecting", "open"]
    with pytest.raises(ValueError):
        stream.remove_listener(seen.append)


@fake_clock_test
async def test_events_after_the_end_is_empty():
    """events() on a closed stream ends at once."""
    stream, recorder = start(FakeFactory())
    await recorder.wait("open")
    await stream.close()
    assert await collect(stream) == []


def test_state_event_defaults():
    """A StateEvent given only its type: attempt 0, flushed 0, the rest None."""
    assert StateEvent("close") == StateEvent("close", 0, None, None, None, None, 0)


@fake_clock_test
async def test_reconnecting_stream_default_backoff():
    """A ReconnectingStream's own backoff defaults: from 0.5 s, times 1.618, up to 30 s."""

    async def refuse() -> WebSocketStream:
        raise ConnectionFailed("refused")

    events: list[StateEvent] = []
    stream = ReconnectingStream(
        refuse, should_retry=lambda exc: True, max_retries=12, jitter=lambda: 0.5,
        on_event=events.append,
    )  # fmt: skip
    await stream.wait_closed()
    delays = [event.delay for event in events if event.type == "reconnecting"]
    assert delays == pytest.approx([min(30.0, 0.5 * 1.618**n) for n in range(12)])
    assert delays[-1] == 30.0


@fake_clock_test
async def test_reconnecting_stream_default_send_queue():
    """A ReconnectingStream's own send queue defaults: 1000 messages, 1 MiB."""

    async def hang() -> WebSocketStream:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    stream = ReconnectingStream(hang, should_retry=lambda exc: True)
    assert await stream.send(b"x" * (1 << 20)) is False
    with pytest.raises(SendQueueFull):
        await stream.send(b"x")
    await stream.close()
    stream = ReconnectingStream(hang, should_retry=lambda exc: True)
    for _ in range(1000):
        assert await stream.send("") is False
    with pytest.raises(SendQueueFull):
        await stream.send("")
    await stream.close()


@fake_clock_test
async def test_next_connection_hands_out_each_connection_once_in_order():
    """next_connection(): every connection that opened, oldest first, once each (a reader of
    its own, as the JS facade, walks them so); then the final exception."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=1.0)
    waiting = asyncio.create_task(stream.next_connection())
    await recorder.wait("open")
    first = await waiting
    assert first.url == URL and first.state is State.OPEN
    factory.transports[0].fail()
    await recorder.wait("open", 2)
    second = await stream.next_connection()
    assert second is not first and second.state is State.OPEN
    await stream.close()
    with pytest.raises(ConnectionClosedOK):
        await stream.next_connection()


@fake_clock_test
async def test_unread_connections_hands_out_the_rest_at_once():
    """unread_connections(): the connections next_connection() has not handed out, oldest
    first, removed from the stream (recv() then reads none of them)."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=1.0)
    await recorder.wait("open")
    factory.transports[0].receive("in the first")
    factory.transports[0].fail()
    await recorder.wait("open", 2)
    rest = stream.unread_connections()
    assert [conn.transport for conn in rest] == factory.transports[:2]
    assert stream.unread_connections() == []
    assert await rest[0].recv() == "in the first"
    await stream.close()
    with pytest.raises(ConnectionClosedOK):
        await stream.recv()


@fake_clock_test
async def test_the_supervisor_logs_what_failed_and_the_delay(caplog):
    """A failed attempt logs "connect failed", a dropped connection "connection closed",
    each with the delay before the next attempt (INFO, the websocket_streaming logger)."""
    caplog.set_level("INFO", logger="websocket_streaming")
    factory = FakeFactory("fail", "open")
    stream, recorder = start(factory, min_delay=1.0)
    await recorder.wait("open")
    factory.transports[1].fail()
    await recorder.wait("reconnecting", 2)
    await stream.close()
    logged = [r.getMessage() for r in caplog.records if "reconnecting in" in r.getMessage()]
    assert [m.split(":")[0] for m in logged] == [
        "connect failed; reconnecting in 1.0 seconds",
        "connection closed; reconnecting in 1.0 seconds",
    ]
