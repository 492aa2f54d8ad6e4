"""reconnect.py: the page's lifecycle (online, offline, visible), the URL function, closing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_clock import fake_clock_test
from fake_transport import FakeFactory, FakeTransport, exactly
from test_reconnect import URL, FakeLifecycle, Recorder, now, start
from websocket_streaming import (
    ConnectionClosed,
    ConnectionClosedOK,
    Heartbeat,
    InvalidURI,
    ReconnectingStream,
    State,
    connect,
)

# -- the page's lifecycle ---------------------------------------------------------------------


async def open_with_lifecycle(**options: Any) -> tuple[FakeFactory, FakeLifecycle, Recorder]:
    """A stream following a FakeLifecycle, once its first connection is open."""
    factory, lifecycle = FakeFactory(), FakeLifecycle()
    _, recorder = start(factory, lifecycle=lifecycle, **options)
    await recorder.wait("open")
    return factory, lifecycle, recorder


@fake_clock_test
async def test_online_during_a_backoff_attempts_at_once():
    """The page's "online" event ends a backoff: the attempt is made at once."""
    factory, lifecycle, recorder = await open_with_lifecycle(min_delay=30.0)
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    await asyncio.sleep(5)
    lifecycle.fire("online")
    await recorder.wait("open", 2)
    assert now() == 5


@pytest.mark.parametrize("how", ["event", "event, then visible", "event only", "navigator.onLine"])
@fake_clock_test
async def test_offline_makes_no_attempt_until_online(how):
    """While offline (an "offline" event, or navigator.onLine false with no event: a page
    loaded offline) no attempt is made, however short the backoff, also after a "visible"
    event; "online" makes one at once. "event only": the event while navigator.onLine stays
    true (a page's own dispatchEvent, as tests/test_resilience.py does)."""
    factory, lifecycle, recorder = await open_with_lifecycle(min_delay=0.5)
    if how == "navigator.onLine":
        lifecycle.online = False
    elif how == "event only":
        for callback in list(lifecycle.callbacks):
            callback("offline")
    else:
        lifecycle.fire("offline")
    factory.transports[0].fail()
    await asyncio.sleep(5)
    if how.endswith("visible"):
        lifecycle.fire("visible")
    await asyncio.sleep(995)
    assert len(factory.transports) == 1
    assert recorder.types == ["connecting", "open", "reconnecting"]
    lifecycle.fire("online")
    await recorder.wait("open", 2)
    assert now() == 1000


@fake_clock_test
async def test_online_and_offline_events_send_no_ping():
    """Only "visible" checks the live connection: "offline" and "online" send no ping."""
    factory, lifecycle, _ = await open_with_lifecycle(heartbeat=Heartbeat(60, timeout=5))
    await asyncio.sleep(10)
    lifecycle.fire("offline")
    lifecycle.fire("online")
    await asyncio.sleep(1)
    assert factory.transports[0].pings == []


@fake_clock_test
async def test_visible_checks_the_live_connection():
    """The page's "visible" event sends a heartbeat ping on the live connection at once."""
    factory, lifecycle, recorder = await open_with_lifecycle(heartbeat=Heartbeat(60, timeout=5))
    await asyncio.sleep(10)
    lifecycle.fire("visible")
    await asyncio.sleep(0.001)
    assert factory.transports[0].pings == ["ping"]
    await asyncio.sleep(5)  # no reply: the connection is dropped, and the stream reconnects
    reconnecting = await recorder.wait("reconnecting")
    assert reconnecting.reason == "no reply to the heartbeat ping within 5 s"
    await recorder.wait("open", 2)


@fake_clock_test
async def test_latency_is_the_live_connections():
    """latency: the live connection's last heartbeat round trip; 0 while disconnected."""
    factory = FakeFactory()
    stream, recorder = start(factory, heartbeat=Heartbeat(10, timeout=5), min_delay=5.0)
    await recorder.wait("open")
    assert stream.latency == 0.0
    await asyncio.sleep(10.5)  # the ping went out at 10
    factory.transports[0].receive("pong")
    await factory.transports[0].flush()
    assert stream.latency == 0.5
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    assert stream.latency == 0.0


@fake_clock_test
async def test_lifecycle_unsubscribed_at_the_end():
    """The stream stops listening to the page's events once it has ended."""
    lifecycle = FakeLifecycle()
    stream, recorder = start(FakeFactory(), lifecycle=lifecycle)
    await recorder.wait("open")
    assert len(lifecycle.callbacks) == 1
    await stream.close()
    assert lifecycle.callbacks == []


# -- the URL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
@fake_clock_test
async def test_url_callable_is_called_before_each_attempt(kind):
    """A URL function (sync or async) is called before each attempt, for a fresh token."""
    tokens = iter(range(1, 100))

    def fresh() -> str:
        return f"{URL}?token={next(tokens)}"

    async def fresh_async() -> str:
        await asyncio.sleep(0.25)
        return fresh()

    factory = FakeFactory("fail")
    stream, recorder = start(factory, url=fresh if kind == "sync" else fresh_async)
    await recorder.wait("open")
    factory.transports[-1].fail()
    await recorder.wait("open", 2)
    assert [url for url, _ in factory.calls] == [f"{URL}?token={n}" for n in (1, 2, 3)]
    assert stream.connection is not None and stream.connection.url == f"{URL}?token=3"


@fake_clock_test
async def test_url_callable_returning_a_bad_url_ends_the_stream():
    """A URL function returning a bad URL ends the stream with InvalidURI, before any socket."""
    factory = FakeFactory()
    with pytest.raises(InvalidURI):
        await connect(lambda: "ftp://nope/", reconnect=True, transport_factory=factory)
    assert factory.calls == []


# -- closing ---------------------------------------------------------------------------------


@fake_clock_test
async def test_close_during_a_backoff():
    """close() during a backoff ends the stream: ConnectionClosedOK, unsent kept, no attempt."""
    factory = FakeFactory()
    stream, recorder = start(factory, min_delay=30.0)
    await recorder.wait("open")
    factory.transports[0].receive("read me")
    factory.transports[0].fail()
    await recorder.wait("reconnecting")
    await stream.send("never sent")
    await asyncio.sleep(5)
    await stream.close()
    assert now() == 5
    assert stream.state is State.CLOSED
    assert recorder.types[-1] == "close"
    assert stream.unsent == ["never sent"]
    assert await stream.recv() == "read me"
    with pytest.raises(ConnectionClosedOK):
        await stream.recv()
    with pytest.raises(ConnectionClosedOK):
        await stream.send("x")
    await asyncio.sleep(100)
    assert len(factory.transports) == 1
    await stream.wait_closed()


@fake_clock_test
async def test_close_while_open_closes_the_connection():
    """close() while connected closes the live connection with the code and ends the stream."""
    factory = FakeFactory()
    async with connect(URL, reconnect=True, transport_factory=factory) as stream:
        assert isinstance(stream, ReconnectingStream)
        assert stream.state is State.OPEN
    assert factory.transports[0].close_calls == [(1000, "")]
    assert stream.state is State.CLOSED
    with pytest.raises(ConnectionClosedOK):
        await stream.recv()
    await stream.close()  # twice: nothing more
    assert factory.transports[0].close_calls == [(1000, "")]


@fake_clock_test
async def test_state_is_closing_while_close_waits_for_the_peer():
    """close() on a live connection: CLOSING until the peer answers, then CLOSED."""
    factory = FakeFactory("hang")
    stream, recorder = start(factory, close_timeout=None)
    transport = await first_transport(factory)
    transport.answer_close = False
    transport.open()
    await recorder.wait("open")
    closing = asyncio.create_task(stream.close())
    await asyncio.sleep(1)
    assert stream.state is State.CLOSING
    with pytest.raises(
        ConnectionClosedOK,
        match=exactly("connection closed: 1000 (normal closure) 'closed by close()'"),
    ):
        await stream.send("too late")
    transport.peer_close(1000, "")
    await closing
    assert stream.state is State.CLOSED


@fake_clock_test
async def test_close_with_a_silent_peer_takes_close_timeout():
    """close() on a live connection whose peer never answers returns after close_timeout."""
    factory = FakeFactory("hang")
    stream, recorder = start(factory, close_timeout=2.0)
    factory_transport = await first_transport(factory)
    factory_transport.answer_close = False
    factory_transport.open()
    await recorder.wait("open")
    await stream.close()
    assert now() == 2.0
    with pytest.raises(ConnectionClosed) as info:
        await stream.recv()
    assert info.value.code == 1006
    assert len(factory.transports) == 1


async def first_transport(factory: FakeFactory) -> FakeTransport:
    """Wait until the factory made its first transport."""
    while not factory.transports:
        await asyncio.sleep(0)
    return factory.transports[0]


def test_bad_backoff_options_raise_at_once():
    """ReconnectingStream checks its backoff options when made, as connect() does."""

    async def main() -> None:
        with pytest.raises(ValueError, match=exactly("factor must be at least 1, not 0.5")):
            ReconnectingStream(
                lambda: asyncio.sleep(0),  # type: ignore[arg-type, return-value]
                factor=0.5,
                should_retry=lambda exc: True,
            )

    asyncio.run(main())


@fake_clock_test
async def test_policy_error_ends_the_stream():
    """A retry policy that raises ends the stream: recv() raises its error, nothing hangs."""

    def policy(exc: BaseException) -> bool:
        raise KeyError("policy bug")

    factory = FakeFactory()
    stream, recorder = start(factory, process_exception=policy)
    await recorder.wait("open")
    factory.transports[0].fail()
    event = await recorder.wait("close")
    assert isinstance(event.error, KeyError)
    with pytest.raises(KeyError, match="policy bug"):
        await stream.recv()
    assert stream.state is State.CLOSED


@fake_clock_test
async def test_an_earlier_wake_does_not_cut_the_next_backoff():
    """A "visible" event while connected does not shorten the backoff after a later drop."""
    factory, lifecycle, recorder = await open_with_lifecycle(min_delay=3.0)
    lifecycle.fire("visible")
    await asyncio.sleep(1)
    factory.transports[0].fail()
    await recorder.wait("open", 2)
    assert now() == 4
