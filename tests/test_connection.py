"""connection.py: WebSocketStream over a FakeTransport that behaves like a browser WebSocket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_transport import FakeTransport, async_test, real_sleep
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
    assert transport.wake_requests == 0
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
    assert transport.wake_requests == 0


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
async def test_second_recv_racing_the_first_wake_up_raises_concurrency_error():
    """A second recv() after a message woke the first, before it resumed, raises
    ConcurrencyError and leaves the message to the first."""
    ws, transport = await open_stream()
    first = asyncio.create_task(ws.recv())
    await transport.flush()
    transport.receive("for the first")
    await real_sleep(0)  # the message event ran and woke the first, which has not resumed
    assert transport.pending == 0 and not first.done()  # handed over with the wake-up
    with pytest.raises(ConcurrencyError):
        await ws.recv()
    assert await first == "for the first"


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


@async_test
async def test_send_empty_messages_with_nothing_buffered():
    """An empty text or binary message sent with nothing buffered (bufferedAmount stays 0)
    goes out and raises nothing."""
    ws, transport = await open_stream()
    await ws.send("")
    await ws.send(b"")
    assert transport.sent == ["", b""]
    assert ws.buffered_amount == 0


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


@async_test
async def test_connect_failure_before_any_close_info_is_reported_as_1006():
    """A socket CLOSED before the transport has its close info fails the connect as a
    1006 close with no reason."""
    transport = FakeTransport(URL)
    ws = WebSocketStream(URL, transport)
    transport._state = State.CLOSED  # readyState CLOSED, the close event not yet seen
    with pytest.raises(ConnectionFailed) as info:
        await ws.wait_open()
    assert str(info.value) == (
        f"could not connect to {URL}: the browser closed the connection with "
        "1006 (abnormal closure) before it opened "
        "(the server refused it, is unreachable, or rejected the handshake; "
        "browsers do not say which)"
    )


@pytest.mark.parametrize("hands_over", [True, False], ids=["handed", "taken"])
@async_test
async def test_a_waiting_reader_gets_its_message_either_way(hands_over):
    """The two ways of the Transport contract: the message handed over with the wake-up
    (no take() after it), or the wake-up alone and then one take() for the burst."""
    ws, transport = await open_stream()
    transport.hands_over = hands_over
    reader = asyncio.create_task(ws.recv())
    await transport.flush()
    takes = len(transport.takes)
    transport.receive("first", "second")
    assert await reader == "first"
    assert len(transport.takes) - takes == (0 if hands_over else 1)
    assert await ws.recv() == "second"
    assert transport.pending == 0


# -- the seams the edges use ----------------------------------------------------------------


@async_test
async def test_transport_and_write_limit_are_what_the_stream_was_given():
    """transport is the Transport the stream runs on; write_limit the limit it was given."""
    ws, transport = await open_stream(write_limit=1234)
    assert ws.transport is transport
    assert ws.write_limit == 1234


@pytest.mark.parametrize(
    ("close", "clean"),
    [("peer", True), ("fail", False), ("fault", False)],
)
@async_test
async def test_closed_cleanly_says_whether_a_closing_handshake_took_place(close, clean):
    """closed_cleanly: False while open; after the close, True only for a closing handshake
    (not for a dropped connection, nor one we closed for a fault)."""
    ws, transport = await open_stream()
    assert ws.closed_cleanly is False
    if close == "peer":
        transport.peer_close(1000, "bye")
    elif close == "fail":
        transport.fail()
    else:
        transport.fault_close(PayloadTooBig(11, 10))
    await transport.flush()
    assert ws.state is State.CLOSED
    assert ws.closed_cleanly is clean


@async_test
async def test_each_close_is_logged_once_at_info(caplog):
    """A connection that opened logs its close once, at INFO, whatever calls come after."""
    caplog.set_level("INFO", logger="websocket_streaming")
    ws, transport = await open_stream()
    transport.peer_close(1000, "bye")
    await transport.flush()
    ws._on_event()  # a later event (a keepalive drop racing the close) logs nothing more
    logged = [r.getMessage() for r in caplog.records if r.name == "websocket_streaming"]
    assert logged == [f"connection to {URL} closed: {ws.closed_exception()}"]


@async_test
async def test_a_connection_that_never_opened_logs_no_close(caplog):
    """A failed handshake is not a close: it is connect()'s to report (ConnectionFailed)."""
    caplog.set_level("INFO", logger="websocket_streaming")
    transport = FakeTransport(URL)
    ws = WebSocketStream(URL, transport)
    transport.fail()
    await transport.flush()
    assert ws.state is State.CLOSED
    assert [r for r in caplog.records if r.name == "websocket_streaming"] == []
