"""Bounded memory in real browsers: max_size, max_queue with "close" and "drop-oldest".

A classic WebSocket cannot stop reading, so a reader that pauses during a flood
must not let the page grow without bound. Each test body runs inside Pyodide,
once per engine, against fault_servers.py's flood server on 127.0.0.1, and
prints what the page's memory did (``-s`` shows it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import run_in_pyodide
from fault_servers import RestartableServer


@pytest.fixture(scope="module")
def flood_url() -> Iterator[str]:
    server = RestartableServer()
    yield server.url
    server.close()


@run_in_pyodide
async def test_message_one_byte_over_max_size(py, flood_url):
    """A message one byte over max_size: the earlier messages are read, then PayloadTooBig
    with the size and the limit; the connection is closed, reported as 1009."""
    import asyncio

    from websocket_streaming import PayloadTooBig, State, connect

    async with asyncio.timeout(10):
        ws = await connect(flood_url + "/big?size=100001", max_size=100000)
        assert await ws.recv() == b"a" and await ws.recv() == b"b"
        try:
            await ws.recv()
        except PayloadTooBig as exc:
            assert (exc.size, exc.max_size, exc.code) == (100001, 100000, 1009), exc
            assert str(exc) == (
                "connection closed: 1009 (message too big) "
                "'message of 100001 bytes is over max_size=100000'"
            )
        else:
            raise AssertionError("the big message was delivered")
        assert ws.state is State.CLOSED and ws.close_code == 1009
        try:
            await ws.recv()  # the message after it was never queued
        except PayloadTooBig:
            pass
        ws = await connect(flood_url + "/big?size=100000", max_size=100000)  # at the limit
        got = [await ws.recv() for _ in range(4)]
        assert [len(m) for m in got] == [1, 1, 100000, 5]
        await ws.close()


@run_in_pyodide
async def test_paused_reader_with_close_policy(py, flood_url):
    """A server floods 1 KiB messages at a reader that reads nothing until the stream is
    closed: the queue stops at max_queue_bytes, the reader gets every message that fit, in
    order, then QueueOverflow; the page's memory grows by little more than the bound."""
    import asyncio

    import pyodide_js
    from websocket_streaming import QueueOverflow, connect

    import js

    def wasm_mib():
        return pyodide_js._module.HEAP8.length / 2**20

    bound = 8 << 20
    before = wasm_mib()
    async with asyncio.timeout(60):
        # Twice the bound, then the server stops: an unbounded flood could keep the server's
        # thread writing to a closing socket while the next test connects.
        ws = await connect(flood_url + "/flood?size=1024&count=16384", max_queue_bytes=bound)
        await ws.wait_closed()  # the reader "pauses" until the bound closes the stream
        count = 0
        try:
            while True:
                message = await ws.recv()
                assert message.startswith(f"{count}."), (count, message[:20])
                count += 1
        except QueueOverflow as exc:
            assert exc.code == 1008 and exc.limit == (None, bound), exc
            assert exc.size == (count, count * 1024), (exc.size, count)
    assert count == bound // 1024, count
    grown = wasm_mib() - before
    heap = getattr(js.performance, "memory", None)  # Chromium only
    heap_text = f", JS heap {heap.usedJSHeapSize / 2**20:.1f} MiB" if heap else ""
    print(f"close policy: {count} messages kept, WebAssembly memory +{grown:.1f} MiB{heap_text}")
    assert grown < 3 * bound / 2**20 + 16, grown


@run_in_pyodide
async def test_paused_reader_with_drop_oldest(py, flood_url):
    """20,000 messages of 1 KiB at a reader that waits for the close before reading, with
    drop-oldest and a 1 MiB bound: the dropped count is exact and the newest messages are
    read in order."""
    import asyncio

    from websocket_streaming import connect

    async with asyncio.timeout(60):
        url = flood_url + "/flood?size=1024&count=20000&close"
        ws = await connect(url, max_queue_bytes=1 << 20, on_overflow="drop-oldest")
        await ws.wait_closed()
        got = [message async for message in ws]
    assert len(got) == 1024 and ws.dropped == 20000 - 1024, (len(got), ws.dropped)
    assert [int(m.split(".")[0]) for m in got] == list(range(20000 - 1024, 20000))
    assert ws.close_code == 1000


@run_in_pyodide
async def test_max_queue_by_count(py, flood_url):
    """max_queue bounds unread messages by count, with either policy."""
    import asyncio

    from websocket_streaming import QueueOverflow, connect

    async with asyncio.timeout(30):
        url = flood_url + "/flood?size=10&count=500&close"
        ws = await connect(url, max_queue=100, on_overflow="drop-oldest")
        await ws.wait_closed()
        got = [message async for message in ws]
        assert len(got) == 100 and ws.dropped == 400, (len(got), ws.dropped)
        ws = await connect(url, max_queue=100)
        await ws.wait_closed()
        got = []
        try:
            async for message in ws:
                got.append(message)
        except QueueOverflow as exc:
            assert exc.limit[0] == 100 and exc.size[0] == 100
        assert len(got) == 100
