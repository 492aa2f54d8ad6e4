"""connection.py: close_timeout, heartbeat and idle_timeout, on the fake transport and a virtual clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_clock import fake_clock_test
from fake_transport import FakeTransport
from test_connection import URL, open_stream
from websocket_streaming import (
    ConnectionClosedError,
    ConnectionClosedOK,
    Heartbeat,
    State,
    WebSocketError,
    WebSocketStream,
    connect,
)

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


@fake_clock_test
async def test_idle_timeout_due_with_a_ping_sends_no_ping():
    """When the idle_timeout expires at the instant a heartbeat ping is due, the connection
    is dropped and no ping is sent."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(10), idle_timeout=10)
    await ws.wait_closed()
    assert asyncio.get_running_loop().time() == 10
    assert ws.close_reason == "nothing received for 10 s (idle_timeout)"
    assert transport.pings == []


@fake_clock_test
async def test_no_keepalive_task_without_heartbeat_or_idle_timeout():
    """connect() without heartbeat or idle_timeout starts no task of its own."""
    ws, _ = await connect_stream()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    await ws.close()


@fake_clock_test
async def test_idle_timeout_checks_every_quarter_period():
    """The idle check runs every idle_timeout / 4: a message at 1 s is seen at 7.5 s, and the
    silence after it drops the connection at 37.5 s."""
    ws, transport = await connect_stream(idle_timeout=30)
    await asyncio.sleep(1)
    transport.receive("m")
    await ws.wait_closed()
    assert asyncio.get_running_loop().time() == 37.5
    assert ws.close_reason == "nothing received for 30 s (idle_timeout)"


# -- send()'s drain, on the virtual clock ------------------------------------------------


@fake_clock_test
async def test_write_limit_default_is_8_mib():
    """Without write_limit, send() returns at once up to 8 MiB buffered, and waits past it."""
    ws, transport = await open_stream()
    await ws.send(b"x" * (8 << 20))  # exactly the limit: no wait
    task = asyncio.create_task(ws.send(b"y"))
    await asyncio.sleep(1)
    assert not task.done() and ws.buffered_amount == (8 << 20) + 1
    transport.drain()
    await asyncio.sleep(0.005)
    assert task.done()


@fake_clock_test
async def test_drain_waits_until_the_limit_polling_every_5_ms():
    """A send() over write_limit returns once the buffer is at most write_limit, seen by a
    poll every 5 ms (browsers fire no event when bufferedAmount falls): not lower, so that
    the browser's buffer never runs dry while the sender waits for the next poll."""
    ws, transport = await open_stream(write_limit=100)
    loop = asyncio.get_running_loop()
    start = loop.time()
    task = asyncio.create_task(ws.send(b"x" * 150))
    await asyncio.sleep(0.012)  # polls at 5 and 10 ms saw 150
    transport.drain(49)  # 101 left: still over the limit
    await asyncio.sleep(0.01)
    assert not task.done()
    transport.drain(1)  # 100: the limit
    async with asyncio.timeout(1):
        await task
    assert loop.time() - start == pytest.approx(0.025)  # the poll at 25 ms saw it


# -- ping() ----------------------------------------------------------------------------------


@fake_clock_test
async def test_ping_sends_now_and_returns_on_the_reply():
    """ping() sends the heartbeat's ping at once and returns the round trip when the reply
    comes, woken by the reply itself (no polling)."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(30, timeout=5))
    pinging = asyncio.create_task(ws.ping())
    await asyncio.sleep(0.25)
    assert transport.pings == ["ping"] and not pinging.done()
    transport.receive("pong")
    assert await pinging == pytest.approx(0.25)
    assert asyncio.get_running_loop().time() == pytest.approx(0.25)  # not a poll later
    assert ws._pong_waiters == []  # nothing left behind per ping


@fake_clock_test
async def test_ping_without_a_reply_raises_connection_closed(caplog):
    """No reply within the heartbeat's timeout: the connection is dropped and ping() raises
    the close (1006), logged as a warning."""
    ws, _ = await connect_stream(heartbeat=Heartbeat(30, timeout=2))
    with pytest.raises(ConnectionClosedError) as info:
        await ws.ping()
    reason = "no reply to the heartbeat ping within 2 s"
    assert (info.value.code, info.value.reason) == (1006, reason)
    assert asyncio.get_running_loop().time() == 2
    assert [r.getMessage() for r in caplog.records if r.name == "websocket_streaming"] == [
        f"dropping the connection to {URL}: {reason}"
    ]


@fake_clock_test
async def test_ping_needs_a_heartbeat_and_an_open_connection():
    """Without a heartbeat, ping() raises WebSocketError saying why; once closed, the close."""
    ws, transport = await connect_stream()
    with pytest.raises(WebSocketError, match="ping\\(\\) needs a heartbeat"):
        await ws.ping()
    beating, transport = await connect_stream(heartbeat=Heartbeat(30))
    transport.answer_close = False
    closing = asyncio.create_task(beating.close(4000, "going"))
    await transport.flush()
    with pytest.raises(ConnectionClosedError) as info:  # closing: at once, with our close
        await beating.ping()
    assert (info.value.code, transport.pings) == (4000, [])
    closing.cancel()
    transport.peer_close(1000, "bye")
    await transport.flush()
    with pytest.raises(ConnectionClosedOK):
        await beating.ping()
