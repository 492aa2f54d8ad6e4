"""reconnect.py: the edges of ReconnectingStream that the mutation run (tools/mutate.py) found
unguarded: calls between connections, close() twice or with a bad code, ``async with``,
listeners, the events() iterator, a cancelled supervisor, and the flush of the send queue
into a connection that closed during ``on_connect``."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from fake_clock import fake_clock_test
from fake_transport import FakeFactory
from test_reconnect import Recorder, start
from websocket_streaming import (
    ConcurrencyError,
    ConnectionClosedOK,
    InvalidCloseCode,
    ReconnectingStream,
    State,
    StateEvent,
    WebSocketStream,
)


async def disconnected() -> tuple[FakeFactory, ReconnectingStream, Recorder]:
    """A stream whose first connection opened and dropped: it waits 5 s before the next."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=5.0)
    await recorder.wait("open")
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    return factory, stream, recorder


@fake_clock_test
async def test_second_recv_between_connections_raises_concurrency_error():
    """While no connection is open, a second recv() is refused as on an open one."""
    factory, stream, recorder = await disconnected()
    first = asyncio.create_task(stream.recv())
    await asyncio.sleep(0)
    async with asyncio.timeout(1):  # at once, not from the next connection in 5 s
        with pytest.raises(ConcurrencyError):
            await stream.recv()
    await recorder.wait("open", 2)
    factory.transports[1].receive("mine")
    assert await first == "mine"
    with pytest.raises(ConcurrencyError):  # refused again once the first is waiting again
        second = asyncio.create_task(stream.recv())
        await asyncio.sleep(0)
        await stream.recv()
    second.cancel()
    await stream.close()


@fake_clock_test
async def test_close_checks_its_code_and_a_second_close_waits_for_the_first():
    """close(999) raises InvalidCloseCode and changes nothing; a second close() returns once
    the stream has ended, having done nothing more."""
    factory = FakeFactory()
    stream, recorder = start(factory)
    await recorder.wait("open")
    with pytest.raises(InvalidCloseCode):
        await stream.close(999)
    assert stream.state is State.OPEN
    first = asyncio.create_task(stream.close(4000, "first"))
    await asyncio.sleep(0)
    await stream.close(4001, "second")
    assert stream.state is State.CLOSED and first.done()
    assert factory.transports[0].close_calls == [(4000, "first")]
    assert recorder.types.count("close") == 1


@fake_clock_test
async def test_async_with_gives_the_stream_and_closes_it():
    """``async with stream as s``: s is the stream, closed on exit."""
    factory = FakeFactory()
    stream, recorder = start(factory)
    async with stream as inside:
        assert inside is stream
        await recorder.wait("open")
    assert stream.state is State.CLOSED
    assert factory.transports[0].close_calls == [(1000, "")]


@fake_clock_test
async def test_connection_listeners_see_each_connection():
    """connection_listeners are called with each connection as it opens."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=1.0)
    seen: list[WebSocketStream] = []
    stream.connection_listeners.append(seen.append)
    await recorder.wait("open")
    factory.transports[0].fail()
    await recorder.wait("open", 2)
    assert len(seen) == 2 and seen[1] is stream.connection
    await stream.close()


@fake_clock_test
async def test_repr_state_events_and_events_iterator():
    """repr names the state and attempt (0 before the first); StateEvents are frozen; leaving
    an events() iterator unsubscribes it."""
    factory = FakeFactory()
    stream, recorder = start(factory)
    assert repr(stream) == "<ReconnectingStream CONNECTING attempt=0>"
    await recorder.wait("open")
    assert repr(stream).startswith("<ReconnectingStream OPEN attempt=")
    with pytest.raises(dataclasses.FrozenInstanceError):
        recorder.events[0].attempt = 5  # type: ignore[misc]
    events = stream.events()
    fired = asyncio.create_task(anext(events))
    await asyncio.sleep(0)
    factory.transports[0].fail()
    assert isinstance(await fired, StateEvent)
    await events.aclose()
    assert stream._subscribers == []
    await stream.close()


@fake_clock_test
async def test_a_supervisor_cancelled_from_outside_stays_cancelled():
    """Cancelling the stream's task (not through close()) cancels it: the CancelledError is
    not swallowed as close()'s own is."""
    _factory, stream, _recorder = await disconnected()
    stream._task.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert stream._task.cancelled()


@fake_clock_test
async def test_queue_kept_when_the_connection_closes_during_on_connect():
    """Messages queued while disconnected stay queued, in order, when the next connection
    closes during on_connect; the one after gets them all."""
    factory = FakeFactory()
    hooks = 0

    async def on_connect(conn: WebSocketStream) -> None:
        nonlocal hooks
        hooks += 1
        if hooks == 2:
            factory.transports[-1].fail()
            await asyncio.sleep(0)

    stream, recorder = start(factory, min_delay=1.0, on_connect=on_connect)
    await recorder.wait("open")
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    assert await stream.send("a") is False and await stream.send("b") is False
    await recorder.wait("open", 2)
    assert factory.transports[1].sent == []
    assert factory.transports[2].sent == ["a", "b"]
    await stream.close()


@fake_clock_test
async def test_close_returns_once_the_supervisor_has_stopped():
    """close() during a backoff returns once the stream's own task has ended: no task left."""
    _factory, stream, _recorder = await disconnected()
    await stream.close()
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


@fake_clock_test
async def test_on_connect_failing_on_a_closing_connection_waits_for_its_close():
    """An on_connect hook whose send() fails because the connection is closing (its close
    frame sent, the answer not yet in) ends that connection once the close is complete,
    reported as the close says."""
    factory = FakeFactory()

    closing: list[asyncio.Future[None]] = []

    async def on_connect(conn: WebSocketStream) -> None:
        closing.append(asyncio.ensure_future(conn.close()))
        await asyncio.sleep(0)
        assert conn.state is State.CLOSING
        await conn.send("too late")

    stream, recorder = start(factory, on_connect=on_connect)
    await stream.wait_closed()
    with pytest.raises(ConnectionClosedOK):
        await stream.recv()
    assert recorder.types[-1] == "close"
