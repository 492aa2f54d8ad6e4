"""WebSockets for Python in the browser: asyncio streams over the page's native WebSocket.

Runs in Pyodide (a page, a Web Worker, a JupyterLite notebook)::

    from websocket_streaming import connect

    async with connect("ws://127.0.0.1:8765") as ws:
        await ws.send("hello")
        async for message in ws:
            print(message)

Importable on plain CPython too (for type checking and the pure core); only
opening a real connection needs the browser.
"""

from .client import connect
from .connection import WebSocketStream
from .exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidCloseCode,
    InvalidHandshake,
    InvalidURI,
    PayloadTooBig,
    QueueOverflow,
    ReconnectFailed,
    SendQueueFull,
    WebSocketError,
)
from .protocol import RETRY_CLOSE_CODES, Heartbeat, State, backoff, should_retry
from .reconnect import Lifecycle, ReconnectingStream, StateEvent
from .transport import Data, Transport
from .version import __version__ as __version__

__all__ = [
    "RETRY_CLOSE_CODES",
    "ConcurrencyError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "ConnectionFailed",
    "Data",
    "Heartbeat",
    "InvalidCloseCode",
    "InvalidHandshake",
    "InvalidURI",
    "Lifecycle",
    "PayloadTooBig",
    "QueueOverflow",
    "ReconnectFailed",
    "ReconnectingStream",
    "SendQueueFull",
    "State",
    "StateEvent",
    "Transport",
    "WebSocketError",
    "WebSocketStream",
    "backoff",
    "connect",
    "should_retry",
]
