"""client.py: connect() as an awaitable, a context manager and a reconnecting iterator."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref

import pytest
from fake_clock import fake_clock_test
from fake_transport import FakeFactory as Factory
from fake_transport import FakeTransport, async_test, exactly, real_sleep
from websocket_streaming import (
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidURI,
    State,
    WebSocketError,
    WebSocketStream,
    backoff,
    connect,
)
from websocket_streaming import retry as retry_module

URL = "ws://fake.test/chat"


# -- await connect(...) ------------------------------------------------------------


@async_test
async def test_await_connect_returns_an_open_stream():
    """await connect() returns an open WebSocketStream for the URL, left open."""
    factory = Factory()
    ws = await connect(URL, transport_factory=factory)
    assert isinstance(ws, WebSocketStream)
    assert ws.url == URL
    assert ws.state is State.OPEN
    assert factory.calls == [(URL, [])]
    await factory.transports[0].flush()
    assert factory.transports[0].close_calls == []
    await ws.close()
    assert ws.state is State.CLOSED


@async_test
async def test_connect_offers_subprotocols():
    """connect() offers the subprotocols to the browser; ws.subprotocol is the chosen one."""
    factory = Factory(protocol="superchat")
    ws = await connect(URL, subprotocols=("chat", "superchat"), transport_factory=factory)
    assert factory.calls == [(URL, ["chat", "superchat"])]
    assert ws.subprotocol == "superchat"


@pytest.mark.parametrize(("options", "limit"), [({"write_limit": 10}, 10), ({}, 8 << 20)])
@async_test
async def test_connect_passes_write_limit(options, limit):
    """connect(write_limit=...) is the stream's write limit (default 8 MiB): send() waits
    above it."""
    factory = Factory()
    ws = await connect(URL, transport_factory=factory, **options)
    await ws.send(b"x" * limit)
    task = asyncio.create_task(ws.send(b"y"))
    await asyncio.sleep(0.02)
    assert not task.done()
    factory.transports[0].drain()
    await task


@async_test
async def test_connect_does_not_wait_once_open():
    """await connect() resolves as soon as the open event has run, not later."""
    factory = Factory("hang")
    task = asyncio.create_task(_await(connect(URL, transport_factory=factory)))
    await real_sleep(0.01)
    assert not task.done()
    factory.transports[0].open()
    await factory.transports[0].flush()
    assert task.done()
    assert (await task).state is State.OPEN


async def _await(awaitable):
    return await awaitable


# -- async with connect(...) -----------------------------------------------------------


@async_test
async def test_async_with_closes_on_exit():
    """async with connect() yields an open stream and closes it with 1000 on exit."""
    factory = Factory()
    async with connect(URL, transport_factory=factory) as ws:
        assert ws.state is State.OPEN
        assert factory.transports[0].close_calls == []
    assert factory.transports[0].close_calls == [(1000, "")]
    assert ws.state is State.CLOSED


@async_test
async def test_async_with_closes_when_the_body_raises():
    """async with connect() closes the stream when the body raises, and lets the error through."""
    factory = Factory()
    with pytest.raises(KeyError, match="body"):
        async with connect(URL, transport_factory=factory) as ws:
            raise KeyError("body")
    assert ws.state is State.CLOSED
    assert factory.transports[0].close_calls == [(1000, "")]


@async_test
async def test_async_with_after_peer_closed():
    """async with connect() exits quietly when the server already closed the connection."""
    factory = Factory()
    async with connect(URL, transport_factory=factory) as ws:
        factory.transports[0].fail()
        with pytest.raises(ConnectionClosedError):
            await ws.recv()
    assert factory.transports[0].close_calls == []


@pytest.mark.parametrize(
    ("code", "reason", "clean", "exc_type"),
    [
        (1000, "bye", True, ConnectionClosedOK),
        (4000, "bye", True, ConnectionClosedError),
        (1006, "", False, ConnectionClosedError),
    ],
)
@async_test
async def test_connection_that_opens_and_closes_at_once(code, reason, clean, exc_type):
    """Open, message and close all run before connect() resumes: it returns, nothing is lost."""
    # In Pyodide the browser's tasks can run before a woken coroutine resumes.
    factory = Factory("hang")
    task = asyncio.create_task(_await(connect(URL, transport_factory=factory)))
    await real_sleep(0.01)
    transport = factory.transports[0]
    transport.open()
    transport.receive("greeting")
    transport.peer_close(code, reason, clean)
    ws = await task
    assert ws.state is State.CLOSED
    assert await ws.recv() == "greeting"
    with pytest.raises(exc_type) as info:
        await ws.recv()
    assert (info.value.code, info.value.reason) == (code, reason)


@async_test
async def test_connection_that_opens_and_drops_at_once_is_returned():
    """Open then 1006 with no message, before Python resumes: connect() returns, recv() raises 1006."""
    factory = Factory("hang")
    task = asyncio.create_task(_await(connect(URL, transport_factory=factory)))
    await real_sleep(0.01)
    factory.transports[0].open()
    factory.transports[0].fail()
    ws = await task
    assert ws.state is State.CLOSED
    with pytest.raises(ConnectionClosedError) as info:
        await ws.recv()
    assert (info.value.code, info.value.reason) == (1006, "")
    assert ws.close_code == 1006


# -- failures -------------------------------------------------------------------------


@async_test
async def test_open_failure_raises_connection_failed():
    """A handshake that fails raises ConnectionFailed, an OSError whose message names the URL."""
    factory = Factory("fail")
    with pytest.raises(ConnectionFailed) as info:
        await connect(URL, transport_factory=factory)
    assert isinstance(info.value, OSError)
    assert URL in str(info.value)
    assert "1006" in str(info.value)
    assert factory.transports[0].state is State.CLOSED


@async_test
async def test_open_failure_in_async_with():
    """async with connect() raises ConnectionFailed without running the body."""
    factory = Factory("fail")
    with pytest.raises(ConnectionFailed):
        async with connect(URL, transport_factory=factory):
            raise AssertionError("the body ran")


@async_test
async def test_open_timeout_raises_timeout_error_and_aborts():
    """A handshake slower than open_timeout raises TimeoutError and aborts the socket."""
    factory = Factory("hang")
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(TimeoutError) as info:
        await connect(URL, open_timeout=0.02, transport_factory=factory)
    assert 0.02 <= loop.time() - start < 1
    assert type(info.value) is TimeoutError
    assert URL in str(info.value) and "0.02 s" in str(info.value)
    transport = factory.transports[0]
    assert transport.close_calls == [(None, "")]
    await transport.flush()
    assert transport.state is State.CLOSED
    transport.open()  # a late open event never comes: the browser failed the socket
    await transport.flush()
    assert transport.state is State.CLOSED


@fake_clock_test
async def test_open_timeout_default_is_ten_seconds():
    """Without open_timeout, a handshake that never finishes raises TimeoutError after 10 s."""
    factory = Factory("hang")
    with pytest.raises(TimeoutError, match=exactly(f"timed out after 10.0 s connecting to {URL}")):
        await connect(URL, transport_factory=factory)
    assert asyncio.get_running_loop().time() == 10.0


@async_test
async def test_uri_function_result_is_checked_and_resolved():
    """A URL function's result goes through the URL checks: http:// becomes ws://."""
    factory = Factory()
    ws = await connect(lambda: "http://fake.test/chat", transport_factory=factory)
    assert ws.url == URL
    assert factory.calls == [(URL, [])]


@async_test
async def test_async_with_forgets_the_stream_on_exit():
    """After async with, the connect() object holds no reference to the closed stream."""

    def factory(url: str, protocols: list[str]) -> FakeTransport:
        transport = FakeTransport(url, protocols)
        transport.open()
        return transport

    opener = connect(URL, transport_factory=factory)
    async with opener as ws:
        pass
    ref = weakref.ref(ws)
    del ws
    gc.collect()
    assert ref() is None


@async_test
async def test_open_timeout_none_waits():
    """open_timeout=None waits for the handshake however long it takes."""
    factory = Factory("hang")
    task = asyncio.create_task(_await(connect(URL, open_timeout=None, transport_factory=factory)))
    await real_sleep(0.05)
    assert not task.done()
    factory.transports[0].open()
    assert (await task).state is State.OPEN


@async_test
async def test_cancel_during_connect_aborts_the_socket():
    """Cancelling connect() while the handshake runs aborts the socket and re-raises."""
    factory = Factory("hang")
    task = asyncio.create_task(_await(connect(URL, transport_factory=factory)))
    await real_sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    transport = factory.transports[0]
    assert transport.close_calls == [(None, "")]
    await transport.flush()
    assert transport.state is State.CLOSED


@pytest.mark.parametrize(
    "uri", ["ftp://fake.test/", "/relative", "ws://", "ws://fake.test/#x", b"ws://fake.test/"]
)
@async_test
async def test_invalid_uri_before_any_transport(uri):
    """A bad URL raises InvalidURI in every mode, before any socket is made."""
    factory = Factory()
    with pytest.raises(InvalidURI):
        await connect(uri, transport_factory=factory)
    with pytest.raises(InvalidURI):
        async with connect(uri, transport_factory=factory):
            pass
    with pytest.raises(InvalidURI):
        async for _ in connect(uri, transport_factory=factory):
            pass
    assert factory.calls == []


@async_test
async def test_factory_errors_propagate():
    """An error from the transport factory (the browser refusing the URL) propagates as is."""
    refused = InvalidURI("the browser refused it")
    with pytest.raises(InvalidURI) as info:
        await connect(URL, transport_factory=Factory(refused))
    assert info.value is refused


# -- async for ws in connect(...) --------------------------------------------------------


@pytest.fixture
def sleeps(monkeypatch):
    """Record the delays connect() sleeps for (without sleeping), with a fixed backoff."""
    recorded: list[float] = []

    async def fake_sleep(delay, result=None):
        recorded.append(delay)
        await real_sleep(0)
        return result

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)

    def fixed(*args):  # the Retry passes connect()'s (min_delay, max_delay, factor, jitter)
        return backoff(min_delay=1.0, max_delay=3.0, factor=2.0, jitter=lambda: 0.5)

    monkeypatch.setattr(retry_module, "backoff", fixed)
    return recorded


@async_test
async def test_reconnects_with_backoff_and_resets_after_success(sleeps):
    """async for retries failures after growing delays, resets them on success, stops on a bug."""
    factory = Factory(
        "fail", "hang", "fail", "fail", "open", "fail", "fail", "open", ValueError("bug")
    )
    seen: list[WebSocketStream] = []
    with pytest.raises(ValueError, match="bug"):
        async for ws in connect(URL, open_timeout=0.01, transport_factory=factory):
            assert ws.state is State.OPEN
            if seen:
                assert seen[-1].state is State.CLOSED  # the previous one was closed
            seen.append(ws)
            assert sleeps == (
                [1.0, 2.0, 3.0, 3.0] if len(seen) == 1 else [1.0, 2.0, 3.0, 3.0, 1.0, 2.0]
            )
    assert sleeps == [1.0, 2.0, 3.0, 3.0, 1.0, 2.0]
    assert len(seen) == 2
    assert len(factory.calls) == 9
    assert seen[1].state is State.CLOSED
    assert [t.close_calls for t in factory.transports if t.close_calls] == [
        [(None, "")],  # the attempt that timed out was aborted
        [(1000, "")],
        [(1000, "")],
    ]


@async_test
async def test_reconnects_after_the_connection_drops(sleeps):
    """Each iteration gets a fresh connection after the previous one dropped, with no delay."""
    factory = Factory()
    urls = []
    async for ws in connect(URL, transport_factory=factory):
        urls.append(ws.url)
        factory.transports[-1].fail()
        try:
            async for _ in ws:
                pass
        except ConnectionClosedError:
            if len(urls) < 3:
                continue
        break
    assert urls == [URL] * 3
    assert sleeps == []


@pytest.mark.parametrize(
    "error", [InvalidURI("refused by the browser"), WebSocketError("refused"), RuntimeError("bug")]
)
@async_test
async def test_non_retryable_error_stops_at_once(sleeps, error):
    """async for lets an error that should_retry refuses propagate, without sleeping."""
    factory = Factory(error)
    with pytest.raises(type(error)) as info:
        async for _ in connect(URL, transport_factory=factory):
            raise AssertionError("connected")
    assert info.value is error
    assert sleeps == []


@async_test
async def test_process_exception_decides(sleeps):
    """process_exception gets each failure and decides whether to retry."""
    seen: list[BaseException] = []

    def only_failed(exc):
        seen.append(exc)
        return isinstance(exc, ConnectionFailed)

    factory = Factory("fail", "hang")
    with pytest.raises(TimeoutError):
        async for _ in connect(
            URL, open_timeout=0.01, process_exception=only_failed, transport_factory=factory
        ):
            raise AssertionError("connected")
    assert [type(e) for e in seen] == [ConnectionFailed, TimeoutError]
    assert sleeps == [1.0]


@async_test
async def test_reconnect_sleeps_for_real_by_default():
    """Without patching, the retry delay really passes before the next attempt."""
    factory = Factory("fail")
    loop = asyncio.get_running_loop()
    start = loop.time()
    async for ws in connect(URL, transport_factory=factory):
        elapsed = loop.time() - start
        await ws.close()
        break
    assert len(factory.calls) == 2
    assert 0.25 <= elapsed < 1.0  # the first default delay is 0.5 s +- 50 %


@async_test
async def test_closing_the_iterator_closes_the_connection():
    """Closing the reconnecting iterator (as aclosing() does after a break) closes the stream."""
    factory = Factory()
    async with contextlib.aclosing(aiter(connect(URL, transport_factory=factory))) as connections:
        async for ws in connections:
            assert ws.state is State.OPEN
            break
    assert factory.transports[0].state is State.CLOSED
    assert factory.transports[0].close_calls == [(1000, "")]
    assert len(factory.calls) == 1


@async_test
async def test_clean_close_in_loop_body():
    """A clean close inside the body ends the message loop; the next iteration reconnects."""
    factory = Factory()
    count = 0
    async for ws in connect(URL, transport_factory=factory):
        count += 1
        factory.transports[-1].receive("hi")
        factory.transports[-1].peer_close(1000, "")
        assert [m async for m in ws] == ["hi"]
        with pytest.raises(ConnectionClosedOK):
            await ws.recv()
        if count == 2:
            break
    assert len(factory.calls) == 2


def test_connect_opens_nothing_until_used():
    """connect(...) itself opens nothing: the socket is made when awaited, entered or iterated."""
    factory = Factory()
    connect(URL, transport_factory=factory)
    assert factory.calls == []


@async_test
async def test_async_for_max_retries_allows_that_many_failures_in_a_row(sleeps):
    """async for with max_retries=2: two failed attempts in a row are retried, the third opens."""
    factory = Factory("fail", "fail")
    async for ws in connect(URL, max_retries=2, transport_factory=factory):
        assert ws.state is State.OPEN
        break
    assert len(factory.transports) == 3
    assert sleeps == [1.0, 2.0]


@async_test
async def test_async_for_gives_up_after_max_retries(sleeps):
    """async for with max_retries=1 raises the second failure in a row, after one delay."""
    factory = Factory("fail", "fail", "fail")
    with pytest.raises(ConnectionFailed):
        async for _ in connect(URL, max_retries=1, transport_factory=factory):
            raise AssertionError("the body ran")
    assert len(factory.transports) == 2
    assert sleeps == [1.0]


@fake_clock_test
async def test_async_for_counts_retries_since_the_last_open():
    """max_retries counts the failures since the last connection opened, not in all."""
    factory = Factory("fail", "open", "fail", "open")
    opened = 0
    async for _ws in connect(URL, transport_factory=factory, max_retries=1, min_delay=0.1):
        opened += 1
        if opened == 2:
            break
    assert opened == 2 and len(factory.transports) == 4
