"""compat.py: the `websockets` client API over the core, on CPython with the fake transport."""

from __future__ import annotations

import asyncio
import sys
import uuid

import pytest
import websockets as real_websockets
import websockets.protocol as real_protocol
from fake_transport import FakeFactory as Factory
from fake_transport import async_test, real_sleep
from websocket_streaming import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    Heartbeat,
    InvalidCloseCode,
    InvalidHandshake,
    PayloadTooBig,
    State,
    WebSocketError,
    compat,
)
from websocket_streaming.exceptions import Close

URL = "ws://fake.test/chat?room=1"


@pytest.fixture
def no_real_websockets():
    """Hide the real `websockets` modules (the test servers import them) and websocket-client's
    `websocket` (the WebKit driver may import it) for one test."""
    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] in ("websockets", "websocket")}
    for name in saved:
        del sys.modules[name]
    yield
    compat.uninstall()
    sys.modules.update(saved)


async def _open(**options):
    factory = options.pop("factory", None) or Factory(protocol=options.pop("protocol", ""))
    ws = await compat.connect(URL, transport_factory=factory, **options)
    return ws, factory.transports[0]


# -- install ------------------------------------------------------------------------


def test_install_registers_the_websockets_modules(no_real_websockets):
    """install() makes websockets' client import paths resolve to compat; twice is harmless."""
    module = compat.install()
    assert compat.install() is module
    import websockets
    import websockets.client
    import websockets.legacy.client
    from websockets.asyncio.client import ClientConnection, connect, process_exception
    from websockets.exceptions import ConnectionClosed as Closed
    from websockets.frames import Close as FrameClose
    from websockets.protocol import State as WsState

    assert websockets is module
    assert connect is websockets.connect is compat.connect
    assert ClientConnection is compat.ClientConnection
    assert process_exception is compat.process_exception
    assert websockets.client.connect is websockets.legacy.client.connect is compat.legacy_connect
    assert Closed is ConnectionClosed and FrameClose is Close and WsState is State


def test_uninstall_removes_the_modules(no_real_websockets):
    """uninstall() removes every module install() added, and the import hook; twice is harmless."""
    compat.install()
    compat.uninstall()
    compat.uninstall()
    assert not [n for n in sys.modules if n == "websockets" or n.startswith("websockets.")]
    assert not any(isinstance(f, compat._Finder) for f in sys.meta_path)


def test_install_refuses_when_the_real_library_is_imported():
    """With the real websockets already imported, install() raises and changes nothing."""
    assert sys.modules["websockets"] is real_websockets
    with pytest.raises(RuntimeError, match="real websockets library is already imported"):
        compat.install()
    assert sys.modules["websockets"] is real_websockets


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("websockets.sync.server", "cannot accept connections"),
        ("websockets.asyncio.server", "cannot accept connections"),
        ("websockets.server", "cannot accept connections"),
        ("websockets.extensions", "asyncio client only"),
    ],
)
def test_missing_modules_say_why(no_real_websockets, name, why):
    """A websockets module compat does not provide fails to import, saying why."""
    import importlib

    compat.install()
    with pytest.raises(ModuleNotFoundError, match=why):
        importlib.import_module(name)


# -- exceptions -----------------------------------------------------------------------


def test_our_exceptions_are_websockets_exceptions():
    """What the core raises is caught by websockets' names: ConnectionFailed is an
    InvalidHandshake and an OSError, PayloadTooBig a ConnectionClosedError."""
    names = compat.EXCEPTIONS
    assert names["WebSocketException"] is WebSocketError
    assert names["InvalidHandshake"] is InvalidHandshake
    assert isinstance(ConnectionFailed("x"), (InvalidHandshake, OSError))
    assert isinstance(PayloadTooBig(2, 1), names["ConnectionClosedError"])
    assert issubclass(names["InvalidStatus"], InvalidHandshake)


@pytest.mark.parametrize(
    ("exc", "rcvd"),
    [
        (ConnectionClosedOK(1000, "bye"), Close(1000, "bye")),
        (ConnectionClosedError(4001, "no"), Close(4001, "no")),
        (ConnectionClosedError(1006, ""), None),
        (PayloadTooBig(11, 10), Close(1009, "message of 11 bytes is over max_size=10")),
    ],
)
def test_connection_closed_rcvd_and_sent(exc, rcvd):
    """ConnectionClosed has .rcvd/.sent Close objects (None for 1006) besides .code/.reason."""
    assert exc.rcvd == rcvd and exc.sent == rcvd
    assert exc.rcvd_then_sent is None
    if rcvd is not None:
        assert (exc.rcvd.code, exc.rcvd.reason) == (exc.code, exc.reason)


def test_state_values_are_websockets_values():
    """State has the names and values of websockets.protocol.State."""
    assert {s.name: s.value for s in State} == {s.name: s.value for s in real_protocol.State}


# -- the connection -----------------------------------------------------------------------


@async_test
async def test_await_connect_returns_a_client_connection():
    """await connect() returns a ClientConnection: id, addresses, request and response."""
    ws, transport = await _open(subprotocols=["chat"], protocol="chat")
    assert isinstance(ws, compat.ClientConnection)
    assert isinstance(ws.id, uuid.UUID)
    assert ws.local_address is None and ws.remote_address is None
    assert ws.subprotocol == "chat" and ws.state is State.OPEN
    assert ws.request.path == "/chat?room=1"
    assert ws.request.headers["sec-websocket-protocol"] == "chat"
    assert ws.response.status_code == 101
    assert list(ws.response.headers.raw_items()) == [("Sec-WebSocket-Protocol", "chat")]
    assert transport.protocols == ["chat"]
    await ws.close()


@async_test
async def test_recv_decode():
    """recv() returns str/bytes as sent; decode=True decodes binary, decode=False encodes text."""
    ws, transport = await _open()
    transport.receive("té", b"t\xc3\xa9", "x", b"y", "z")
    assert await ws.recv() == "té"
    assert await ws.recv(decode=True) == "té"
    assert await ws.recv(decode=False) == b"x"
    assert await ws.recv(decode=None) == b"y"
    assert [f async for f in ws.recv_streaming()] == ["z"]


@async_test
async def test_send_joins_fragments_into_one_message():
    """send() takes str, bytes-like, iterables and async iterables (joined: one message)."""
    ws, transport = await _open()

    async def agen():
        yield "a"
        yield "b"

    await ws.send("text")
    await ws.send(memoryview(b"bin"))
    await ws.send([b"x", bytearray(b"y")])
    await ws.send(agen())
    await ws.send([])  # nothing
    await ws.send(b"caf\xc3\xa9", text=True)
    await ws.send("raw", text=False)
    assert transport.sent == ["text", b"bin", b"xy", "ab", "café", b"raw"]
    for bad in (["a", b"b"], {"a": 1}, 42):
        with pytest.raises(TypeError):
            await ws.send(bad)


@async_test
async def test_async_for_ends_on_clean_close_and_raises_on_error():
    """async for ends quietly after a clean close; raises ConnectionClosedError after 1006."""
    ws, transport = await _open()
    transport.receive("a", "b")
    transport.peer_close(1000, "bye")
    assert [m async for m in ws] == ["a", "b"]
    assert (ws.close_code, ws.close_reason) == (1000, "bye")
    ws, transport = await _open()
    transport.fail()
    with pytest.raises(ConnectionClosedError) as info:
        async for _ in ws:
            pass
    assert info.value.rcvd is None and ws.close_code == 1006
    assert ws.close_exc is info.value or ws.close_exc.code == 1006


@async_test
async def test_close_with_code_and_reason():
    """close(code, reason) closes with them; codes a page may not send raise InvalidCloseCode."""
    ws, transport = await _open()
    assert ws.close_code is None
    with pytest.raises(compat.EXCEPTIONS["InvalidState"]):
        ws.close_exc  # noqa: B018
    with pytest.raises(InvalidCloseCode):
        await ws.close(compat.CloseCode.GOING_AWAY)
    await ws.close(4000, "custom")
    await ws.wait_closed()
    assert transport.close_calls == [(4000, "custom")]
    assert (ws.state, ws.close_code, ws.close_reason) == (State.CLOSED, 4000, "custom")
    with pytest.raises(ConnectionClosedOK if False else ConnectionClosed):
        await ws.send("late")


@async_test
async def test_async_with_closes():
    """async with connect() closes the connection on exit."""
    factory = Factory()
    async with compat.connect(URL, transport_factory=factory) as ws:
        assert ws.state is State.OPEN
    assert factory.transports[0].close_calls == [(1000, "")]


# -- the reconnect loop ------------------------------------------------------------------------


@async_test
async def test_reconnect_loop_retries_failed_attempts_with_the_delays():
    """async for ws in connect(): failed attempts (OSError) are retried after reconnect_delays;
    each iteration gets a new connection, closed after the body."""
    factory = Factory("fail", "fail")
    delays = []

    def reconnect_delays():
        for delay in (0.001, 0.002, 0.003):
            delays.append(delay)
            yield delay

    seen = []
    async for ws in compat.connect(
        URL, transport_factory=factory, reconnect_delays=reconnect_delays
    ):
        seen.append(ws)
        if len(seen) == 2:
            break
    assert delays == [0.001, 0.002] and len(factory.transports) == 4
    assert seen[0].state is State.CLOSED and seen[0] is not seen[1]


@async_test
async def test_reconnect_loop_process_exception():
    """process_exception: returning the exception raises it; returning another raises that,
    from the first; None retries."""
    factory = Factory("fail")

    def fatal(exc):
        return exc

    with pytest.raises(ConnectionFailed):
        async for _ in compat.connect(URL, transport_factory=factory, process_exception=fatal):
            pass

    class Stop(Exception):
        pass

    factory = Factory("fail")
    with pytest.raises(Stop) as info:
        async for _ in compat.connect(
            URL, transport_factory=factory, process_exception=lambda exc: Stop()
        ):
            pass
    assert isinstance(info.value.__cause__, ConnectionFailed)
    assert compat.process_exception(ConnectionFailed("x")) is None
    assert compat.process_exception(TimeoutError()) is None
    bad = ValueError("x")
    assert compat.process_exception(bad) is bad


# -- options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("origin", "https://example.test"),
        ("extensions", []),
        ("proxy", "http://proxy.test:3128"),
        ("sock", object()),
        ("server_hostname", "example.test"),
        ("family", 2),
    ],
)
def test_refused_options_name_the_option_and_the_browser(option, value):
    """An option a page cannot honour raises NotImplementedError naming it and the browser."""
    with pytest.raises(NotImplementedError, match=rf"connect\({option}=.*browser"):
        compat.connect(URL, **{option: value})


def test_accepted_options_map_onto_the_core():
    """Defaults as websockets' (max_size 1 MiB, timeouts 10 s); max_queue and write_limit map
    when given; compression is "deflate" or None; create_connection must be a ClientConnection."""
    c = compat.connect(URL, compression=None, proxy=None, additional_headers={})
    assert c._core.options["max_size"] == 2**20
    assert c._core.options["close_timeout"] == 10 and c._core.open_timeout == 10
    assert c._core.options["max_queue"] is None and c.heartbeat is None
    c = compat.connect(URL, max_queue=(32, 8), write_limit=1000, max_size=None)
    assert (c._core.options["max_queue"], c._core.options["write_limit"]) == (32, 1000)
    assert c._core.options["max_size"] is None
    with pytest.raises(ValueError, match="compression='zstd'"):
        compat.connect(URL, compression="zstd")
    with pytest.raises(TypeError, match="create_connection"):
        compat.connect(URL, create_connection=object)


def test_ping_interval_and_timeout_shape_the_heartbeat():
    """ping_interval/ping_timeout set a configured heartbeat's interval and timeout;
    ping_interval=None turns it off; without a heartbeat they change nothing."""
    beat = Heartbeat(20, ping="p", pong="q")
    c = compat.connect(URL, heartbeat=beat, ping_interval=5, ping_timeout=2)
    assert c.heartbeat == Heartbeat(5, 2, "p", "q")
    assert compat.connect(URL, heartbeat=beat, ping_interval=None).heartbeat is None
    assert compat.connect(URL, ping_interval=5).heartbeat is None


@async_test
async def test_create_connection_subclass_and_legacy_connect():
    """create_connection's class is used; legacy connect maps timeout= and gives open/closed."""

    class Mine(compat.ClientConnection):
        pass

    ws, _ = await _open(create_connection=Mine)
    assert type(ws) is Mine
    c = compat.legacy_connect(URL, timeout=3, read_limit=1, transport_factory=Factory())
    assert c._core.options["close_timeout"] == 3
    ws = await c
    assert isinstance(ws, compat.WebSocketClientProtocol) and ws.open and not ws.closed
    await ws.close()
    assert ws.closed and not ws.open


# -- ping -------------------------------------------------------------------------------------------


@async_test
async def test_ping_needs_a_heartbeat():
    """ping() and pong() without a heartbeat raise NotImplementedError naming the browser."""
    ws, _ = await _open()
    with pytest.raises(NotImplementedError, match="browser"):
        await ws.ping()
    with pytest.raises(NotImplementedError, match="browser"):
        await ws.pong()


@async_test
async def test_ping_with_a_heartbeat_waits_for_the_reply():
    """ping() sends the heartbeat's ping now; its awaitable resolves with the latency when the
    reply arrives, or raises ConnectionClosed if the connection closes first."""
    ws, transport = await _open(heartbeat=Heartbeat(30, ping="ping", pong="pong"))
    with pytest.raises(ValueError, match="heartbeat's ping message"):
        await ws.ping(b"other")
    waiter = await ws.ping("ping")
    await real_sleep(0.02)
    assert transport.pings == ["ping"] and not waiter.done()
    transport.receive("pong")
    assert await waiter == ws.latency >= 0
    waiter = await ws.ping()
    transport.fail()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(waiter, 1)
