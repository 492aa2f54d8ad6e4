"""compat's `websockets` surface, name by name, against the real `websockets` the tests pin.

Our modules are built with compat._build() (not installed, so they do not clash with the
real library, which this process imports too). Every public name of every module compat
registers (its `__all__` and its deprecated aliases) must exist in ours, or be in
compat_refused's table; the same for the members of the classes the client hands out. A
new `websockets` release that adds a name fails here until the name is provided or refused.
"""

from __future__ import annotations

import asyncio
import enum
import importlib
import inspect
import ssl
import warnings

import pytest
import websockets.asyncio.client as real_client
import websockets.asyncio.server as real_server
import websockets.datastructures as real_datastructures
import websockets.exceptions as real_exceptions
import websockets.http11 as real_http11
from fake_transport import FakeFactory, async_test
from websocket_streaming import compat
from websocket_streaming.compat_refused import REFUSED_ATTRIBUTES, REFUSED_NAMES

OURS = compat._build()
URL = "ws://fake.test/chat"


def real_module(name):
    with warnings.catch_warnings():  # websockets.legacy warns that it is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module(name)


def public_names(module) -> set[str]:
    """A real module's public names: `__all__` plus the deprecated aliases it resolves lazily
    (listed by its `__dir__`, absent from its `__dict__`)."""
    lazy = {n for n in dir(module) if n not in vars(module) and not n.startswith("_")}
    return set(getattr(module, "__all__", ())) | lazy


def real_attr(module, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(module, name)


def public_members(obj) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")}


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_public_name_is_provided_or_refused(name):
    """Each public name of the real module is in ours; the refused ones raise, saying why;
    `__all__` is the real one's."""
    real, ours = real_module(name), OURS[name]
    missing = {n for n in public_names(real) if not hasattr(ours, n)}
    assert not missing, f"{name} lacks {sorted(missing)}: provide them or refuse them"
    if hasattr(real, "__all__"):
        assert set(ours.__all__) == set(real.__all__)
    for refused in public_names(real) & set(REFUSED_NAMES):
        with pytest.raises(NotImplementedError, match=f"{refused} is not possible in a browser"):
            getattr(ours, refused)()


def test_refused_names_are_real_names():
    """Every refused name is a public name of the real library (no stale entries)."""
    everywhere = set().union(*(public_names(real_module(n)) for n in OURS))
    assert set(REFUSED_NAMES) <= everywhere


def test_a_library_can_subclass_a_refused_class():
    """A refused class imports and can be subclassed (a library's server half loads);
    instantiating the subclass raises."""
    top = OURS["websockets"]

    class Mine(top.ServerConnection):
        pass

    with pytest.raises(NotImplementedError, match="cannot accept connections"):
        Mine()


@pytest.mark.parametrize("name", sorted(OURS))
def test_provided_names_are_the_same_kind_of_thing(name):
    """A provided name is a class where the real one is a class (an exception where it is
    one), an enum with the same members and values where it is an enum."""
    real, ours = real_module(name), OURS[name]
    for attr in public_names(real) - set(REFUSED_NAMES):
        theirs, mine = real_attr(real, attr), getattr(ours, attr)
        if isinstance(theirs, type) and issubclass(theirs, enum.Enum):
            assert {m.name: m.value for m in theirs} == {m.name: m.value for m in mine}, attr
        elif isinstance(theirs, type) and issubclass(theirs, BaseException):
            assert issubclass(mine, BaseException), attr
        elif inspect.isclass(theirs) or inspect.isfunction(theirs):
            assert callable(mine), attr


def test_every_exception_subclasses_what_it_does_there():
    """Each exception (deprecated aliases too) subclasses what it subclasses in `websockets`."""
    ours = OURS["websockets.exceptions"]
    for name in public_names(real_exceptions):
        real = real_attr(real_exceptions, name)
        mine = getattr(ours, name)
        for base in real.__mro__[1:]:
            if base.__module__.startswith("websockets."):
                assert issubclass(mine, getattr(ours, base.__name__)), (name, base)
            elif base is not object:
                assert issubclass(mine, base), (name, base)


# -- the members of the classes --------------------------------------------------------------


def _check_members(class_name: str, real: object, ours: object, says_why: bool = True) -> None:
    """The real object's public members exist on ours or are refused (saying why, on the
    classes that route missing members through compat_refused: not the exceptions)."""
    refused = REFUSED_ATTRIBUTES.get(class_name, {})
    missing = public_members(real) - set(refused) - set(dir(ours))  # dir: no property runs
    assert not missing, f"{class_name} lacks {sorted(missing)}: provide them or refuse them"
    assert set(refused) <= public_members(real), "refused members the real class lacks"
    for name in refused:
        with pytest.raises(AttributeError, match=f"{name} is not available" if says_why else None):
            getattr(ours, name)


async def _real_connection():
    """A real websockets ClientConnection, connected to a real server on 127.0.0.1."""
    server = await real_server.serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ws = await real_client.connect(f"ws://127.0.0.1:{port}")
    return server, ws


@async_test
async def test_client_connection_members():
    """ClientConnection has every public member of websockets', or refuses it saying why."""
    server, real = await _real_connection()
    ours = await compat.connect(URL, transport_factory=FakeFactory())
    try:
        _check_members("ClientConnection", real, ours)
    finally:
        await real.close()
        server.close()
        await server.wait_closed()
        await ours.close()


def test_request_response_headers_members():
    """Request, Response, Headers and MultipleValuesError have every public member."""
    headers = real_datastructures.Headers
    pairs = [
        ("Request", real_http11.Request("/", headers()), compat.Request("/")),
        ("Response", real_http11.Response(101, "OK", headers()), compat.Response()),
        ("Headers", headers(), compat.Headers()),
        (
            "MultipleValuesError",
            real_datastructures.MultipleValuesError("x"),
            OURS["websockets.datastructures"].MultipleValuesError("x"),
        ),
    ]
    for name, real, ours in pairs:
        _check_members(name, real, ours)


#: Instances of the exceptions whose members are instance attributes (ours and theirs).
_SAMPLES = {
    "ConnectionClosed": ((None, None), (1006, "")),
    "ConnectionClosedOK": ((None, None), (1000, "")),
    "ConnectionClosedError": ((None, None), (1006, "")),
}


@pytest.mark.parametrize("name", sorted(public_names(real_exceptions)))
def test_exception_members(name):
    """Each exception class has the public members of websockets' (as a class, or on an
    instance of the ConnectionClosed family)."""
    real_cls = real_attr(real_exceptions, name)
    ours_cls = getattr(OURS["websockets.exceptions"], name)
    if name in _SAMPLES:
        real_args, our_args = _SAMPLES[name]
        _check_members(name, real_cls(*real_args), ours_cls(*our_args), says_why=False)
    else:
        _check_members(name, real_cls, ours_cls, says_why=False)


# -- headers and options ------------------------------------------------------------------------


def test_headers_behave_as_websockets_headers():
    """Headers: case-insensitive, several values per name, MultipleValuesError, get_all,
    raw_items, copy, serialize and equality, as websockets' Headers."""
    real = real_datastructures.Headers
    for cls in (real, compat.Headers):
        h = cls({"Sec-WebSocket-Protocol": "graphql-ws"}, X="1")
        h["x"] = "2"
        assert h["sec-websocket-protocol"] == "graphql-ws" and "SEC-WEBSOCKET-PROTOCOL" in h
        assert h.get_all("X") == ["1", "2"] and len(h) == 2
        with pytest.raises(LookupError) as info:
            h["x"]
        assert type(info.value).__name__ == "MultipleValuesError" and str(info.value) == "'x'"
        assert list(h.raw_items()) == [
            ("Sec-WebSocket-Protocol", "graphql-ws"),
            ("X", "1"),
            ("x", "2"),
        ]
        assert h.serialize() == b"Sec-WebSocket-Protocol: graphql-ws\r\nX: 1\r\nx: 2\r\n\r\n"
        copy = h.copy()
        del copy["X"]
        assert "x" in h and "x" not in copy and copy != h and h.copy() == h
        with pytest.raises(Exception) as info:
            h["Bad"] = "a\r\nInjected: yes"
        assert type(info.value).__name__ == "InvalidHeaderValue"
        h.clear()
        assert not h


@async_test
async def test_response_headers_carry_what_the_browser_knows():
    """response.headers: the chosen subprotocol and the negotiated extensions."""
    factory = FakeFactory(protocol="graphql-transport-ws")
    ws = await compat.connect(URL, transport_factory=factory, subprotocols=["graphql-transport-ws"])
    assert ws.response.headers["Sec-WebSocket-Protocol"] == "graphql-transport-ws"
    assert ws.response.headers.get_all("Sec-WebSocket-Protocol") == ["graphql-transport-ws"]
    assert ws.request.headers["Sec-WebSocket-Protocol"] == "graphql-transport-ws"
    assert ws.response.exception is None and ws.request.method == "GET"
    await ws.close()


def test_options_accepted_as_websockets_accepts_them():
    """uri= as a keyword, logger (a Logger or its name), user_agent_header, ssl=True or an
    SSLContext for wss://, empty additional_headers: accepted."""
    context = ssl.create_default_context()
    for options in (
        dict(ssl=True),
        dict(ssl=context),
        dict(user_agent_header=None),
        dict(user_agent_header="my-agent/1"),
        dict(additional_headers={}),
        dict(additional_headers=[]),
        dict(logger="my.logger"),
    ):
        compat.connect(uri="wss://example.test/", **options)
    compat.connect(uri="ws://example.test/", ssl=None, additional_headers=None)
    compat.legacy_connect(uri="ws://example.test/", extra_headers={})


@pytest.mark.parametrize(
    ("uri", "options", "error", "message"),
    [
        ("ws://h/", dict(ssl=True), ValueError, "ssl argument is incompatible with a ws:// URI"),
        ("ws://h/", dict(ssl=ssl.create_default_context()), ValueError, "incompatible"),
        ("wss://h/", dict(ssl=None), ValueError, "ssl=None is incompatible with a wss:// URI"),
        ("wss://h/", dict(ssl="yes"), TypeError, "ssl must be"),
        ("wss://h/", dict(user_agent_header=1), TypeError, "user_agent_header must be"),
    ],
)
def test_bad_ssl_and_user_agent_raise_as_websockets_does(uri, options, error, message):
    """ssl for ws:// and ssl=None for wss:// raise websockets' ValueError; wrong types a TypeError."""
    with pytest.raises(error, match=message):
        compat.connect(uri, **options)
    if error is ValueError:  # the real library refuses the same (when the call is awaited)
        with pytest.raises(ValueError, match=message):
            asyncio.run(_await(real_client.connect(uri, open_timeout=1, **options)))


async def _await(awaitable):
    return await awaitable


@async_test
async def test_connection_members_that_differ():
    """logger by name, debug, loop, close_timeout, ping_interval/ping_timeout (None without a
    heartbeat), drain(); a refused member says why and hasattr() is False."""
    ws = await compat.connect(URL, transport_factory=FakeFactory(), logger="x.y", close_timeout=3)
    assert ws.logger.name == "x.y" and ws.debug is False
    assert ws.loop is asyncio.get_running_loop() and ws.close_timeout == 3
    assert ws.ping_interval is None and ws.ping_timeout is None
    await ws.drain()
    assert not hasattr(ws, "transport") and not hasattr(ws, "nonexistent")
    with pytest.raises(AttributeError, match="the browser owns the socket"):
        ws.transport  # noqa: B018
    await ws.close()
