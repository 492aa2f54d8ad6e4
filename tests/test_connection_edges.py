"""connection.py: the edges the mutation run (tools/mutate.py) found unguarded: a reader
resumed inside the message event, send() while our close frame waits, a cancelled
wait_closed(), and the keepalive loop ending with the connection."""

from __future__ import annotations

import asyncio

import pytest
from fake_clock import fake_clock_test
from fake_transport import async_test
from test_connection import open_stream
from test_connection_keepalive import connect_stream
from websocket_streaming import ConnectionClosedOK, Heartbeat
from websocket_streaming.waiter import woken_inside


@async_test
async def test_a_message_event_resumes_the_waiting_reader_inside_it():
    """on_event(True) (a message event with nothing else running) resumes the waiting recv()
    inside the call; send() while our close frame waits for the peer's raises
    ConnectionClosedOK with our code; a cancelled wait_closed() leaves no waiter behind."""
    ws, transport = await open_stream(answer_close=False)
    transport.wakes_now = True
    reader = asyncio.create_task(ws.recv())
    await asyncio.sleep(0)
    before = woken_inside()
    transport.receive("now")
    await transport.flush()
    assert woken_inside() == before + 1
    assert await reader == "now"
    waiting = asyncio.create_task(ws.wait_closed())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    assert ws._state_waiters == []
    closing = asyncio.create_task(ws.close(1000, "bye"))
    await asyncio.sleep(0)
    with pytest.raises(ConnectionClosedOK) as info:
        await ws.send("late")
    assert (info.value.code, info.value.reason) == (1000, "bye")
    transport.peer_close(1000, "bye")
    await closing


@fake_clock_test
async def test_keepalive_loop_ends_when_the_connection_closes():
    """The heartbeat loop ends as soon as the connection closes, not at its next deadline."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(30, timeout=10))
    await asyncio.sleep(1)
    assert ws._keepalive is not None and not ws._keepalive.done()
    transport.peer_close(1000, "")
    await transport.flush()
    assert ws._keepalive is not None and ws._keepalive.done()


@fake_clock_test
async def test_heartbeat_under_a_second_keeps_its_interval():
    """A heartbeat interval under 1 s is kept: pings at 0.25 s, 0.5 s..."""
    ws, transport = await connect_stream(heartbeat=Heartbeat(0.25, ping="p", pong="q"))
    await asyncio.sleep(0.3)
    assert transport.pings == ["p"]
    transport.receive("q")
    await asyncio.sleep(0.25)
    assert transport.pings == ["p", "p"]
    await ws.close()
