"""The Python API in a real browser, against a real `websockets` server on 127.0.0.1.

Each test body runs inside Pyodide (see `run_in_pyodide` in conftest.py), once
per engine, in one shared page per engine.
"""

from __future__ import annotations

import pytest
from conftest import run_in_pyodide
from servers import WebSocketServer

pytestmark = pytest.mark.both_backends


@run_in_pyodide
async def test_text_round_trip(py, ws_url):
    """str is sent as a text frame and comes back as str, unicode intact."""
    from websocket_streaming import State, connect

    async with connect(ws_url + "/echo") as ws:
        assert ws.state is State.OPEN
        for text in ["hello", "", "héllo wörld", "日本語テキスト", "emoji 🎉🐍", "\x00nul"]:
            await ws.send(text)
            got = await ws.recv()
            assert got == text and type(got) is str, (text, got)
    assert ws.state is State.CLOSED


@run_in_pyodide
async def test_binary_round_trip_sizes(py, ws_url):
    """bytes, bytearray and memoryview go out as binary; bytes come back, 0 B to 16 MiB."""
    from websocket_streaming import connect

    async with connect(ws_url + "/echo") as ws:
        for size in [0, 1, 2, 1000, 65536, 1 << 20, 16 << 20]:
            data = bytes((i * 7 + size) & 0xFF for i in range(min(size, 4096))) * (
                size // 4096 or 1
            )
            data = data[:size]
            await ws.send(data)
            got = await ws.recv()
            assert type(got) is bytes and len(got) == size and got == data, size
        await ws.send(bytearray(b"\x00\xff"))
        assert await ws.recv() == b"\x00\xff"
        await ws.send(memoryview(b"abcdef")[1:4])
        assert await ws.recv() == b"bcd"
        await ws.send(memoryview(b"abcdef")[::2])  # not contiguous: copied once, then sent
        assert await ws.recv() == b"ace"


@run_in_pyodide
async def test_binary_sends_keep_their_own_bytes(py, ws_url):
    """Binary messages (up to 256 KiB copied through one outbox per socket) keep their own
    content when many of one length are sent back to back; any buffer format, 2-D too;
    either side of the outbox's growth and of the 256 KiB boundary; after Pyodide's memory
    grows (the browser's view of the outbox is gone and made again); the outbox is let go
    at the close."""
    import array

    from pyodide.ffi import jsnull
    from websocket_streaming import connect
    from websocket_streaming.browser import SEND_COPY_MAX

    async with connect(ws_url + "/echo") as ws:
        sent = [bytes([i & 0xFF]) * (i % 7) + i.to_bytes(4, "little") for i in range(3000)]
        for data in sent:
            await ws.send(data)
        for i, data in enumerate(sent):
            assert await ws.recv() == data, i
        for size in (0, 1023, 1024, 1025, 4096, 70_000, SEND_COPY_MAX, SEND_COPY_MAX + 1):
            for fill in (1, 2):
                await ws.send(bytes([fill]) * size)
            for fill in (1, 2):
                assert await ws.recv() == bytes([fill]) * size, size
        assert len(ws._transport._outbox) == SEND_COPY_MAX, len(ws._transport._outbox)
        outbox = ws._transport._js.outbox
        hog = []
        while outbox.data.byteLength > 0:  # allocate until Pyodide's memory grows
            assert len(hog) < 64, "Pyodide's memory did not grow"
            hog.append(bytearray(16 << 20))
        await ws.send(b"after the growth")
        assert await ws.recv() == b"after the growth"
        assert ws._transport._js.outbox.data.byteLength > 0, "not made again"
        del hog
        ints = array.array("i", range(-3, 5))
        await ws.send(memoryview(ints))
        assert await ws.recv() == ints.tobytes()
        big = array.array("d", range(2000))  # 16,000 B of doubles
        await ws.send(memoryview(big))
        assert await ws.recv() == big.tobytes()
        square = memoryview(bytes(range(12))).cast("B", (3, 4))
        await ws.send(square)
        assert await ws.recv() == bytes(range(12))
    assert ws._transport._js.outbox is jsnull  # let go at the close


@run_in_pyodide
async def test_long_text_messages_packed_as_utf8(py, ws_url):
    """Text of 128 characters or more reaches Python as UTF-8 (packed by take(), also when a
    waiting reader is woken by it) and comes out equal: ASCII, 2-, 3- and 4-byte characters
    (surrogate pairs in JS), either side of the threshold, 64 KiB, mixed with short text and
    binary in one batch, in order; two sockets' batches read in turns."""
    import asyncio

    from pyodide.code import run_js
    from websocket_streaming import connect
    from websocket_streaming.browser import TEXT_PACK_MIN

    # Resolves once n messages wait in a socket's JS queue: browser.js calls the state's
    # notify hook on each message while it is set (the hook sets it again until then).
    queued = run_js("""(s, n) => new Promise((ok) => {
      const check = () => (s.size >= n ? ok() : (s.notify = check));
      check();
    })""")
    assert TEXT_PACK_MIN == 128
    samples = [
        "a" * 127,
        "b" * 128,
        "é" * 200,
        "日本" * 100,
        "🎉🐍" * 64,
        "x" * 65536,
        "mixed é 日 🎉 " * 40,
        "",
        "short",
    ]
    async with connect(ws_url + "/echo") as ws:
        for text in samples:  # one at a time: each wakes a waiting reader
            await ws.send(text)
            got = await ws.recv()
            assert got == text and type(got) is str, (len(text), len(got))
        # Under 1 MiB in all, which the native backend holds unread before it stops pulling.
        small = [s for s in samples if len(s) < 1000] * 20 + ["y" * 65536]
        batch = [s if i % 3 else s.encode() for i, s in enumerate(small)]
        for message in batch:
            await ws.send(message)
        async with asyncio.timeout(10):  # all back before reading, so they go as one batch
            await queued(ws._transport.js_state, len(batch))
        got = [await ws.recv() for _ in batch]
        assert got == batch
        assert [type(m) for m in got] == [type(m) for m in batch]
        # Two sockets pack into one shared buffer: batches read in turns keep their own text.
        async with connect(ws_url + "/echo") as other:
            texts = {ws: [f"{i} " + "p" * 300 for i in range(50)]}
            texts[other] = [f"{i} " + "q" * 3000 for i in range(50)]
            for sock, sent in texts.items():
                for text in sent:
                    await sock.send(text)
            async with asyncio.timeout(10):
                for sock in texts:
                    await queued(sock._transport.js_state, 50)
            for i in range(50):
                for sock, sent in texts.items():
                    assert await sock.recv() == sent[i], i


@run_in_pyodide
async def test_ten_thousand_messages_in_order(py, ws_url):
    """10,000 messages sent by the server arrive complete and in order, text and binary."""
    from websocket_streaming import connect

    async with connect(ws_url + "/send?n=10000&size=8") as ws:
        for i in range(10000):
            assert await ws.recv() == str(i).ljust(8, "."), i
    async with connect(ws_url + "/send?n=10000&binary") as ws:
        for i in range(10000):
            assert await ws.recv() == str(i).encode(), i


@run_in_pyodide
async def test_echo_ordering_interleaved(py, ws_url):
    """Interleaved text, empty, small and large binary sends come back in order and intact."""
    import asyncio

    from websocket_streaming import connect

    def message(i):
        kind = i % 4
        if kind == 0:
            return str(i)
        if kind == 1:
            return b"" if i % 8 == 1 else str(i).encode()
        if kind == 2:
            return bytes([i & 255]) * 5000  # over the 4 KiB packing threshold
        return "é" * (i % 50)

    async with connect(ws_url + "/echo") as ws:
        sent = [message(i) for i in range(2000)]
        for m in sent:
            await ws.send(m)
        # Replies pile up (500 of them: the native backend holds at most 1 MiB unread), so
        # that recv() takes them in batches.
        async with asyncio.timeout(10):
            while ws._transport.pending < 500:
                await asyncio.sleep(0.005)
        got = [await ws.recv() for _ in sent]
        assert got == sent


@run_in_pyodide
async def test_async_for_ends_on_normal_close(py, ws_url):
    """async for yields every message then ends quietly when the server closes with 1000."""
    from websocket_streaming import ConnectionClosedOK, connect

    async with connect(ws_url + "/close?n=50&code=1000&reason=done") as ws:
        got = [message async for message in ws]
        assert got == [str(i) for i in range(50)]
        assert (ws.close_code, ws.close_reason) == (1000, "done")
        try:
            await ws.recv()
        except ConnectionClosedOK as exc:
            assert (exc.code, exc.reason) == (1000, "done")
        else:
            raise AssertionError("recv() after the close should raise")


@run_in_pyodide
async def test_server_close_code_and_reason(py, ws_url):
    """A server close with 4001 keeps earlier messages readable, then raises ConnectionClosedError."""
    from websocket_streaming import ConnectionClosed, ConnectionClosedError, State, connect

    ws = await connect(ws_url + "/close?n=3&code=4001&reason=h%C3%A9las")
    await ws.wait_closed()  # the close arrives before anything is read...
    assert ws.state is State.CLOSED
    assert [await ws.recv() for _ in range(3)] == ["0", "1", "2"]  # ...and nothing is lost
    for _ in range(2):  # keeps raising
        try:
            await ws.recv()
        except ConnectionClosedError as exc:
            assert isinstance(exc, ConnectionClosed)
            assert (exc.code, exc.reason) == (4001, "hélas")
            assert "4001" in str(exc) and "hélas" in str(exc)
        else:
            raise AssertionError("expected ConnectionClosedError")
    try:
        async for _ in ws:
            raise AssertionError("no message left")
    except ConnectionClosedError:
        pass
    else:
        raise AssertionError("async for must raise after an error close")


def test_client_close_code_and_reason(py, ws_server: WebSocketServer, engine):
    """close(4000, reason) reaches the server with that code and reason; 1000 too."""
    code = f"""
    from websocket_streaming import State, connect
    ws = await connect("{ws_server.url}/echo?id={engine}-4000")
    await ws.close(4000, "bye ✓")
    a = (ws.state is State.CLOSED, ws.close_code, ws.close_reason)
    ws = await connect("{ws_server.url}/echo?id={engine}-1000")
    await ws.close()
    await ws.close()  # closing twice is harmless
    result = [a, (ws.close_code, ws.close_reason)]
    """
    assert py.run(code) == [[True, 4000, "bye ✓"], [1000, ""]]
    assert ws_server.close_received(f"{engine}-4000") == (4000, "bye ✓")
    assert ws_server.close_received(f"{engine}-1000") == (1000, "")


@run_in_pyodide
async def test_bad_close_arguments(py, ws_url):
    """close() rejects codes and reasons a browser may not send, and the socket stays open."""
    from websocket_streaming import InvalidCloseCode, State, connect

    async with connect(ws_url + "/echo") as ws:
        for code, reason in [
            (1001, ""),
            (2999, ""),
            (5000, ""),
            (1000, "x" * 124),
            (1000, "é" * 62),
        ]:
            try:
                await ws.close(code, reason)
            except InvalidCloseCode as exc:
                assert isinstance(exc, ValueError)
            else:
                raise AssertionError(f"close({code}, {len(reason)} chars) should fail")
        assert ws.state is State.OPEN
        await ws.send("still here")
        assert await ws.recv() == "still here"
        await ws.close(1000, "x" * 123)  # exactly the limit is fine


@run_in_pyodide
async def test_abrupt_drop_is_1006(py, ws_url):
    """A TCP drop without a close frame gives 1006; messages before it stay readable."""
    from websocket_streaming import ConnectionClosedError, connect

    ws = await connect(ws_url + "/drop?n=5")
    got = []
    try:
        async for message in ws:
            got.append(message)
    except ConnectionClosedError as exc:
        assert exc.code == 1006, exc.code
    else:
        raise AssertionError("a dropped connection must raise ConnectionClosedError")
    assert got == ["0", "1", "2", "3", "4"]
    assert ws.close_code == 1006


@run_in_pyodide
async def test_send_after_close_fails(py, ws_url):
    """send() on a closed connection raises ConnectionClosed instead of dropping the message."""
    from websocket_streaming import ConnectionClosed, connect

    ws = await connect(ws_url + "/echo")
    await ws.close()
    for message in ["text", b"bytes"]:
        try:
            await ws.send(message)
        except ConnectionClosed as exc:
            assert exc.code == 1000
        else:
            raise AssertionError("send() after close must raise")


@run_in_pyodide
async def test_send_rejects_other_types(py, ws_url):
    """send() raises TypeError for anything but str and bytes-like, and sends nothing."""
    from websocket_streaming import connect

    async with connect(ws_url + "/echo") as ws:
        for bad in [42, None, {"a": 1}, ["x"], 1.5]:
            try:
                await ws.send(bad)
            except TypeError as exc:
                assert type(bad).__name__ in str(exc)
            else:
                raise AssertionError(f"send({bad!r}) should raise TypeError")
        await ws.send("after")
        assert await ws.recv() == "after"


@run_in_pyodide
async def test_connection_refused(py, ws_url, refused_url):
    """A refused connection or rejected handshake raises ConnectionFailed, an OSError naming the URL."""
    from websocket_streaming import ConnectionFailed, WebSocketError, connect

    for url in [refused_url, ws_url + "/reject"]:
        try:
            await connect(url, open_timeout=20)
        except ConnectionFailed as exc:
            assert isinstance(exc, OSError) and isinstance(exc, WebSocketError)
            assert url in str(exc), str(exc)
        else:
            raise AssertionError(f"connecting to {url} should fail")


@run_in_pyodide
async def test_invalid_urls(py):
    """Bad URLs raise InvalidURI (a ValueError) before any socket is made."""
    from websocket_streaming import InvalidURI, connect

    for url in [
        "ftp://127.0.0.1/",
        "javascript:void(0)",
        "ws://",
        "ws://host/#frag",
        "https://",
        42,
        "ws://h:99999/",
    ]:
        try:
            await connect(url)
        except InvalidURI as exc:
            assert isinstance(exc, ValueError)
        else:
            raise AssertionError(f"{url!r} should be rejected")


@run_in_pyodide
async def test_subprotocol_negotiation(py, ws_url):
    """The subprotocol the server picks is exposed; none offered gives None."""
    from websocket_streaming import connect

    async with connect(ws_url + "/chat", subprotocols=["chat", "superchat"]) as ws:
        assert ws.subprotocol == "superchat"
    async with connect(ws_url + "/chat", subprotocols=["chat"]) as ws:
        assert ws.subprotocol == "chat"
    async with connect(ws_url + "/chat") as ws:
        assert ws.subprotocol is None
        assert ws.url == ws_url + "/chat"
        assert ws.buffered_amount == 0


@run_in_pyodide
async def test_cancel_recv_loses_nothing(py, ws_url):
    """A recv() cancelled while waiting loses no message; a concurrent recv() is refused."""
    import asyncio

    from websocket_streaming import ConcurrencyError, connect

    async with connect(ws_url + "/echo") as ws:
        task = asyncio.ensure_future(ws.recv())
        await asyncio.sleep(0)  # the task starts, and waits
        try:
            await ws.recv()
        except ConcurrencyError:
            pass
        else:
            raise AssertionError("a second concurrent recv() must raise ConcurrencyError")
        task.cancel()
        await asyncio.sleep(0)
        await ws.send("kept")
        async with asyncio.timeout(5):  # the echo arrives while no reader waits: handed
            while not (ws._messages or ws._transport.pending):  # over, or left in the queue
                await asyncio.sleep(0.005)
        assert task.cancelled()
        assert await ws.recv() == "kept"


@run_in_pyodide
async def test_no_proxy_leak_over_200_connections(py, ws_url):
    """Opening and closing 200 connections leaves Pyodide's proxy counts where they started."""
    import gc

    from pyodide_js import _module
    from websocket_streaming import connect

    async def cycle(n):
        for i in range(n):
            ws = await connect(ws_url + "/echo")
            await ws.send(str(i))
            assert await ws.recv() == str(i)
            await ws.send(bytes(i % 9))  # small binary goes through cached views of the socket's
            assert await ws.recv() == bytes(i % 9)
            await ws.close()

    await cycle(5)  # warm up: one-time helpers are created on first use
    gc.collect()
    _module.enable_pyproxy_allocation_tracing()
    try:
        gc.collect()
        pyproxies, jsrefs = _module.pyproxy_alloc_map.size, _module.hiwire.num_keys()
        await cycle(200)
        gc.collect()
        after = _module.pyproxy_alloc_map.size, _module.hiwire.num_keys()
    finally:
        _module.disable_pyproxy_allocation_tracing()
    assert after == (pyproxies, jsrefs), f"before {(pyproxies, jsrefs)}, after {after}"
