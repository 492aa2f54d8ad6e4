"""websocket_streaming.compat in a real browser: `websockets` programs run unchanged.

The programs in tests/compat_programs/ are written as a `websockets` user writes them.
Each runs on CPython with the real `websockets` library and in the page under our layer,
against the same real `websockets` server; the transcripts must be equal. The files are
read on the host and shipped to the page as source strings.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from conftest import run_in_pyodide

PROGRAMS = sorted((Path(__file__).parent / "compat_programs").glob("*.py"))

_RUN_IN_PAGE = """
from websocket_streaming import compat
compat.install()
_namespace = {{"__name__": {name!r}}}
exec(compile({source!r}, {filename!r}, "exec"), _namespace)
result = await _namespace["main"]({uri!r})
"""


def run_on_cpython(path: Path, uri: str) -> list[str]:
    """Run a program's main(uri) with the real `websockets` library, on this CPython."""
    namespace: dict[str, object] = {"__name__": path.stem}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return asyncio.run(namespace["main"](uri))  # type: ignore[operator]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_program_transcript_equals_real_websockets(py, ws_url, program):
    """The same file gives the same transcript in the browser (our layer) as on CPython
    (the real `websockets`), against the same `websockets` server."""
    expected = run_on_cpython(program, ws_url)
    code = _RUN_IN_PAGE.format(
        name=program.stem, source=program.read_text(), filename=program.name, uri=ws_url
    )
    got = py.run(code, timeout=60)
    assert got == expected, json.dumps({"browser": got, "cpython": expected}, indent=1)


@run_in_pyodide
async def test_imports_resolve_to_our_classes(py):
    """After install(), websockets' import paths name our connect, connection and exceptions."""
    import importlib

    import websocket_streaming
    from websocket_streaming import compat

    compat.install()
    compat.install()  # twice: harmless
    import websockets
    import websockets.client
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, WebSocketException

    assert connect is websockets.connect is compat.connect
    assert ClientConnection is compat.ClientConnection
    assert websockets.client.connect is compat.legacy_connect
    assert ConnectionClosed is websocket_streaming.ConnectionClosed
    assert WebSocketException is websocket_streaming.WebSocketError
    assert issubclass(websocket_streaming.ConnectionFailed, InvalidHandshake)
    for name, why in [("websockets.sync.client", "blocking"), ("websockets.server", "accept")]:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            assert why in str(exc), exc
        else:
            raise AssertionError(f"{name} imported")


@run_in_pyodide
async def test_rejected_handshake_and_refused_options(py, ws_url, refused_url):
    """A refused connection is an InvalidHandshake and an OSError; a browser-impossible option
    is refused naming it; max_size closes with 1009 as websockets does."""
    from websocket_streaming import compat

    compat.install()
    import websockets

    for url in (refused_url, ws_url + "/reject"):
        try:
            await websockets.connect(url, open_timeout=5)
        except websockets.InvalidHandshake as exc:
            assert isinstance(exc, OSError), exc
        else:
            raise AssertionError("connected")
    try:
        websockets.connect(ws_url + "/echo", additional_headers={"Authorization": "x"})
    except NotImplementedError as exc:
        assert "additional_headers" in str(exc) and "browser" in str(exc), exc
    else:
        raise AssertionError("additional_headers accepted")
    async with websockets.connect(ws_url + "/echo", max_size=1000) as ws:
        await ws.send("x" * 1001)
        try:
            await ws.recv()
        except websockets.ConnectionClosedError as exc:
            assert exc.code == 1009 and exc.rcvd.code == 1009, exc
        else:
            raise AssertionError("no PayloadTooBig")


@run_in_pyodide
async def test_ping_with_a_heartbeat_and_without(py, ws_url):
    """ping() is an application-level ping answered by the server when a heartbeat is set
    (latency measured); without one it fails naming the browser's limit."""
    from websocket_streaming import Heartbeat, compat

    compat.install()
    from websockets.asyncio.client import connect

    async with connect(ws_url + "/echo") as ws:
        try:
            await ws.ping()
        except NotImplementedError as exc:
            assert "browser" in str(exc) and "ping" in str(exc), exc
        else:
            raise AssertionError("ping() without a heartbeat")
    heartbeat = Heartbeat(interval=30, ping="ping", pong="pong")
    async with connect(ws_url + "/pong", heartbeat=heartbeat, ping_timeout=5) as ws:
        assert ws.latency == 0
        pong_waiter = await ws.ping()
        latency = await pong_waiter
        assert 0 < latency < 5 and ws.latency == latency, latency
        assert await ws.recv() == "after-pong"  # the reply itself is not handed to the reader


@run_in_pyodide
async def test_surface_options_and_refused_names(py, ws_url):
    """In the page: uri= as a keyword with logger, user_agent_header and empty headers
    accepted; response.headers has the chosen subprotocol; ssl for ws:// raises websockets'
    ValueError; a server name imports and raises when called."""
    from websocket_streaming import compat

    compat.install()
    import websockets
    from websockets import serve
    from websockets.datastructures import Headers, HeadersLike, MultipleValuesError  # noqa: F401

    async with websockets.connect(
        uri=ws_url + "/chat",
        subprotocols=["chat"],
        logger="my.app",
        user_agent_header=None,
        additional_headers={},
    ) as ws:
        assert ws.response.headers["sec-websocket-protocol"] == "chat", ws.response.headers
        assert isinstance(ws.response.headers, Headers) and ws.logger.name == "my.app"
        await ws.send("x")
        assert await ws.recv() == "x"
    try:
        websockets.connect(ws_url + "/echo", ssl=True)
    except ValueError as exc:
        assert "incompatible with a ws:// URI" in str(exc), exc
    else:
        raise AssertionError("ssl=True accepted for ws://")
    try:
        serve(None, "127.0.0.1", 0)
    except NotImplementedError as exc:
        assert "cannot accept connections" in str(exc), exc
    else:
        raise AssertionError("serve() ran")
