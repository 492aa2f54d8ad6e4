"""connection.py: max_size, max_queue / max_queue_bytes and their overflow policies, batched take."""

from __future__ import annotations

import pytest
from fake_transport import FakeTransport, async_test, exactly
from test_connection import URL, open_stream
from websocket_streaming import (
    ConnectionClosedError,
    InvalidCloseCode,
    PayloadTooBig,
    QueueOverflow,
    State,
    WebSocketStream,
)
from websocket_streaming.connection import (
    DEFAULT_MAX_QUEUE_BYTES,
    DEFAULT_MAX_SIZE,
    TAKE_BYTES,
    TAKE_MESSAGES,
)

# -- limits ----------------------------------------------------------------------------------
# Where each bound falls (max_size, max_queue, max_queue_bytes, drop-oldest) is browser.js's
# policy, unit-tested under Node (tests/js/) and in real browsers (test_limits.py). Here:
# what the stream hands the transport, and how it reports what the transport did.


@pytest.mark.parametrize(
    ("options", "limits"),
    [
        ({}, (DEFAULT_MAX_SIZE, None, DEFAULT_MAX_QUEUE_BYTES, False)),
        (
            {
                "max_size": None,
                "max_queue": 3,
                "max_queue_bytes": None,
                "on_overflow": "drop-oldest",
            },
            (None, 3, None, True),
        ),
        ({"max_size": 10, "max_queue_bytes": 10}, (10, None, 10, False)),
    ],
)
@async_test
async def test_the_stream_hands_its_bounds_to_the_transport(options, limits):
    """max_size, max_queue, max_queue_bytes and on_overflow reach the transport's set_limits."""
    _, transport = await open_stream(**options)
    assert transport.limits == limits


@async_test
async def test_payload_too_big_after_the_messages_before_it(caplog):
    """The transport closed for a message over max_size: the earlier ones, then PayloadTooBig
    (1009), logged once as a warning."""
    ws, transport = await open_stream(max_size=10)
    transport.receive("a", b"x" * 10)
    transport.fault_close(PayloadTooBig(11, 10))
    await transport.flush()
    assert [await ws.recv(), await ws.recv()] == ["a", b"x" * 10]
    with pytest.raises(PayloadTooBig) as info:
        await ws.recv()
    assert (info.value.size, info.value.max_size, info.value.code) == (11, 10, 1009)
    assert (ws.close_code, ws.state) == (1009, State.CLOSED)
    assert ws.close_reason == "message of 11 bytes is over max_size=10"
    assert transport.close_calls == [(4009, "message too big")]
    warnings = [r for r in caplog.records if r.name == "websocket_streaming"]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert warnings[0].getMessage() == (
        f"closed the connection to {URL}: message of 11 bytes is over max_size=10"
    )


@async_test
async def test_queue_overflow_after_the_messages_that_fit():
    """The transport closed for unread data over max_queue: the messages held, then
    QueueOverflow with its figures; close_code 1008."""
    ws, transport = await open_stream(max_queue=3)
    transport.receive("m0", "m1", "m2")
    transport.fault_close(QueueOverflow((3, 6), (3, DEFAULT_MAX_QUEUE_BYTES)))
    await transport.flush()
    assert [await ws.recv() for _ in range(3)] == ["m0", "m1", "m2"]
    with pytest.raises(QueueOverflow) as info:
        await ws.recv()
    assert info.value.size == (3, 6)
    assert info.value.limit == (3, DEFAULT_MAX_QUEUE_BYTES)
    assert ws.close_code == 1008
    assert transport.close_calls == [(4008, "reader too slow")]


@async_test
async def test_max_size_none_has_no_limit():
    """max_size=None lets a message of any size through."""
    ws, transport = await open_stream(max_size=None)
    transport.receive(b"x" * (1 << 20))
    assert len(await ws.recv()) == 1 << 20


@async_test
async def test_drop_oldest_drops_are_counted_and_logged(caplog):
    """Messages the transport dropped (drop-oldest) are counted in ``dropped`` and logged
    once per batch that finds new drops; the newest are read in order."""
    caplog.set_level("WARNING", logger="websocket_streaming")
    ws, transport = await open_stream(max_queue=3, on_overflow="drop-oldest")
    transport.hands_over = False  # every message through take(): each batch looks for drops
    transport.receive(*(f"m{i}" for i in range(10)))
    await transport.flush()
    transport.drop_oldest(7)
    assert ws.dropped == 7
    assert [await ws.recv() for _ in range(3)] == ["m7", "m8", "m9"]
    transport.receive("m10")
    assert await ws.recv() == "m10"  # a batch with no new drop: nothing logged
    assert ws.dropped == 7
    transport.receive("m11", "m12", "m13")
    await transport.flush()
    transport.drop_oldest(2)
    assert await ws.recv() == "m13"
    logged = [r.getMessage() for r in caplog.records if r.name == "websocket_streaming"]
    assert logged == [
        f"dropped 7 unread messages from {URL} (on_overflow='drop-oldest'; 7 in all)",
        f"dropped 2 unread messages from {URL} (on_overflow='drop-oldest'; 9 in all)",
    ]


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


def test_batch_bounds_are_the_documented_ones():
    """recv()'s docstring states the batch bounds: 4096 messages / 1 MiB."""
    assert (TAKE_MESSAGES, TAKE_BYTES) == (4096, 1 << 20)
    assert "batches of at most 4096 messages / 1 MiB" in " ".join(
        WebSocketStream.recv.__doc__.split()
    )
