"""What of the ``websockets`` API a page cannot have, and why: the one refusal table.

:mod:`.compat` provides every public name of every ``websockets`` module it
registers (``__all__`` and the deprecated aliases), as the real library does.
The names in :data:`REFUSED_NAMES` are there too, so that a library which
merely imports them (``from websockets import serve, connect``) still loads;
using one (calling it, instantiating it) raises NotImplementedError with the
reason below. The members of the classes compat hands out that a page cannot
have are in :data:`REFUSED_ATTRIBUTES`; reading one raises AttributeError
with its reason. ``tests/test_compat_surface.py`` holds both tables to the
real library: a name the real one adds and this module neither provides nor
refuses fails that test. Pure Python, no ``js``.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = [
    "PONG_REFUSED",
    "REFUSED_ATTRIBUTES",
    "REFUSED_NAMES",
    "refused_attribute",
    "refused_name",
]

_SERVER = "a page cannot accept connections"
_SANS_IO = (
    "it is websockets' Sans-I/O engine, which reads and writes the raw bytes of a socket; "
    "a page has no socket, the browser's WebSocket writes the frames itself"
)

#: Module-level names of ``websockets`` that a page cannot have, and why.
REFUSED_NAMES: dict[str, str] = {
    # The server side: websockets.asyncio.server, websockets.asyncio.router, the legacy server.
    "serve": _SERVER,
    "unix_serve": _SERVER,
    "Server": _SERVER,
    "ServerConnection": _SERVER,
    "ServerProtocol": _SERVER,
    "route": _SERVER,
    "unix_route": _SERVER,
    "Router": _SERVER,
    "basic_auth": _SERVER,
    "WebSocketServer": _SERVER,
    "WebSocketServerProtocol": _SERVER,
    "BasicAuthWebSocketServerProtocol": _SERVER,
    "basic_auth_protocol_factory": _SERVER,
    "broadcast": "it writes one message to many connections' sockets without waiting (a "
    "server's fan-out); in a page, await send() on each connection",
    # Sockets and the Sans-I/O engine.
    "unix_connect": "a page has no sockets, Unix or other; connect to a ws:// or wss:// URL",
    "unix_reconnect": "a page has no sockets, Unix or other; connect to a ws:// or wss:// URL",
    "ClientProtocol": _SANS_IO,
    "Protocol": _SANS_IO,
    "Frame": "a page never sees frames: the browser reassembles them into messages",
    # websocket-client's framing and socket helpers (websocket._abnf, websocket._socket).
    "continuous_frame": "a page never sees frames: the browser reassembles them into messages",
    "frame_buffer": "a page never sees frames: the browser reassembles them into messages",
    "recv": "it reads a raw socket; a page has none (use WebSocket.recv())",
    "recv_line": "it reads a raw socket; a page has none (use WebSocket.recv())",
    "send": "it writes a raw socket; a page has none (use WebSocket.send())",
    "sock_opt": "socket options: a page has no socket, the browser owns the connection",
    "DEFAULT_SOCKET_OPTION": "socket options: a page has no socket, the browser owns the "
    "connection",
}

_BROWSER_SOCKET = (
    "an asyncio.Protocol callback of websockets' own socket; the browser owns the socket"
)
_CORE = (
    "websockets' own I/O machinery; here the core does that work "
    "(ClientConnection.stream, a websocket_streaming.WebSocketStream)"
)
_PING_FRAMES = (
    "websockets' ping-frame keepalive; a page cannot send ping frames "
    "(see ClientConnection.ping() and websocket_streaming.Heartbeat)"
)
#: What ``pong()`` raises (NotImplementedError), in both the asyncio and the sync layer.
PONG_REFUSED = (
    "pong() is not possible in a browser: a page cannot send WebSocket pong frames "
    "(the browser answers the server's pings itself)"
)
_HTTP_WIRE = "it reads or writes HTTP on a socket; the browser does the handshake itself"

#: Members of the classes compat hands out (by class name) that a page cannot have, and why.
REFUSED_ATTRIBUTES: dict[str, dict[str, str]] = {
    "ClientConnection": {
        **dict.fromkeys(
            (
                "connection_made",
                "connection_lost",
                "data_received",
                "eof_received",
                "pause_writing",
                "resume_writing",
                "transport",
            ),
            _BROWSER_SOCKET,
        ),
        **dict.fromkeys(
            (
                "protocol",
                "handshake",
                "process_event",
                "send_data",
                "send_context",
                "send_in_progress",
                "recv_messages",
                "response_rcvd",
                "connection_exc",
                "set_connection_exc",
                "connection_lost_waiter",
                "drain_waiters",
                "paused",
                "close_deadline",
                "max_queue_high",
                "max_queue_low",
                "write_limit_high",
                "write_limit_low",
            ),
            _CORE,
        ),
        **dict.fromkeys(
            (
                "keepalive",
                "keepalive_task",
                "start_keepalive",
                "acknowledge_pings",
                "terminate_pending_pings",
                "pending_pings",
            ),
            _PING_FRAMES,
        ),
    },
    "PayloadTooBig": {
        "set_current_size": "websockets' frame reader adds the size of what it read so far; "
        "here the browser hands over whole messages and the error carries their size"
    },
    "Request": {"parse": _HTTP_WIRE, "serialize": _HTTP_WIRE},
    "Response": {"parse": _HTTP_WIRE, "serialize": _HTTP_WIRE},
}


def refused_name(name: str, module: str = "websockets") -> Any:
    """A stand-in for ``module.name``: importable and subclassable; using it raises.

    A class, so that code which subclasses a refused class at import time (a
    library's server half) still imports. Calling or instantiating it raises
    NotImplementedError saying why a page cannot have it.
    """
    reason = REFUSED_NAMES[name]

    def refuse(cls: type, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(f"{module}.{name} is not possible in a browser: {reason}")

    return type(
        name,
        (),
        {
            "__new__": refuse,
            "__module__": module,
            "__doc__": f"Not possible in a browser: {reason}.",
        },
    )


def refused_attribute(owner: type, name: str) -> AttributeError:
    """The error for reading a refused member ``name`` of ``owner`` (or of a base class).

    An AttributeError, so ``hasattr()`` and ``getattr(x, name, default)`` work as for
    a missing member; its message says why a page cannot have it.
    """
    for cls in owner.__mro__:
        reason = REFUSED_ATTRIBUTES.get(cls.__name__, {}).get(name)
        if reason is not None:
            return AttributeError(
                f"{cls.__name__}.{name} is not available in a browser: {reason}", name=name
            )
    return AttributeError(f"{owner.__name__!r} object has no attribute {name!r}", name=name)
