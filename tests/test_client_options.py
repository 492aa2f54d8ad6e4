"""client.py: connect()'s options, checked with exact errors when it is called."""

from __future__ import annotations

import asyncio
import math
import sys
import types

import pytest
from fake_clock import fake_clock_test
from fake_transport import FakeFactory as Factory
from fake_transport import FakeTransport, async_test, exactly
from test_reconnect import FakeLifecycle
from websocket_streaming import (
    ReconnectFailed,
    ReconnectingStream,
    SendQueueFull,
    State,
    WebSocketError,
    connect,
)

URL = "ws://fake.test/chat"


from test_client import sleeps  # noqa: E402, F401 - the fixture, shared

# -- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "exc_type", "message"),
    [
        ("open_timeout", -1, ValueError, "open_timeout must be a finite number >= 0, not -1"),
        (
            "open_timeout",
            "10",
            TypeError,
            "open_timeout must be a number of seconds or None, not str",
        ),
        (
            "close_timeout",
            math.nan,
            ValueError,
            "close_timeout must be a finite number >= 0, not nan",
        ),
        ("write_limit", None, TypeError, "write_limit must be an int, not NoneType"),
        ("max_size", -1, ValueError, "max_size must be >= 0, not -1"),
        ("max_queue", True, TypeError, "max_queue must be an int or None, not bool"),
        ("max_queue_bytes", 1.5, TypeError, "max_queue_bytes must be an int or None, not float"),
        (
            "on_overflow",
            "x",
            ValueError,
            "on_overflow must be one of ('close', 'drop-oldest'), not 'x'",
        ),
        ("heartbeat", 30, TypeError, "heartbeat must be a Heartbeat or None, not int"),
        (
            "idle_timeout",
            math.inf,
            ValueError,
            "idle_timeout must be a finite number >= 0, not inf",
        ),
        ("min_delay", None, TypeError, "min_delay must be a number of seconds, not NoneType"),
        ("min_delay", -1, ValueError, "min_delay must be a finite number >= 0, not -1"),
        ("max_delay", math.nan, ValueError, "max_delay must be a finite number >= 0, not nan"),
        ("max_delay", 0.1, ValueError, "max_delay (0.1) must not be below min_delay (0.5)"),
        ("factor", True, TypeError, "factor must be a number of seconds, not bool"),
        ("factor", 0.9, ValueError, "factor must be at least 1, not 0.9"),
        ("max_retries", -1, ValueError, "max_retries must be >= 0, not -1"),
        ("max_retries", 2.0, TypeError, "max_retries must be an int or None, not float"),
        ("send_queue", None, TypeError, "send_queue must be an int, not NoneType"),
        ("send_queue", -1, ValueError, "send_queue must be >= 0, not -1"),
        ("send_queue_bytes", "1", TypeError, "send_queue_bytes must be an int, not str"),
    ],
    ids=repr,
)
def test_connect_validates_options_at_once(option, value, exc_type, message):
    """connect() raises the exact TypeError/ValueError for a bad option before opening anything."""
    factory = Factory()
    with pytest.raises(exc_type, match=exactly(message)):
        connect(URL, transport_factory=factory, **{option: value})
    assert factory.calls == []


@async_test
async def test_async_for_refuses_reconnect():
    """async for ws in connect(reconnect=True) raises TypeError: it reconnects already."""
    with pytest.raises(TypeError, match="reconnects already"):
        async for _ in connect(URL, reconnect=True, transport_factory=Factory()):
            pass


@async_test
async def test_reconnect_true_returns_a_reconnecting_stream():
    """await connect(reconnect=True) returns a ReconnectingStream once the first connection opens."""
    factory = Factory("fail")
    ws = await connect(URL, reconnect=True, min_delay=0.01, transport_factory=factory)
    assert isinstance(ws, ReconnectingStream)
    assert ws.state is State.OPEN and len(factory.calls) == 2
    await ws.close()


@async_test
async def test_no_browser_and_no_transport_factory():
    """Outside Pyodide, connect() without transport_factory raises WebSocketError."""
    with pytest.raises(
        WebSocketError,
        match=exactly(
            "no browser here: websocket_streaming opens connections only inside "
            "Pyodide (or pass transport_factory=)"
        ),
    ):
        await connect(URL)


@fake_clock_test
async def test_reconnect_send_queue_defaults():
    """connect(reconnect=True) queues up to 1 MiB and 1000 messages while disconnected."""
    factory = Factory()
    async with connect(URL, reconnect=True, transport_factory=factory, min_delay=5) as stream:
        factory.transports[0].fail()
        await factory.transports[0].flush()
        assert stream.state is State.CONNECTING
        assert await stream.send(b"x" * ((1 << 20) - 998)) is False
        for _ in range(998):
            assert await stream.send("y") is False
        with pytest.raises(SendQueueFull):
            await stream.send("z")  # 999 messages, one byte over 1 MiB
        assert await stream.send("") is False
        with pytest.raises(SendQueueFull):
            await stream.send("")  # it would be the 1001st message


@async_test
async def test_stream_setup_error_closes_the_socket():
    """An error while the stream sets up its transport propagates, and the socket is closed."""

    class Broken(FakeTransport):
        def set_limits(self, *limits: object) -> None:
            raise RuntimeError("set_limits failed")

    made: list[FakeTransport] = []

    def factory(url: str, protocols: list[str]) -> FakeTransport:
        made.append(Broken(url, protocols))
        return made[-1]

    with pytest.raises(RuntimeError, match=exactly("set_limits failed")):
        await connect(URL, transport_factory=factory)
    assert made[0].close_calls == [(None, "")]


@async_test
async def test_reconnect_true_raises_the_end_before_the_first_open():
    """connect(reconnect=True, max_retries=0): a first attempt that fails raises ReconnectFailed."""
    factory = Factory("fail")
    with pytest.raises(ReconnectFailed):
        await connect(URL, reconnect=True, max_retries=0, transport_factory=factory)
    assert len(factory.transports) == 1


@async_test
async def test_reconnect_outside_a_browser_raises_websocket_error():
    """Outside Pyodide, connect(reconnect=True) without transport_factory raises WebSocketError."""
    with pytest.raises(
        WebSocketError,
        match=exactly(
            "no browser here: websocket_streaming opens connections only inside "
            "Pyodide (or pass transport_factory=)"
        ),
    ):
        await connect(URL, reconnect=True)


@async_test
async def test_in_a_browser_the_page_lifecycle_and_backend_are_used(monkeypatch):
    """In a browser, connect(reconnect=True) follows the page's lifecycle unless given one,
    and the default transport gets the backend: "classic" unless one is given."""
    page, mine = FakeLifecycle(), FakeLifecycle()
    backends: list[str] = []

    def transport(url: str, protocols: list[str], backend: str) -> FakeTransport:
        backends.append(backend)
        made = FakeTransport(url, protocols)
        made.open()
        return made

    browser = types.ModuleType("websocket_streaming.browser")
    browser.location = lambda: None  # type: ignore[attr-defined]
    browser.page_lifecycle = lambda: page  # type: ignore[attr-defined]
    browser.BrowserTransport = transport  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "websocket_streaming.browser", browser)
    async with connect(URL, reconnect=True):
        assert (len(page.callbacks), len(mine.callbacks)) == (1, 0)
    async with connect(URL, reconnect=True, lifecycle=mine, backend="native"):
        assert (len(page.callbacks), len(mine.callbacks)) == (0, 1)
    assert backends == ["classic", "native"]


@fake_clock_test
async def test_close_timeout_default_is_five_seconds():
    """Without close_timeout, close() of a connect()ed stream gives a silent peer 5 s."""
    factory = Factory()
    ws = await connect(URL, transport_factory=factory)
    factory.transports[0].answer_close = False
    await ws.close()
    assert asyncio.get_running_loop().time() == 5.0
    assert ws.close_code == 1006


def test_documented_defaults_of_connect():
    """The defaults connect()'s docstring gives for the reconnect backoff."""
    opener = connect("ws://fake.test/", reconnect=True)
    options = opener.reconnect_options
    assert (options["min_delay"], options["max_delay"], options["factor"]) == (0.5, 30.0, 1.618)


def test_unknown_backend_is_refused():
    """backend= other than "classic", "native", "auto" or None raises ValueError at once."""
    with pytest.raises(ValueError, match="backend must be one of"):
        connect("ws://fake.test/", backend="fast")
