"""sync.py, compat_sync.py, compat_websocket.py on CPython: refusals, bad input, the surface.

The blocking behaviour itself (transcripts against the real libraries) is in
test_sync_browser.py; here what needs no browser.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import types

import pytest
from websocket_streaming import WebSocketError, compat, compat_sync, compat_websocket, sync
from websocket_streaming.compat_websocket import (
    WebSocket,
    WebSocketApp,
    WebSocketConnectionClosedException,
    WebSocketException,
    create_connection,
)


@pytest.fixture
def real_websocket_client():
    """The real websocket-client, imported for one test and forgotten after it."""
    before = set(sys.modules)
    import websocket

    yield websocket
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.fixture
def no_real_websockets():
    """Hide the real `websockets` and `websocket` modules (the test servers and the WebKit
    driver import them) for one test."""
    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] in ("websockets", "websocket")}
    for name in saved:
        del sys.modules[name]
    yield
    compat.uninstall()
    sys.modules.update(saved)


@pytest.mark.parametrize("module", [sync, compat_sync, compat_websocket])
def test_all_is_sorted_and_documented(module):
    """Each module's __all__ is sorted, names what exists, and each name has a docstring
    (so does every public method and property of its classes)."""
    names = module.__all__
    key = lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n)  # noqa: E731
    assert names == sorted(names, key=key)
    for name in names:
        value = getattr(module, name)
        assert inspect.getdoc(value), name
        if inspect.isclass(value) and not issubclass(value, BaseException):
            for member, attr in vars(value).items():
                if not member.startswith("_") and isinstance(attr, (types.FunctionType, property)):
                    assert attr.__doc__ and attr.__doc__.strip(), f"{name}.{member}"


# -- sync.run --------------------------------------------------------------------------


def test_run_returns_and_raises_what_the_coroutine_does():
    """Outside Pyodide run() drives the coroutine on a private loop kept across calls."""

    async def answer():
        return asyncio.get_running_loop()

    async def fail():
        raise KeyError("boom")

    assert sync.run(answer(), "first") is sync.run(answer(), "second")
    with pytest.raises(KeyError, match="boom"):
        sync.run(fail(), "failing")


def test_run_inside_an_event_loop_refuses_without_running_the_coroutine():
    """Inside a running loop run() raises CannotBlock at once; the coroutine never ran and
    warns nothing (it is closed)."""
    ran = []

    async def body():
        ran.append(1)

    async def main():
        with pytest.raises(sync.CannotBlock) as caught:
            sync.run(body(), "websocket.create_connection()")
        return str(caught.value)

    text = asyncio.run(main())
    assert ran == []
    assert text.startswith("websocket.create_connection() cannot block here: ")
    assert "running an asyncio event loop" in text and sync.INSTEAD in text
    assert issubclass(sync.CannotBlock, (WebSocketError)) and issubclass(
        sync.CannotBlock, RuntimeError
    )


@pytest.mark.parametrize(
    ("suspending", "said"),
    [
        (False, "no WebAssembly JavaScript Promise Integration (JSPI)"),
        (True, "not entered through a promising call"),
    ],
)
def test_why_cannot_block_in_pyodide(monkeypatch, suspending, said):
    """In Pyodide, can_run_sync() False means no JSPI (no WebAssembly.Suspending: WebKit,
    Node 22 without the flag) or no promising call; the reason says which."""
    wasm = types.SimpleNamespace(**({"Suspending": object} if suspending else {}))
    ffi = types.ModuleType("pyodide.ffi")
    ffi.can_run_sync = lambda: False  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyodide", types.ModuleType("pyodide"))
    monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)
    monkeypatch.setitem(sys.modules, "js", types.SimpleNamespace(WebAssembly=wasm))
    monkeypatch.setattr(sync, "_in_pyodide", lambda: True)
    assert said in (sync.why_cannot_block() or "")
    assert not sync.can_block()
    ffi.can_run_sync = lambda: True  # type: ignore[attr-defined]
    assert sync.why_cannot_block() is None


# -- websocket-client ---------------------------------------------------------------------


def test_the_websocket_client_names_are_there(real_websocket_client):
    """The names websocket-client's users reach for exist, exceptions with the same bases."""
    real = real_websocket_client
    for name in ("create_connection", "WebSocket", "WebSocketApp", "ABNF", "enableTrace"):
        assert hasattr(compat_websocket, name), name
    for name in ("setdefaulttimeout", "getdefaulttimeout", "STATUS_NORMAL"):
        assert getattr(compat_websocket, name) is not None
    for name, value in vars(real._exceptions).items():
        if inspect.isclass(value) and issubclass(value, Exception):
            ours = getattr(compat_websocket, name)
            assert [b.__name__ for b in ours.__bases__] == [b.__name__ for b in value.__bases__]
    for opcode in ("OPCODE_TEXT", "OPCODE_BINARY", "OPCODE_CLOSE", "OPCODE_PING"):
        assert getattr(compat_websocket.ABNF, opcode) == getattr(real.ABNF, opcode)
    for size in (0, 5, 125, 126, 65535, 65536):
        frame = real.ABNF.create_frame(b"x" * size, real.ABNF.OPCODE_BINARY)
        assert compat_websocket._frame_length(size) == len(frame.format()), size


def test_websocket_client_bad_input_is_refused_clearly():
    """Options a page cannot honour name themselves; bad timeouts and ping settings say why;
    an unconnected socket raises websocket-client's closed exception."""
    with pytest.raises(NotImplementedError, match=r"header=.*not possible in a browser"):
        create_connection("ws://x.test/", header=["Authorization: t"])
    with pytest.raises(NotImplementedError, match="sslopt"):
        WebSocket(sslopt={"cert_reqs": 0})
    ws = WebSocket()
    with pytest.raises(TypeError, match="timeout must be a number"):
        ws.settimeout("5")
    with pytest.raises(ValueError, match="out of range"):
        ws.settimeout(-1)
    with pytest.raises(WebSocketConnectionClosedException, match="socket is already closed"):
        ws.send("x")
    with pytest.raises(WebSocketConnectionClosedException, match="Connection is closed"):
        ws.recv()
    with pytest.raises(NotImplementedError, match="whole"):
        ws.send("x", compat_websocket.ABNF.OPCODE_CONT)
    with pytest.raises(WebSocketException, match="fileno"):
        ws.fileno()
    ws.close()  # not connected: nothing to do
    app = WebSocketApp("ws://x.test/")
    with pytest.raises(WebSocketException, match="ping_interval > ping_timeout"):
        app.run_forever(ping_interval=1, ping_timeout=2)
    with pytest.raises(NotImplementedError, match="dispatcher"):
        app.run_forever(dispatcher=object())


def test_blocking_calls_reach_the_core_on_cpython():
    """On CPython the blocking call runs the core's connect(), which says there is no browser."""
    with pytest.raises(WebSocketError, match="no browser here"):
        create_connection("ws://127.0.0.1:9/")
    with pytest.raises(WebSocketError, match="no browser here"):
        compat_sync.connect("ws://127.0.0.1:9/")


# -- install -------------------------------------------------------------------------------


def test_install_registers_the_blocking_modules(no_real_websockets):
    """install() adds websockets.sync.client and websocket-client's websocket; uninstall()
    removes them."""
    compat.install()
    import websocket
    import websocket._exceptions
    import websockets
    from websockets.sync.client import ClientConnection, connect, reconnect

    assert websocket.create_connection is create_connection
    assert websocket._exceptions.WebSocketException is WebSocketException
    assert connect is compat_sync.connect and reconnect is compat_sync.reconnect
    assert ClientConnection is compat_sync.ClientConnection
    assert websockets.sync.client.connect is connect
    with pytest.raises(ModuleNotFoundError, match="cannot accept connections"):
        import websockets.sync.server
    compat.uninstall()
    assert "websocket" not in sys.modules and "websockets.sync.client" not in sys.modules


def test_install_refuses_when_websocket_client_is_imported(
    no_real_websockets, real_websocket_client
):
    """With the real websocket-client already imported, install() raises naming it."""
    with pytest.raises(RuntimeError, match="real websocket library is already imported"):
        compat.install()
    assert sys.modules["websocket"] is real_websocket_client
