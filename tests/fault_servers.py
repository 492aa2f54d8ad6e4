"""Misbehaving servers on 127.0.0.1 for the fault-injection tests.

- :class:`RawServer` speaks WebSocket by hand (a plain asyncio TCP server), so it
  can do what a well-behaved library never does: accept TCP and never answer
  the handshake, or answer it and then ignore everything, our close frame
  included.
- :class:`RestartableServer` is a `websockets` server that can die without a
  close frame and come back on the same port, on a command sent in-band by the
  page, so a test running in the browser drives its own fault.

Both run on a background event-loop thread, like servers.py's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _LoopThread:
    """An asyncio loop on a daemon thread; run() a coroutine on it from any thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run[T](self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


class RawServer:
    """A hand-written WebSocket server; the request path picks the misbehaviour.

    Paths:
      /no-handshake    read the HTTP request, never answer it (TCP stays open)
      /silent          complete the handshake, then send nothing and ignore every
                       frame, our close frame included (TCP stays open)
    ``accepted[path]`` counts the TCP connections per path.
    """

    def __init__(self) -> None:
        self._thread = _LoopThread()
        self.accepted: dict[str, int] = defaultdict(int)
        self._writers: list[asyncio.StreamWriter] = []
        server = self._thread.run(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = urlsplit(lines[0].split(" ")[1]).path
            self.accepted[path] += 1
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
            }
            if path == "/silent":
                writer.write(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                    + _accept_key(headers["sec-websocket-key"]).encode()
                    + b"\r\n\r\n"
                )
                await writer.drain()
            while await reader.read(65536):  # ignore everything until the peer goes
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for writer in self._writers:
                writer.transport.abort()

        self._thread.run(stop())
        self._thread.stop()


class RestartableServer:
    """A `websockets` server that the page can kill (no close frame) and bring back.

    Routes:
      /stream?id=&n=   sends n messages "<conn>:<i>" (conn counts the connections of
                       this id from 0), then records every text message it gets;
                       the message "kill <ms>" drops every connection of every
                       route without a close frame, stops listening, and listens
                       again on the same port after <ms> ms; "report" answers
                       with JSON of every message this id sent us, across
                       connections, in the order they arrived.
      /pong            answers "ping" with "pong", echoes anything else.
      /flood?size=[&count=][&close][&id=]
                       sends numbered text messages of `size` characters as fast as
                       it can: `count` of them then a clean close (with `close`),
                       or until the client goes (at most 1 GiB). With `id`, counts
                       the bytes of the messages whose send() returned (handed to
                       the kernel, but for the library's 32 KiB write buffer) in
                       ``flooded[id]``.
      /flooded?id=     answers with ``flooded[id]`` (a number, as text), then closes.
      /big?size=       sends "a", "b", a message of `size` bytes, then "after".
    """

    def __init__(self) -> None:
        self._thread = _LoopThread()
        self.received: dict[str, list[str]] = defaultdict(list)
        self.flooded: dict[str, int] = defaultdict(int)
        self._connections: dict[str, int] = defaultdict(int)
        self._live: set[ServerConnection] = set()
        self.port = 0
        self._server: Server | None = self._thread.run(self._listen())
        self.url = f"ws://127.0.0.1:{self.port}"

    async def _listen(self) -> Server:
        server = await serve(self._handler, "127.0.0.1", self.port, compression=None)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _kill(self, pause: float) -> None:
        assert self._server is not None
        self._server.close(close_connections=False)
        for ws in list(self._live):
            ws.transport.abort()
        await self._server.wait_closed()
        await asyncio.sleep(pause)
        self._server = await self._listen()

    async def _handler(self, ws: ServerConnection) -> None:
        self._live.add(ws)
        url = urlsplit(ws.request.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        route: Callable[[ServerConnection, dict[str, str]], Coroutine[Any, Any, None]] = getattr(
            self, "_route_" + url.path.strip("/")
        )
        try:
            await route(ws, query)
        except ConnectionClosed:
            pass
        finally:
            self._live.discard(ws)

    async def _route_stream(self, ws: ServerConnection, query: dict[str, str]) -> None:
        id = query["id"]
        conn = self._connections[id]
        self._connections[id] += 1
        for i in range(int(query.get("n", 0))):
            await ws.send(f"{conn}:{i}")
        async for message in ws:
            assert isinstance(message, str)
            if message.startswith("kill "):
                asyncio.get_running_loop().create_task(self._kill(int(message[5:]) / 1000))
            elif message == "report":
                await ws.send(json.dumps(self.received[id]))
            else:
                self.received[id].append(message)

    async def _route_pong(self, ws: ServerConnection, query: dict[str, str]) -> None:
        async for message in ws:
            await ws.send("pong" if message == "ping" else message)

    async def _route_flood(self, ws: ServerConnection, query: dict[str, str]) -> None:
        size = int(query.get("size", 1024))
        count = int(query.get("count", (1 << 30) // size))
        key = query.get("id")
        for i in range(count):
            await ws.send(str(i).ljust(size, "."))
            if key is not None:
                self.flooded[key] += size
        if "close" in query:
            await ws.close(1000, "done")
        await ws.wait_closed()

    async def _route_flooded(self, ws: ServerConnection, query: dict[str, str]) -> None:
        await ws.send(str(self.flooded[query["id"]]))
        await ws.close()

    async def _route_big(self, ws: ServerConnection, query: dict[str, str]) -> None:
        for message in (b"a", b"b", b"x" * int(query["size"]), b"after"):
            await ws.send(message)
        await ws.wait_closed()

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        self._thread.run(stop())
        self._thread.stop()
