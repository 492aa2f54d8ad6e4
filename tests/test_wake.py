"""Resuming a waiting reader inside the browser's message event (waiter.py), in real browsers.

Each body runs inside Pyodide once per engine, against the `websockets` echo server. What
must hold with the fast path taken: cancellation and timeouts, an exception in the resumed
code, two connections read by two tasks, contextvars, and floods in order.
"""

from __future__ import annotations

import pytest
from conftest import run_in_pyodide

pytestmark = pytest.mark.both_backends


@run_in_pyodide
async def test_round_trips_resume_inside_the_event(py, ws_url):
    """Sequential round trips resume the reader inside the message event (the fast path),
    each reply in order."""
    from websocket_streaming import connect
    from websocket_streaming.waiter import woken_inside

    before = woken_inside()
    async with connect(ws_url + "/echo") as ws:
        for i in range(200):
            await ws.send(f"ping {i}")
            assert await ws.recv() == f"ping {i}"
    assert woken_inside() - before >= 100, woken_inside() - before


@run_in_pyodide
async def test_cancel_and_timeout_lose_nothing(py, ws_url):
    """A recv() cancelled by asyncio.timeout or task.cancel() while waiting loses no message:
    the next recv() gets the reply that came after."""
    import asyncio

    from websocket_streaming import connect

    async with connect(ws_url + "/echo") as ws:
        for i in range(20):
            try:
                async with asyncio.timeout(0):
                    await ws.recv()
            except TimeoutError:
                pass
            task = asyncio.ensure_future(ws.recv())
            await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await ws.send(f"m{i}")
            assert await ws.recv() == f"m{i}"


@run_in_pyodide
async def test_an_exception_in_the_resumed_code_stays_in_its_task(py, ws_url):
    """A reader that raises right after being resumed fails its own task only; the socket
    and the page go on."""
    import asyncio

    from websocket_streaming import connect

    async with connect(ws_url + "/echo") as ws:

        async def reader():
            message = await ws.recv()
            raise ValueError(f"bad {message}")

        task = asyncio.ensure_future(reader())
        await asyncio.sleep(0)
        await ws.send("one")
        try:
            await task
        except ValueError as exc:
            assert str(exc) == "bad one"
        else:
            raise AssertionError("the reader did not raise")
        await ws.send("two")
        assert await ws.recv() == "two"


@run_in_pyodide
async def test_two_connections_two_tasks_and_contextvars(py, ws_url):
    """Two connections read by two tasks, each in its own context, ping-pong at once: every
    reply in order, each task sees its own context variable."""
    import asyncio
    import contextvars

    from websocket_streaming import connect

    name = contextvars.ContextVar("name")

    async def pinger(label):
        name.set(label)
        async with connect(ws_url + "/echo") as ws:
            for i in range(100):
                await ws.send(f"{label} {i}")
                assert await ws.recv() == f"{label} {i}"
                assert name.get() == label
        return label

    assert await asyncio.gather(pinger("a"), pinger("b")) == ["a", "b"]


@run_in_pyodide
async def test_a_reader_acking_every_message_of_a_flood(py, ws_url):
    """A reader that answers every message of a flood (the case a "sent since the last
    wake" rule gets wrong): all 5,000 messages in order, every ack echoed back after."""
    import json

    from websocket_streaming import connect

    async with connect(ws_url + "/send?n=5000&size=16") as ws:
        for i in range(5000):
            assert (await ws.recv()).startswith(f"{i}"), i
    async with connect(ws_url + "/echo") as ws:
        for i in range(500):
            await ws.send(json.dumps(i))
        got = [json.loads(await ws.recv()) for _ in range(500)]
        assert got == list(range(500))
