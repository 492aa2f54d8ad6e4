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
from .connection import Data, Transport, WebSocketStream
from .exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidCloseCode,
    InvalidURI,
    WebSocketError,
)
from .protocol import State, backoff, should_retry

__version__ = "0.1.0"

__all__ = [
    "ConcurrencyError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "ConnectionFailed",
    "Data",
    "InvalidCloseCode",
    "InvalidURI",
    "State",
    "Transport",
    "WebSocketError",
    "WebSocketStream",
    "backoff",
    "connect",
    "should_retry",
]
