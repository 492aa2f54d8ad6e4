"""Run code written for the ``websockets`` library unchanged in the browser.

One call, then the app's own ``import websockets`` code works in a page, a Web
Worker or a JupyterLite notebook::

    from websocket_streaming import compat
    compat.install()

    import websockets
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect("wss://example.test/feed") as websocket:
        await websocket.send("hello")
        print(await websocket.recv())

:func:`install` registers these modules in ``sys.modules``: ``websockets``,
``websockets.asyncio``, ``websockets.asyncio.client``,
``websockets.asyncio.connection``, ``websockets.client`` and
``websockets.legacy.client`` (the legacy ``connect``), ``websockets.exceptions``,
``websockets.frames``, ``websockets.protocol``, ``websockets.typing``,
``websockets.http11`` and ``websockets.datastructures``, each with every
public name the real module has (``__all__`` and deprecated aliases); a name
a page cannot have (the server side, the Sans-I/O engine: see
:mod:`.compat_refused`) is importable and raises NotImplementedError when
used. Any other
``websockets.*`` module (the server, the threading client) fails to import
with a ModuleNotFoundError that says why a page cannot have it. Calling
``install()`` again is harmless. If the real ``websockets`` is already
imported, ``install()`` raises RuntimeError (code holding the real classes
would not catch ours); a real ``websockets`` that is installed but not yet
imported is shadowed. :func:`uninstall` removes the modules again (names the
app already imported keep pointing at ours).

The connections are :class:`ClientConnection`, a thin adapter over
:class:`~websocket_streaming.WebSocketStream`: the core does all the work. What
a browser cannot do (set headers, send fragments or ping frames, report
addresses) is either emulated, documented on the member, or refused with an
error naming the browser's limit. The exceptions are the package's own:
``websockets.exceptions.ConnectionClosed`` *is*
:class:`websocket_streaming.ConnectionClosed`, ``WebSocketException`` is
:class:`~websocket_streaming.WebSocketError`, so ``except
websockets.ConnectionClosed`` catches what the core raises.

Nothing here imports ``js``: the module imports and is tested on CPython.
"""

from __future__ import annotations

import http
import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import (
    Sequence,
)
from types import ModuleType
from typing import Any

from . import compat_client
from .compat_client import (
    WEBSOCKETS_VERSION,
    ClientConnection,
    WebSocketClientProtocol,
    connect,
    legacy_connect,
    process_exception,
    unix_connect,
)
from .compat_refused import REFUSED_NAMES, refused_name
from .compat_types import (
    DEPRECATED_EXCEPTIONS,
    EXCEPTIONS,
    CloseCode,
    Headers,
    HeadersLike,
    MultipleValuesError,
    Opcode,
    Request,
    Response,
    Side,
)
from .exceptions import (
    Close,
)
from .protocol import Heartbeat, State
from .transport import Data

__all__ = [
    "ClientConnection",
    "CloseCode",
    "Headers",
    "Request",
    "Response",
    "WebSocketClientProtocol",
    "connect",
    "install",
    "legacy_connect",
    "process_exception",
    "uninstall",
]

#: Marks the modules install() made, so it can tell them from the real library.
_MARK = "__websocket_streaming_compat__"


# -- install ----------------------------------------------------------------------------


#: Why the websockets modules install() does not provide cannot exist in a page.
MISSING = {
    "websockets.server": "a page cannot accept connections",
    "websockets.asyncio.server": "a page cannot accept connections",
    "websockets.legacy.server": "a page cannot accept connections",
    "websockets.sync": "the threading client needs blocking sockets; use the asyncio API",
    "websockets.trio": "the browser event loop is asyncio's",
}


class _Finder(importlib.abc.MetaPathFinder):
    """Fails imports of websockets modules install() does not provide, saying why."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("websockets.") or fullname in sys.modules:
            return None
        reason = next(
            (
                why
                for name, why in MISSING.items()
                if fullname == name or fullname.startswith(name + ".")
            ),
            "websocket_streaming.compat provides the asyncio client only",
        )
        raise ModuleNotFoundError(
            f"No module named {fullname!r} under websocket_streaming.compat: {reason}",
            name=fullname,
        )


_FINDER = _Finder()
_installed: dict[str, ModuleType] = {}


def _module(name: str, doc: str, public: dict[str, Any], **hidden: Any) -> ModuleType:
    """A module with ``public`` as its ``__all__`` and ``hidden`` (submodules, deprecated
    aliases) importable but left out of it, as ``websockets`` does."""
    module = ModuleType(name, doc)
    module.__dict__.update(public, **hidden)
    module.__all__ = list(public)  # type: ignore[attr-defined]
    module.__path__ = []  # a package: its submodules resolve by name
    setattr(module, _MARK, True)
    return module


def _build() -> dict[str, ModuleType]:
    """The websockets modules, bound to this module's classes.

    Each holds the public names of the ``websockets`` module it stands for
    (``__all__`` and its deprecated aliases); those in
    :data:`~.compat_refused.REFUSED_NAMES` are stand-ins that raise when used.
    """
    refused = {name: refused_name(name) for name in REFUSED_NAMES}
    refused["unix_connect"] = unix_connect
    exceptions_all = {n: c for n, c in EXCEPTIONS.items() if n not in DEPRECATED_EXCEPTIONS}
    deprecated_exceptions = {n: EXCEPTIONS[n] for n in DEPRECATED_EXCEPTIONS}
    names = dict(
        ClientConnection=ClientConnection,
        ClientProtocol=refused["ClientProtocol"],
        Close=Close,
        CloseCode=CloseCode,
        Frame=refused["Frame"],
        Headers=Headers,
        HeadersLike=HeadersLike,
        MultipleValuesError=MultipleValuesError,
        Opcode=Opcode,
        Protocol=refused["Protocol"],
        Request=Request,
        Response=Response,
        Side=Side,
        State=State,
    )
    typing_names = dict(
        Data=Data,
        LoggerLike=logging.Logger | logging.LoggerAdapter[Any],
        StatusLike=http.HTTPStatus | int,
        Origin=str,
        Subprotocol=str,
        ExtensionName=str,
        ExtensionParameter=tuple[str, str | None],
    )

    def pick(*keys: str) -> dict[str, Any]:
        return {key: names[key] for key in keys}

    exceptions = _module(
        "websockets.exceptions",
        "websockets' exceptions, as websocket_streaming's.",
        exceptions_all,
        **deprecated_exceptions,
    )
    frames = _module("websockets.frames", "Frames.", pick("Opcode", "CloseCode", "Frame", "Close"))
    protocol = _module(
        "websockets.protocol",
        "The connection state.",
        dict(pick("Protocol", "Side", "State"), SEND_EOF=b""),
    )
    typing = _module("websockets.typing", "Type aliases.", typing_names)
    user_agent = (
        f"Python/{sys.version_info[0]}.{sys.version_info[1]} websockets/{WEBSOCKETS_VERSION}"
    )
    http11 = _module(
        "websockets.http11",
        "The handshake.",
        dict(SERVER=user_agent, USER_AGENT=user_agent, **pick("Request", "Response")),
    )
    datastructures = _module(
        "websockets.datastructures",
        "Headers.",
        pick("Headers", "HeadersLike", "MultipleValuesError"),
    )
    asyncio_client = _module(
        "websockets.asyncio.client",
        "The asyncio client.",
        dict(connect=connect, unix_connect=unix_connect, ClientConnection=ClientConnection),
        process_exception=process_exception,
    )
    asyncio_connection = _module(
        "websockets.asyncio.connection", "Connections.", dict(Connection=ClientConnection)
    )
    asyncio_pkg = _module(
        "websockets.asyncio",
        "asyncio API.",
        {},
        client=asyncio_client,
        connection=asyncio_connection,
    )
    legacy_api = dict(
        connect=legacy_connect,
        unix_connect=unix_connect,
        WebSocketClientProtocol=WebSocketClientProtocol,
    )
    legacy_client = _module("websockets.legacy.client", "The legacy client.", legacy_api)
    legacy = _module("websockets.legacy", "The legacy API.", {}, client=legacy_client)
    client_module = _module(
        "websockets.client", "The client.", pick("ClientProtocol"), **legacy_api
    )
    top = _module(
        "websockets",
        "websocket_streaming.compat: the websockets client API over the browser's WebSocket.",
        dict(
            connect=connect,
            unix_connect=unix_connect,
            **names,
            **exceptions_all,
            **typing_names,
            **{name: refused[name] for name in _SERVER_NAMES},
        ),
        __version__=f"{WEBSOCKETS_VERSION}+websocket.streaming",
        **deprecated_exceptions,
        WebSocketClientProtocol=WebSocketClientProtocol,
        WebSocketCommonProtocol=ClientConnection,  # the legacy connections' base class
        **{name: refused[name] for name in _LEGACY_SERVER_NAMES},
        asyncio=asyncio_pkg,
        client=client_module,
        legacy=legacy,
        exceptions=exceptions,
        frames=frames,
        protocol=protocol,
        typing=typing,
        http11=http11,
        datastructures=datastructures,
    )
    modules = [top, asyncio_pkg, asyncio_client, asyncio_connection, legacy, legacy_client]
    modules += [client_module, exceptions, frames, protocol, typing, http11, datastructures]
    return {m.__name__: m for m in modules}


#: The server names ``websockets`` exports at the top (refused: see compat_refused).
_SERVER_NAMES = (
    "route",
    "unix_route",
    "Router",
    "basic_auth",
    "broadcast",
    "serve",
    "unix_serve",
    "ServerConnection",
    "Server",
    "ServerProtocol",
)
#: The legacy server's deprecated aliases there.
_LEGACY_SERVER_NAMES = (
    "BasicAuthWebSocketServerProtocol",
    "basic_auth_protocol_factory",
    "WebSocketServer",
    "WebSocketServerProtocol",
)


def install(*, heartbeat: Heartbeat | None = None) -> ModuleType:
    """Make ``import websockets`` (and its client modules) resolve to this module.

    ``heartbeat``: an application-level ping every connection uses (the server
    must answer it), so that ``ping()``, ``latency``, ``ping_interval`` and
    ``ping_timeout`` work; None (default): none. Calling ``install()`` again
    is harmless (it sets the heartbeat again). Returns the ``websockets`` module.

    Raises:
        RuntimeError: the real ``websockets`` library is already imported:
            call ``install()`` before anything imports it.
    """
    current = sys.modules.get("websockets")
    if current is not None and not getattr(current, _MARK, False):
        where = getattr(current, "__file__", None) or "somewhere"
        raise RuntimeError(
            f"the real websockets library is already imported (from {where}), so code "
            "holding its classes would not work with websocket_streaming's: call "
            "websocket_streaming.compat.install() before anything imports websockets"
        )
    if heartbeat is not None and not isinstance(heartbeat, Heartbeat):
        raise TypeError(f"heartbeat must be a Heartbeat or None, not {type(heartbeat).__name__}")
    compat_client.default_heartbeat = heartbeat
    if not _installed:
        _installed.update(_build())
    sys.modules.update(_installed)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return _installed["websockets"]


def uninstall() -> None:
    """Undo :func:`install`: ``import websockets`` finds the real library again, if any.

    Names the app already imported from ``websockets`` keep pointing at ours.
    Does nothing if not installed. Raises nothing.
    """
    for name, module in _installed.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    compat_client.default_heartbeat = None
