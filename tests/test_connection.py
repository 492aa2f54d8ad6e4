"""connection.py: WebSocketStream over a FakeTransport that behaves like a browser WebSocket."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from fake_clock import fake_clock_test
from fake_transport import FakeTransport, async_test, exactly
from websocket_streaming import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    Heartbeat,
    InvalidCloseCode,
    PayloadTooBig,
    QueueOverflow,
    State,
    WebSocketStream,
    connect,
)
from websocket_streaming.connection import (
    DEFAULT_MAX_QUEUE_BYTES,
    DEFAULT_MAX_SIZE,
    TAKE_BYTES,
    TAKE_MESSAGES,
)

URL = "ws://fake.test/chat"


async def open_stream(
    protocol: str = "", *, answer_close: bool = True, **kwargs: Any
) -> tuple[WebSocketStream, FakeTransport]:
    """A WebSocketStream whose fake socket has just opened."""
    transport = FakeTransport(URL, [protocol] if protocol else [], answer_close=answer_close)
    ws = WebSocketStream(URL, transport, **kwargs)
    transport.open(protocol=protocol)
    await transport.flush()
    assert ws.state is State.OPEN
    return ws, transport


def run_without_suspending(coro):
    """Drive a coroutine one step; return its result if it finished without awaiting."""
    try:
        step = coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError(f"the coroutine suspended on {step!r}")


# -- properties --------------------------------------------------------------------


@async_test
async def test_properties_before_and_after_open():
    """url, state, subprotocol, extensions and close_code/close_reason before and after open."""
    transport = FakeTransport(URL, ["chat", "superchat"])
    ws = WebSocketStream(URL, transport)
    assert ws.url == URL
    assert ws.state is State.CONNECTING
    assert ws.subprotocol is None
    assert ws.close_code is None and ws.close_reason is None
    assert repr(ws) == f"<WebSocketStream {URL} CONNECTING>"
    transport.open(protocol="superchat", extensions="permessage-deflate")
    await transport.flush()
    assert ws.state is State.OPEN
    assert ws.subprotocol == "superchat"
    assert ws.extensions == "permessage-deflate"
    assert ws.close_code is None and ws.close_reason is None
    assert repr(ws) == f"<WebSocketStream {URL} OPEN>"


@async_test
async def test_subprotocol_none_when_server_chose_none():
    """subprotocol is None, not "", when the server picked no subprotocol."""
    ws, _ = await open_stream()
    assert ws.subprotocol is None
    assert ws.extensions == ""


@async_test
async def test_close_code_and_reason_after_close():
    """close_code and close_reason report what the browser reported once closed."""
    ws, transport = await open_stream()
    transport.peer_close(4001, "kicked")
    await transport.flush()
    assert ws.state is State.CLOSED
    assert (ws.close_code, ws.close_reason) == (4001, "kicked")
    assert repr(ws) == f"<WebSocketStream {URL} CLOSED>"


@async_test
async def test_buffered_amount_follows_the_browser():
    """buffered_amount is the browser's bufferedAmount (UTF-8 bytes for text)."""
    ws, transport = await open_stream()
    assert ws.buffered_amount == 0
    await ws.send("héllo")
    await ws.send(b"1234")
    assert ws.buffered_amount == 10
    transport.drain(3)
    assert ws.buffered_amount == 7


# -- recv ----------------------------------------------------------------------------


@async_test
async def test_recv_waits_for_a_message():
    """recv() waits until a message arrives, and returns str for text, bytes for binary."""
    ws, transport = await open_stream()
    task = asyncio.create_task(ws.recv())
    await transport.flush()
    assert not task.done()
    transport.receive("text")
    assert await task == "text"
    transport.receive(b"\x00\xff")
    got = await ws.recv()
    assert got == b"\x00\xff" and type(got) is bytes


@async_test
async def test_recv_of_a_received_message_does_not_suspend():
    """A message already received is returned on the coroutine's first step, with no wake-up."""
    ws, transport = await open_stream()
    transport.receive("one", b"two", "three")
    await transport.flush()
    events = transport.events
    assert run_without_suspending(ws.recv()) == "one"
    assert run_without_suspending(ws.recv()) == b"two"
    assert run_without_suspending(ws.recv()) == "three"
    assert transport.want_wake_calls == 0
    assert transport.events == events


@async_test
async def test_ten_thousand_messages_in_order():
    """10,000 text and binary messages, delivered in bursts while reading, come out in order."""
    ws, transport = await open_stream()
    sent = [str(i) if i % 3 else str(i).encode() for i in range(10_000)]

    async def deliver():
        for start in range(0, len(sent), 997):
            transport.receive(*sent[start : start + 997])
            await transport.flush()

    delivery = asyncio.create_task(deliver())
    got = [await ws.recv() for _ in sent]
    await delivery
    assert got == sent
    assert [type(m) for m in got] == [type(m) for m in sent]
    # Bursts are read from the backlog: far fewer wake-ups than messages.
    assert transport.events < 100


@async_test
async def test_burst_is_read_without_any_wake_up():
    """A burst that arrived while nobody was reading is read with no event at all."""
    ws, transport = await open_stream()
    events = transport.events
    transport.receive(*(f"m{i}" for i in range(1000)))
    await transport.flush()
    assert [await ws.recv() for _ in range(1000)] == [f"m{i}" for i in range(1000)]
    assert transport.events == events
    assert transport.want_wake_calls == 0


@pytest.mark.parametrize(
    ("code", "reason", "clean", "exc_type"),
    [
        (1000, "bye", True, ConnectionClosedOK),
        (1001, "", True, ConnectionClosedOK),
        (1006, "", False, ConnectionClosedError),
        (4000, "app error", True, ConnectionClosedError),
    ],
)
@async_test
async def test_messages_before_close_stay_readable(code, reason, clean, exc_type):
    """Messages received before a close are returned first; then the close is raised, every time."""
    ws, transport = await open_stream()
    transport.receive("a", b"b", "c")
    transport.peer_close(code, reason, clean)
    transport.receive("after the close")  # the browser drops it
    await transport.flush()
    assert ws.state is State.CLOSED
    assert [await ws.recv() for _ in range(3)] == ["a", b"b", "c"]
    for _ in range(3):
        with pytest.raises(exc_type) as info:
            await ws.recv()
        assert (info.value.code, info.value.reason) == (code, reason)


@async_test
async def test_waiting_recv_raises_when_closed():
    """A recv() waiting for a message raises ConnectionClosed when the connection closes."""
    ws, transport = await open_stream()
    task = asyncio.create_task(ws.recv())
    await transport.flush()
    transport.fail()
    with pytest.raises(ConnectionClosedError) as info:
        await task
    assert info.value.code == 1006


@async_test
async def test_messages_stay_readable_after_our_close():
    """Messages received before close() are still returned by recv() after it."""
    ws, transport = await open_stream()
    transport.receive("x", "y")
    await transport.flush()
    await ws.close()
    assert ws.state is State.CLOSED
    assert await ws.recv() == "x"
    assert await ws.recv() == "y"
    with pytest.raises(ConnectionClosedOK):
        await ws.recv()


@async_test
async def test_cancelled_recv_loses_no_message():
    """Cancelling a waiting recv(), then a message arrives: the next recv() returns it."""
    ws, transport = await open_stream()
    task = asyncio.create_task(ws.recv())
    await transport.flush()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    transport.receive("kept")
    await transport.flush()
    assert await ws.recv() == "kept"


@async_test
async def test_recv_cancelled_after_wake_loses_no_message():
    """A recv() cancelled after a message woke it, before it resumed, leaves the message."""
    ws, transport = await open_stream()
    task = asyncio.create_task(ws.recv())
    await transport.flush()
    transport.receive("kept", "and this")
    # Runs right after the browser task that woke recv(), before recv() resumes.
    asyncio.get_running_loop().call_soon(task.cancel)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert await ws.recv() == "kept"
    assert await ws.recv() == "and this"


@async_test
async def test_recv_cancelled_by_timeout_then_reused():
    """recv() under asyncio.timeout can time out repeatedly without losing later messages."""
    ws, transport = await open_stream()
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.001):
                await ws.recv()
    transport.receive("late")
    assert await ws.recv() == "late"


@async_test
async def test_concurrent_recv_raises_concurrency_error():
    """A second recv() while one waits raises ConcurrencyError; the first still gets its message."""
    ws, transport = await open_stream()
    first = asyncio.create_task(ws.recv())
    await transport.flush()
    with pytest.raises(ConcurrencyError):
        await ws.recv()
    transport.receive("for the first")
    assert await first == "for the first"
    transport.receive("next")
    assert await ws.recv() == "next"  # recv() is usable again


@async_test
async def test_concurrency_error_is_a_runtime_error():
    """The second concurrent recv() can be caught as RuntimeError."""
    ws, transport = await open_stream()
    first = asyncio.create_task(ws.recv())
    await transport.flush()
    with pytest.raises(RuntimeError):
        await ws.recv()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first


# -- async for ----------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001])
@async_test
async def test_async_for_ends_on_clean_close(code):
    """async for yields every message, then ends quietly after a clean close."""
    ws, transport = await open_stream()
    transport.receive("a", b"b")
    transport.peer_close(code, "done")
    got = [message async for message in ws]
    assert got == ["a", b"b"]


@async_test
async def test_async_for_raises_on_abnormal_close():
    """async for yields every message, then raises ConnectionClosedError on a 1006 close."""
    ws, transport = await open_stream()
    transport.receive("a", "b")
    transport.fail()
    got = []
    with pytest.raises(ConnectionClosedError) as info:
        async for message in ws:
            got.append(message)
    assert got == ["a", "b"]
    assert info.value.code == 1006


@async_test
async def test_async_for_raises_on_error_code():
    """async for raises ConnectionClosedError for a clean close with an application code."""
    ws, transport = await open_stream()
    transport.peer_close(4000, "nope")
    with pytest.raises(ConnectionClosedError):
        async for _ in ws:
            pass


# -- send ----------------------------------------------------------------------------


@async_test
async def test_send_str_as_text():
    """send(str) sends a text frame with the same text."""
    ws, transport = await open_stream()
    await ws.send("héllo 🎉")
    await ws.send("")
    assert transport.sent == ["héllo 🎉", ""]


@pytest.mark.parametrize(
    "message",
    [b"\x00bin", bytearray(b"\x00bin"), memoryview(b"\x00bin"), memoryview(b"xx\x00binyy")[2:6]],
    ids=["bytes", "bytearray", "memoryview", "sliced-memoryview"],
)
@async_test
async def test_send_bytes_like_as_binary(message):
    """send() of bytes, bytearray or a contiguous memoryview sends a binary frame, uncopied."""
    ws, transport = await open_stream()
    await ws.send(message)
    assert transport.sent == [b"\x00bin"]
    source = message.obj if isinstance(message, memoryview) else message
    assert transport.binary_sources == [source]  # a view of the caller's buffer


@async_test
async def test_send_non_contiguous_memoryview_is_copied():
    """send() copies a non-contiguous memoryview into contiguous bytes first."""
    ws, transport = await open_stream()
    buffers = [b"abcdef", bytearray(b"abcdefgh"), b"abc"]
    await ws.send(memoryview(buffers[0])[::2])
    await ws.send(memoryview(buffers[1])[1::3])
    await ws.send(memoryview(buffers[2])[::-1])
    assert transport.sent == [b"ace", b"beh", b"cba"]
    for source, buffer in zip(transport.binary_sources, buffers, strict=True):
        assert type(source) is bytes and source is not buffer


@pytest.mark.parametrize("message", [42, 1.5, None, {"a": 1}, ["a"], ("a",), object()])
@async_test
async def test_send_rejects_other_types(message):
    """send() raises TypeError, naming the type, for all but str and bytes-like; sends nothing."""
    ws, transport = await open_stream()
    with pytest.raises(TypeError, match=type(message).__name__):
        await ws.send(message)
    assert transport.sent == []


@pytest.mark.parametrize(
    ("code", "clean", "exc_type"),
    [(1000, True, ConnectionClosedOK), (1006, False, ConnectionClosedError)],
)
@async_test
async def test_send_after_close_raises(code, clean, exc_type):
    """send() after the connection closed raises the close and hands the browser nothing."""
    ws, transport = await open_stream()
    transport.peer_close(code, "", clean)
    await transport.flush()
    for message in ["text", b"binary"]:
        with pytest.raises(exc_type) as info:
            await ws.send(message)
        assert info.value.code == code
    assert transport.sent == []
    assert ws.buffered_amount == 0


@async_test
async def test_send_while_closing_raises():
    """send() after close() started, before the peer answered, raises ConnectionClosed."""
    ws, transport = await open_stream(answer_close=False)
    closing = asyncio.create_task(ws.close())
    await transport.flush()
    assert ws.state is State.CLOSING
    with pytest.raises(ConnectionClosed):
        await ws.send("too late")
    assert transport.sent == []
    transport.peer_close(1000, "")
    await closing


@async_test
async def test_send_under_write_limit_does_not_wait():
    """send() returns without suspending while buffered bytes are at most write_limit."""
    ws, transport = await open_stream(write_limit=100)
    run_without_suspending(ws.send(b"x" * 60))
    run_without_suspending(ws.send("y" * 40))
    assert ws.buffered_amount == 100
    assert transport.sent == [b"x" * 60, "y" * 40]


@async_test
async def test_send_waits_for_drain_over_write_limit():
    """send() that leaves more than write_limit bytes buffered waits until the browser drains."""
    ws, transport = await open_stream(write_limit=100)
    task = asyncio.create_task(ws.send(b"x" * 150))
    await asyncio.sleep(0.02)
    assert transport.sent == [b"x" * 150]  # queued at once...
    assert not task.done()  # ...but the producer is held back
    transport.drain(40)  # 110 left: still over the limit
    await asyncio.sleep(0.02)
    assert not task.done()
    transport.drain()
    async with asyncio.timeout(1):
        await task
    assert ws.buffered_amount == 0


@async_test
async def test_send_waiting_for_drain_raises_when_closed():
    """A send() waiting for the buffer to drain raises ConnectionClosed if the connection drops."""
    ws, transport = await open_stream(write_limit=10)
    task = asyncio.create_task(ws.send(b"x" * 50))
    await asyncio.sleep(0.01)
    assert not task.done()
    transport.fail()
    async with asyncio.timeout(1):
        with pytest.raises(ConnectionClosedError) as info:
            await task
    assert info.value.code == 1006


# -- close -----------------------------------------------------------------------------


@async_test
async def test_close_waits_for_the_closing_handshake():
    """close() sends the code and reason, then waits until the peer's close arrives."""
    ws, transport = await open_stream(answer_close=False)
    task = asyncio.create_task(ws.close(3001, "bye"))
    await transport.flush()
    assert transport.close_calls == [(3001, "bye")]
    assert ws.state is State.CLOSING
    assert not task.done()
    transport.peer_close(3001, "bye")
    await task
    assert ws.state is State.CLOSED
    assert (ws.close_code, ws.close_reason) == (3001, "bye")


@async_test
async def test_close_defaults_to_1000():
    """close() with no arguments sends 1000 and an empty reason."""
    ws, transport = await open_stream()
    await ws.close()
    assert transport.close_calls == [(1000, "")]
    assert ws.close_code == 1000


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1001, ""), (1006, ""), (2999, ""), (5000, ""), (True, ""), ("1000", ""), (1000, "x" * 124)],
)
@async_test
async def test_close_validates_code_and_reason(code, reason):
    """close() raises InvalidCloseCode for a code or reason a page may not send, and stays open."""
    ws, transport = await open_stream()
    with pytest.raises(InvalidCloseCode):
        await ws.close(code, reason)
    assert transport.close_calls == []
    assert ws.state is State.OPEN


@async_test
async def test_close_twice_is_fine():
    """close() twice, in turn or at once, closes once and returns both times."""
    ws, transport = await open_stream(answer_close=False)
    first = asyncio.create_task(ws.close())
    second = asyncio.create_task(ws.close(4000, "other"))
    await transport.flush()
    assert not first.done() and not second.done()
    transport.peer_close(1000, "")
    await asyncio.gather(first, second)
    await ws.close()
    assert transport.close_calls == [(1000, "")]
    assert ws.close_code == 1000


@async_test
async def test_close_after_peer_closed_does_nothing():
    """close() on a connection the server closed returns at once without calling the browser."""
    ws, transport = await open_stream()
    transport.fail()
    await transport.flush()
    await ws.close()
    assert transport.close_calls == []
    assert ws.close_code == 1006


@async_test
async def test_close_still_validates_when_closed():
    """close() with a bad code raises InvalidCloseCode even on a closed connection."""
    ws, _ = await open_stream()
    await ws.close()
    with pytest.raises(InvalidCloseCode):
        await ws.close(1001)


@async_test
async def test_wait_closed_raises_nothing():
    """wait_closed() returns after the connection closes, even abnormally."""
    ws, transport = await open_stream()
    waiter = asyncio.create_task(ws.wait_closed())
    await transport.flush()
    assert not waiter.done()
    transport.fail()
    assert await waiter is None
    assert await ws.wait_closed() is None


@async_test
async def test_abort_closes_without_waiting():
    """abort() starts closing at once (no code) and returns without awaiting anything."""
    ws, transport = await open_stream(answer_close=False)
    assert ws.abort() is None
    assert transport.close_calls == [(None, "")]
    assert ws.state is State.CLOSING
    ws.abort()  # twice: nothing more
    assert transport.close_calls == [(None, "")]


@async_test
async def test_async_with_stream_closes_on_exit():
    """async with on a stream closes it with 1000 on exit, also when the body raises."""
    ws, transport = await open_stream()
    with pytest.raises(KeyError):
        async with ws as entered:
            assert entered is ws
            raise KeyError("body")
    assert transport.close_calls == [(1000, "")]
    assert ws.state is State.CLOSED


# -- options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "exc_type", "message"),
    [
        ("write_limit", None, TypeError, "write_limit must be an int, not NoneType"),
        ("write_limit", -1, ValueError, "write_limit must be >= 0, not -1"),
        ("close_timeout", -1, ValueError, "close_timeout must be a finite number >= 0, not -1"),
        (
            "close_timeout",
            math.nan,
            ValueError,
            "close_timeout must be a finite number >= 0, not nan",
        ),
        (
            "close_timeout",
            math.inf,
            ValueError,
            "close_timeout must be a finite number >= 0, not inf",
        ),
        (
            "close_timeout",
            True,
            TypeError,
            "close_timeout must be a number of seconds or None, not bool",
        ),
        (
            "close_timeout",
            "5",
            TypeError,
            "close_timeout must be a number of seconds or None, not str",
        ),
        ("max_size", -1, ValueError, "max_size must be >= 0, not -1"),
        ("max_size", 1.5, TypeError, "max_size must be an int or None, not float"),
        ("max_size", True, TypeError, "max_size must be an int or None, not bool"),
        ("max_queue", -1, ValueError, "max_queue must be >= 0, not -1"),
        ("max_queue", math.inf, TypeError, "max_queue must be an int or None, not float"),
        ("max_queue", "1", TypeError, "max_queue must be an int or None, not str"),
        ("max_queue_bytes", -1, ValueError, "max_queue_bytes must be >= 0, not -1"),
        ("max_queue_bytes", False, TypeError, "max_queue_bytes must be an int or None, not bool"),
        ("idle_timeout", 0, ValueError, "idle_timeout must be > 0 (or None for no idle timeout)"),
        ("idle_timeout", -1, ValueError, "idle_timeout must be a finite number >= 0, not -1"),
        (
            "idle_timeout",
            math.nan,
            ValueError,
            "idle_timeout must be a finite number >= 0, not nan",
        ),
        (
            "idle_timeout",
            True,
            TypeError,
            "idle_timeout must be a number of seconds or None, not bool",
        ),
        (
            "on_overflow",
            "x",
            ValueError,
            "on_overflow must be one of ('close', 'drop-oldest'), not 'x'",
        ),
        (
            "on_overflow",
            None,
            ValueError,
            "on_overflow must be one of ('close', 'drop-oldest'), not None",
        ),
        ("heartbeat", 30, TypeError, "heartbeat must be a Heartbeat or None, not int"),
    ],
    ids=repr,
)
def test_options_are_validated(option, value, exc_type, message):
    """WebSocketStream raises the exact TypeError/ValueError for a bad option, touching nothing."""
    transport = FakeTransport(URL)
    with pytest.raises(exc_type, match=exactly(message)):
        WebSocketStream(URL, transport, **{option: value})
    assert transport.on_event is not None and transport.close_calls == []


# -- close_timeout ----------------------------------------------------------------------


@fake_clock_test
async def test_close_timeout_stops_waiting_for_a_silent_peer():
    """close() returns after exactly close_timeout; 1006, the reason names the timeout."""
    ws, transport = await open_stream(answer_close=False, close_timeout=2.5)
    transport.receive("before", b"close")
    await transport.flush()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await ws.close(4000, "bye")
    assert loop.time() - start == 2.5
    assert transport.close_calls == [(4000, "bye")]
    assert ws.state is State.CLOSED
    reason = "the peer did not answer the close frame within 2.5 s"
    assert (ws.close_code, ws.close_reason) == (1006, reason)
    assert transport.abandoned == [reason]
    assert [await ws.recv(), await ws.recv()] == ["before", b"close"]
    with pytest.raises(ConnectionClosedError) as info:
        await ws.recv()
    assert (info.value.code, info.value.reason) == (1006, reason)
    transport.peer_close(4000, "bye")  # the browser's late close event changes nothing
    await transport.flush()
    assert ws.close_code == 1006


@fake_clock_test
async def test_close_timeout_default_is_five_seconds():
    """Without close_timeout, close() gives a silent peer 5 s."""
    ws, _ = await open_stream(answer_close=False)
    loop = asyncio.get_running_loop()
    await ws.close()
    assert loop.time() == 5
    assert ws.close_code == 1006


@fake_clock_test
async def test_close_timeout_none_waits_for_the_peer():
    """close_timeout=None waits for the peer's close however long it takes."""
    ws, transport = await open_stream(answer_close=False, close_timeout=None)
    closing = asyncio.create_task(ws.close())
    await asyncio.sleep(1000)
    assert not closing.done()
    assert ws.state is State.CLOSING
    transport.peer_close(1000, "")
    await closing
    assert asyncio.get_running_loop().time() == 1000
    assert (ws.close_code, ws.close_reason) == (1000, "")
    assert transport.abandoned == []


@fake_clock_test
async def test_close_timeout_wakes_a_waiting_recv():
    """A recv() waiting while close() times out raises the 1006 close."""
    ws, _ = await open_stream(answer_close=False, close_timeout=1)
    reader = asyncio.create_task(ws.recv())
    await ws.close()
    with pytest.raises(ConnectionClosedError) as info:
        await reader
    assert info.value.code == 1006


# -- heartbeat and idle_timeout ------------------------------------------------------------


async def sleep_until(when: float) -> None:
    """Sleep until the loop's clock reads ``when``."""
    await asyncio.sleep(when - asyncio.get_running_loop().time())


async def connect_stream(**options: Any) -> tuple[WebSocketStream, FakeTransport]:
    """A stream opened by connect() (which starts its keepalive) over a FakeTransport."""
    transport = FakeTransport(URL)
    transport.open()
    ws = await connect(URL, transport_factory=lambda url, protocols: transport, **options)
    assert ws.state is State.OPEN
    return ws, transport


@fake_clock_test
async def test_heartbeat_pings_every_interval_and_measures_latency():
    """A ping goes out every interval; each reply sets latency and never reaches recv()."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(10, timeout=3))
    assert ws.latency == 0.0
    await sleep_until(9.9)
    assert transport.pings == []
    for n, delay in enumerate([0.5, 1.25, 2.0], start=1):
        await sleep_until(10 * n + 0.001)  # just after the ping (a timer due at 10 * n)
        assert transport.pings == ["ping"] * n
        await sleep_until(10 * n + delay)
        transport.receive("pong")
        await transport.flush()
        assert ws.latency == pytest.approx(delay)
    transport.receive("data")
    assert await ws.recv() == "data"  # the replies were not queued
    assert ws.state is State.OPEN


@fake_clock_test
async def test_heartbeat_without_reply_drops_the_connection():
    """No reply within the timeout: the connection is dropped with 1006 and a reason."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(10, timeout=3))
    transport.receive("kept")
    reader = asyncio.create_task(ws.wait_closed())
    await reader
    assert asyncio.get_running_loop().time() == 13
    reason = "no reply to the heartbeat ping within 3 s"
    assert (ws.close_code, ws.close_reason) == (1006, reason)
    assert transport.pings == ["ping"]
    assert transport.close_calls == [(None, "")]  # the socket was dropped
    assert await ws.recv() == "kept"
    with pytest.raises(ConnectionClosedError) as info:
        await ws.recv()
    assert (info.value.code, info.value.reason) == (1006, reason)


@fake_clock_test
async def test_heartbeat_custom_ping_and_pong_matcher():
    """A callable pong recognises replies; the ping is sent as given (bytes stay bytes)."""
    heartbeat = Heartbeat(5, ping=b"\x09", pong=lambda m: m == b"\x0a")
    ws, transport = await connect_stream(heartbeat=heartbeat)
    await asyncio.sleep(5)
    transport.receive(b"\x0a", b"\x0b")
    assert await ws.recv() == b"\x0b"
    assert transport.pings == [b"\x09"]
    assert transport.pongs == 1
    await asyncio.sleep(6)  # a second ping at 10, then a dropped connection at 15
    assert ws.state is State.OPEN
    await ws.wait_closed()
    assert asyncio.get_running_loop().time() == 15


@fake_clock_test
async def test_idle_timeout_drops_a_silent_connection():
    """With no message for idle_timeout seconds, the connection is dropped with 1006."""
    ws, transport = await connect_stream(idle_timeout=30)
    await ws.wait_closed()
    assert asyncio.get_running_loop().time() == 30
    reason = "nothing received for 30 s (idle_timeout)"
    assert (ws.close_code, ws.close_reason) == (1006, reason)
    assert transport.pings == []


@fake_clock_test
async def test_messages_keep_an_idle_timeout_alive():
    """A message at least every idle_timeout seconds keeps the connection open."""
    ws, transport = await connect_stream(idle_timeout=30)
    for i in range(10):
        await asyncio.sleep(20)
        transport.receive(f"m{i}")
        assert await ws.recv() == f"m{i}"
    assert ws.state is State.OPEN
    await ws.wait_closed()  # silence from t=200: dropped within two idle periods
    assert 230 <= asyncio.get_running_loop().time() <= 260


@fake_clock_test
async def test_heartbeat_replies_keep_an_idle_timeout_alive():
    """Heartbeat replies count as traffic for idle_timeout."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(10, timeout=1), idle_timeout=15)
    for _ in range(10):
        await asyncio.sleep(10)
        transport.receive("pong")
        await transport.flush()
    assert ws.state is State.OPEN
    assert len(transport.pings) == 10


@fake_clock_test
async def test_check_alive_pings_at_once():
    """check_alive() sends a ping now, and the next one an interval later."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(10, timeout=2))
    await asyncio.sleep(3)
    ws.check_alive()
    await asyncio.sleep(0)
    assert transport.pings == ["ping"]
    await asyncio.sleep(1)
    transport.receive("pong")
    await asyncio.sleep(8.5)
    assert transport.pings == ["ping"]
    await asyncio.sleep(0.501)  # just after t=13
    assert transport.pings == ["ping", "ping"]


@fake_clock_test
async def test_check_alive_while_a_ping_waits_does_not_spin():
    """check_alive() while a ping awaits its reply sends no second ping, and the loop runs on."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(10, timeout=5))
    await asyncio.sleep(11)
    ws.check_alive()
    await asyncio.sleep(1)
    assert transport.pings == ["ping"]
    await ws.wait_closed()
    assert asyncio.get_running_loop().time() == 15


@fake_clock_test
async def test_check_alive_without_heartbeat_does_nothing():
    """check_alive() without a heartbeat sends nothing (also with only an idle_timeout)."""
    ws, transport = await open_stream()
    ws.check_alive()
    ws2, transport2 = await connect_stream(idle_timeout=30)
    await asyncio.sleep(1)
    ws2.check_alive()
    await asyncio.sleep(1)
    assert transport.pings == transport2.pings == []
    assert ws2.state is State.OPEN


@fake_clock_test
async def test_keepalive_stops_when_the_connection_closes():
    """After a close, no more pings are sent and the keepalive task ends."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(10), idle_timeout=25)
    await ws.close()
    await asyncio.sleep(100)
    assert transport.pings == []
    assert ws._keepalive is not None and ws._keepalive.done()


# -- limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("big", "size"), [(b"x" * 11, 11), ("é" * 6, 12)], ids=["binary", "text-utf8"]
)
@async_test
async def test_message_over_max_size_closes_with_payload_too_big(big, size):
    """A message one byte over max_size: the earlier ones, then PayloadTooBig; 1009."""
    ws, transport = await open_stream(max_size=10)
    transport.receive("a", b"x" * 10, big, "after")
    await transport.flush()
    assert [await ws.recv(), await ws.recv()] == ["a", b"x" * 10]
    with pytest.raises(PayloadTooBig) as info:
        await ws.recv()
    assert (info.value.size, info.value.max_size) == (size, 10)
    assert info.value.code == 1009
    assert (ws.close_code, ws.state) == (1009, State.CLOSED)
    assert ws.close_reason == f"message of {size} bytes is over max_size=10"
    assert transport.close_calls == [(4009, "message too big")]


@async_test
async def test_max_size_none_has_no_limit():
    """max_size=None lets a message of any size through."""
    ws, transport = await open_stream(max_size=None)
    transport.receive(b"x" * (1 << 20))
    assert len(await ws.recv()) == 1 << 20


@async_test
async def test_queue_overflow_close_after_the_messages_that_fit():
    """on_overflow="close": the messages that fit, then QueueOverflow; close_code 1008."""
    ws, transport = await open_stream(max_queue=3)
    transport.receive("m0", "m1", "m2", "m3", "m4")
    await transport.flush()
    assert [await ws.recv() for _ in range(3)] == ["m0", "m1", "m2"]
    with pytest.raises(QueueOverflow) as info:
        await ws.recv()
    assert info.value.size == (3, 6)
    assert info.value.limit == (3, DEFAULT_MAX_QUEUE_BYTES)
    assert ws.close_code == 1008
    assert transport.close_calls == [(4008, "reader too slow")]


@async_test
async def test_queue_overflow_by_bytes():
    """max_queue_bytes bounds the unread bytes the same way."""
    ws, transport = await open_stream(max_queue_bytes=10)
    transport.receive(b"12345", b"67890", b"x")
    await transport.flush()
    assert [await ws.recv(), await ws.recv()] == [b"12345", b"67890"]
    with pytest.raises(QueueOverflow) as info:
        await ws.recv()
    assert (info.value.size, info.value.limit) == ((2, 10), (None, 10))


@async_test
async def test_reading_keeps_the_queue_under_max_queue():
    """A reader that keeps up never overflows, however many messages pass."""
    ws, transport = await open_stream(max_queue=2)
    for i in range(100):
        transport.receive(f"m{i}")
        assert await ws.recv() == f"m{i}"
    assert ws.state is State.OPEN


@async_test
async def test_drop_oldest_keeps_the_newest_in_order():
    """on_overflow="drop-oldest": the oldest unread are dropped and counted; newest kept in order."""
    ws, transport = await open_stream(max_queue=3, on_overflow="drop-oldest")
    transport.receive(*(f"m{i}" for i in range(10)))
    await transport.flush()
    assert ws.dropped == 7
    assert [await ws.recv() for _ in range(3)] == ["m7", "m8", "m9"]
    assert ws.state is State.OPEN
    transport.receive("m10")
    assert await ws.recv() == "m10"
    assert ws.dropped == 7


@async_test
async def test_drop_oldest_by_bytes():
    """drop-oldest with max_queue_bytes drops just enough old messages for the new one."""
    ws, transport = await open_stream(max_queue_bytes=10, on_overflow="drop-oldest")
    transport.receive(b"aaaa", b"bbbb", b"cc", b"dddddd")
    await transport.flush()
    assert ws.dropped == 2
    assert [await ws.recv(), await ws.recv()] == [b"cc", b"dddddd"]


@async_test
async def test_recv_takes_the_backlog_in_batches_of_messages():
    """recv() moves a backlog into Python at most TAKE_MESSAGES messages at a time."""
    ws, transport = await open_stream(max_queue_bytes=None)
    count = 2 * TAKE_MESSAGES + 100
    transport.receive(*(str(i % 10) for i in range(count)))
    await transport.flush()
    got = [await ws.recv() for _ in range(count)]
    assert got == [str(i % 10) for i in range(count)]
    assert transport.takes == [TAKE_MESSAGES, TAKE_MESSAGES, 100]


@async_test
async def test_recv_takes_the_backlog_in_batches_of_bytes():
    """A batch holds at most TAKE_BYTES bytes, but always at least one message."""
    ws, transport = await open_stream()
    third = TAKE_BYTES // 3
    messages = [b"a" * third] * 4 + [b"b" * (TAKE_BYTES + 1), b"c"]
    transport.receive(*messages)
    await transport.flush()
    assert [await ws.recv() for _ in messages] == messages
    assert transport.takes == [3, 1, 1, 1]
    assert max(transport.takes) <= TAKE_MESSAGES


@async_test
async def test_calls_after_a_failed_connect():
    """A socket that failed before it opened: send() and recv() raise the 1006 close at
    once, close() and abort() do nothing, and a bad close code is still refused."""
    transport = FakeTransport(URL)
    ws = WebSocketStream(URL, transport)
    transport.fail()
    await transport.flush()
    assert ws.state is State.CLOSED
    with pytest.raises(
        ConnectionClosedError, match=exactly("connection closed: 1006 (abnormal closure)")
    ):
        await ws.send("hello")
    with pytest.raises(
        ConnectionClosedError, match=exactly("connection closed: 1006 (abnormal closure)")
    ):
        await ws.recv()
    await ws.close()
    ws.abort()
    assert transport.close_calls == [] and transport.sent == []
    with pytest.raises(
        InvalidCloseCode, match=exactly("close code 1006 is not allowed: use 1000 or 3000-4999")
    ):
        await ws.close(1006)


@async_test
async def test_send_while_the_server_closes_raises_closing():
    """The server's close frame came (CLOSING, no close event yet): send() raises a 1006
    ConnectionClosedError "the connection is closing", and sends nothing."""
    ws, transport = await open_stream()
    transport._closing()  # the server's close frame arrived; its close event has not run
    assert transport.state is State.CLOSING and transport.close_info is None
    with pytest.raises(
        ConnectionClosedError,
        match=exactly("connection closed: 1006 (abnormal closure) 'the connection is closing'"),
    ):
        await ws.send("late")
    assert transport.sent == []


def test_documented_default_limits():
    """The defaults connect() documents: 16 MiB max_size, 64 MiB max_queue_bytes."""
    assert (DEFAULT_MAX_SIZE, DEFAULT_MAX_QUEUE_BYTES) == (16 << 20, 64 << 20)
