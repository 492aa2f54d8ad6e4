"""The two backends under connect(): the browser's WebSocket ("classic") and Chromium's native
WebSocketStream ("native"), and what "auto" picks. The rest of the browser suite runs on both
in Chromium (conftest.py: modules marked ``both_backends``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import run_in_pyodide
from fault_servers import RestartableServer
from websocket_streaming import connect


@pytest.fixture(scope="module")
def restartable() -> Iterator[RestartableServer]:
    server = RestartableServer()
    yield server
    server.close()


def test_backend_must_be_known():
    """backend= takes "classic", "native", "auto" or None; anything else is a ValueError
    naming the option, raised before any socket is made."""
    for bad in ("Native", "websocketstream", "", 1):
        with pytest.raises(ValueError, match=r"^backend must be one of \('classic', 'native'"):
            connect("ws://127.0.0.1:1/", backend=bad)  # type: ignore[arg-type]
    for good in ("classic", "native", "auto", None):
        assert connect("ws://127.0.0.1:1/", backend=good).backend == good


@run_in_pyodide
async def test_each_backend_where_the_browser_has_it(py, ws_url, engine):
    """ "classic" works everywhere; "native" works in Chromium and elsewhere raises a
    WebSocketError saying the browser lacks WebSocketStream; "auto" picks native where it
    can. Both give str for text and bytes for binary."""
    from websocket_streaming import WebSocketError, connect

    native = engine == "chromium"
    for backend in ("classic", "native", "auto"):
        try:
            ws = await connect(ws_url + "/echo", backend=backend)
        except WebSocketError as exc:
            assert backend == "native" and not native, (backend, exc)
            assert "lacks (Chromium has it" in str(exc) and "WebSocketStream" in str(exc), exc
            continue
        want = "native" if native and backend != "classic" else "classic"
        assert ws._transport.backend == want, (backend, ws._transport.backend)
        async with ws:
            for message in ("text é", b"\x00\xffsmall", bytes(range(256)) * 40):
                await ws.send(message)
                got = await ws.recv()
                assert got == message and type(got) is type(message), (backend, got[:20])


@pytest.mark.engines("chromium")
def test_native_backend_makes_a_flooding_server_wait(py, restartable, engine):
    """Chromium only (Firefox and WebKitGTK have no WebSocketStream: the test above checks
    that they say so): a server sending 500 messages of 64 KiB as fast as it can and a reader
    that pauses for 2 s: over the native backend the server gets less than 16 MB out and
    then waits (TCP backpressure); once the reader reads, every message arrives in order,
    then the close. Over the classic backend the same pause lets it write them all."""
    figures = _flood_with_a_paused_reader(py, flaky_url=restartable.url, engine=engine)
    native, classic = figures["native"], figures["classic"]
    print(
        f"\n[{engine}] server wrote during a 2 s pause: native {native[0] / 1e6:.1f} MB "
        f"(then {native[1] / 1e6:.1f} MB 0.5 s later), classic {classic[0] / 1e6:.1f} MB"
    )
    assert native[0] < 16e6 and native[1] == native[0], figures
    assert classic[0] > 2 * native[0] and classic[0] > 16e6, figures


@run_in_pyodide
async def _flood_with_a_paused_reader(py, flaky_url, engine):
    import asyncio

    from websocket_streaming import connect

    size, count = 65536, 500

    async def written(key):
        async with connect(f"{flaky_url}/flooded?id={key}", backend="classic") as ws:
            return int(await ws.recv())

    figures = {}
    async with asyncio.timeout(60):
        for backend in ("native", "classic"):
            key = f"{backend}-{engine}"
            url = f"{flaky_url}/flood?size={size}&count={count}&close&id={key}"
            ws = await connect(url, backend=backend)
            assert ws._transport.backend == backend
            await asyncio.sleep(2)  # the reader pauses
            paused = await written(key)
            await asyncio.sleep(0.5)
            figures[backend] = (paused, await written(key))
            if backend == "classic":
                await ws.close()
                continue
            for i in range(count):
                message = await ws.recv()
                assert message.startswith(f"{i}.") and len(message) == size, (i, message[:20])
            await ws.wait_closed()  # nothing more, then the server's close
            assert (ws.close_code, ws.close_reason, ws._transport.pending) == (1000, "done", 0)
    return figures
