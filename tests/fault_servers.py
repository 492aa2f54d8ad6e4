"""Misbehaving servers on 127.0.0.1 for the fault-injection tests.

- :class:`RawServer` speaks WebSocket by hand (a plain asyncio TCP server), so it
  can do what a well-behaved library never does (``CASES``): accept TCP and never
  answer the handshake, answer it wrongly (bad accept key, unrequested subprotocol
  or extension, 403, 500, a redirect), send frames no server may send (invalid
  UTF-8, a reserved opcode, masked, a control frame over 125 bytes, a close code
  never allowed on the wire), stop mid-message, reset TCP mid-frame, flood, drip,
  or ignore everything, our close frame included. Every case ends within ``BOUND``
  seconds.
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
import socket
import struct
import threading
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
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


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bool = False) -> bytes:
    """One WebSocket frame as a server (or, with ``mask``, a client) would send it; no checks:
    any opcode, a control frame of any length, a server frame masked."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    bit = 0x80 if mask else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", size)
    if mask:
        key = b"\x01\x02\x03\x04"
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def close_frame(code: int | None, reason: bytes = b"") -> bytes:
    """A close frame with ``code`` (any, even one never allowed on the wire) or, for None, empty."""
    return frame(0x8, b"" if code is None else struct.pack("!H", code) + reason)


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one (masked) client frame: its opcode and unmasked payload."""
    b0, b1 = await reader.readexactly(2)
    size = b1 & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
    key = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(size)
    return b0 & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(data))


#: A case: (reader, writer, request headers) -> whether it sent a close frame.
Case = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, str]], Awaitable[bool]]


def _upgrade(headers: dict[str, str], accept: str | None = None, extra: str = "") -> bytes:
    accept = _accept_key(headers["sec-websocket-key"]) if accept is None else accept
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    ).encode()


def _status(code: int, phrase: str, extra: str = "") -> bytes:
    return f"HTTP/1.1 {code} {phrase}\r\n{extra}Content-Length: 0\r\n\r\n".encode()


def _opened_then(*frames: bytes) -> Case:
    """A case: a correct handshake, then ``frames`` in one write."""

    async def case(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> bool:
        w.write(_upgrade(h) + b"".join(frames))
        return any(f[0] & 0x0F == 0x8 for f in frames)

    return case


def _answered(response: Callable[[dict[str, str]], bytes], closing: bool = False) -> Case:
    """A case: ``response(headers)`` as the answer to the handshake (ending in a close frame
    if ``closing``)."""

    async def case(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> bool:
        w.write(response(h))
        return closing

    return case


async def _silent(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> bool:
    w.write(_upgrade(h))
    while await r.read(65536):  # ignore every frame, the close frame included
        pass
    return False


async def _no_handshake(
    r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]
) -> bool:
    while await r.read(65536):  # never answer
        pass
    return False


async def _reset(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> bool:
    w.write(_upgrade(h) + frame(0x2, b"x" * 1000)[:100])  # a frame cut short, then a RST
    await w.drain()
    w.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
    )
    w.transport.abort()
    return True  # nothing more to do


async def _unfinished_silent(
    r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]
) -> bool:
    w.write(_upgrade(h) + frame(0x1, b"part", fin=False))  # a fragment, 1 s of silence, TCP closed
    await asyncio.sleep(1)
    w.transport.close()
    return True


async def _drip(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> bool:
    w.write(_upgrade(h))
    for byte in frame(0x1, b"drip drip drip"):  # 16 bytes, one per 100 ms
        w.write(bytes([byte]))
        await w.drain()
        await asyncio.sleep(0.1)
    w.write(close_frame(1000, b"dripped"))
    return True


async def _flood(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> bool:
    w.write(_upgrade(h))
    for _ in range(FLOOD // 1000):  # FLOOD one-byte text frames, in writes of 1,000
        w.write(frame(0x1, b"x") * 1000)
        await w.drain()
    w.write(close_frame(1000, b"flooded"))
    return True


_HELLO_BYE = frame(0x1, b"hello") + close_frame(1000, b"after")
_not_found = _answered(lambda h: _status(404, "Not Found"))

#: How long a case waits for the client's close frame or for it to go, at most.
BOUND = 5.0
#: How many one-byte messages /flood sends.
FLOOD = 10_000

#: The hostile cases by path: each answers the handshake (or not), misbehaves, and returns;
#: the server then reads the client's frames until its close frame or EOF. A connection
#: lasts BOUND seconds at most (then TCP is closed, with no close frame).
CASES: dict[str, Case] = {
    "/no-handshake": _no_handshake,
    "/silent": _silent,
    "/bad-utf8": _opened_then(frame(0x1, b"ok \xff\xfe")),
    "/reserved-opcode": _opened_then(frame(0x3, b"op 3")),
    # Autobahn 4.1.5 / 4.2.5: a text, then a reserved opcode; in one write with the handshake,
    # so the open, message and close events come back to back.
    "/text-then-reserved": _opened_then(frame(0x1, b"echo me"), frame(0x3, b"op 3")),
    # A browser that lets these through gets a message and a clean close: the case says so fast.
    "/masked": _opened_then(frame(0x1, b"masked", mask=True), close_frame(1000, b"after")),
    "/unfinished-silent": _unfinished_silent,
    "/unfinished-close": _opened_then(frame(0x1, b"part", fin=False), close_frame(1000, b"bye")),
    "/long-ping": _opened_then(frame(0x9, b"p" * 126)),
    "/close-999": _opened_then(close_frame(999, b"bad")),
    "/close-1004": _opened_then(close_frame(1004, b"bad")),
    "/close-1005": _opened_then(close_frame(1005)),
    "/close-1005-reason": _opened_then(close_frame(1005, b"bad")),
    "/close-1006": _opened_then(close_frame(1006, b"bad")),
    "/close-1015": _opened_then(close_frame(1015, b"bad")),
    "/close-5000": _opened_then(close_frame(5000, b"bad")),
    "/close-empty": _opened_then(close_frame(None)),
    "/long-reason": _opened_then(close_frame(1000, b"r" * 124)),
    "/bad-accept": _answered(lambda h: _upgrade(h, accept=_accept_key("not the key"))),
    "/subprotocol": _answered(
        lambda h: _upgrade(h, extra="Sec-WebSocket-Protocol: chat\r\n") + _HELLO_BYE,
        closing=True,
    ),
    "/extension": _answered(
        lambda h: _upgrade(h, extra="Sec-WebSocket-Extensions: x-nope\r\n") + _HELLO_BYE,
        closing=True,
    ),
    "/status-403": _answered(lambda h: _status(403, "Forbidden")),
    "/status-500": _answered(lambda h: _status(500, "Internal Server Error")),
    "/redirect": _answered(
        lambda h: _status(302, "Found", f"Location: ws://{h['host']}/hello\r\n")
    ),
    "/hello": _answered(lambda h: _upgrade(h) + _HELLO_BYE, closing=True),  # where it leads
    "/reset": _reset,
    "/flood": _flood,
    "/drip": _drip,
}


class RawServer:
    """A hand-written WebSocket server: the request path picks the misbehaviour (CASES).

    ``accepted[path]`` counts the TCP connections per path; ``closes[path]`` lists
    what the client sent last on each: ``(code, reason)`` of its close frame (code
    None for an empty one), or None if it went without one.
    """

    def __init__(self) -> None:
        self._thread = _LoopThread()
        self.accepted: dict[str, int] = defaultdict(int)
        self.closes: dict[str, list[tuple[int | None, str] | None]] = defaultdict(list)
        self._writers: list[asyncio.StreamWriter] = []
        server = self._thread.run(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        path = "?"
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = urlsplit(lines[0].split(" ")[1]).path
            self.accepted[path] += 1
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
            }
            async with asyncio.timeout(BOUND):
                closing = await CASES.get(path, _not_found)(reader, writer, headers)
                await writer.drain()
                await self._await_close(reader, writer, path, answer=not closing)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            self._writers.remove(writer)
            writer.close()

    async def _await_close(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, answer: bool
    ) -> None:
        """Read the client's frames until its close frame (with ``answer``, answered: code 1000
        back, empty for an empty one) or EOF, and record which."""
        while True:
            try:
                opcode, payload = await read_frame(reader)
            except asyncio.IncompleteReadError:
                self.closes[path].append(None)
                return
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if payload else None
                self.closes[path].append((code, payload[2:].decode(errors="replace")))
                if answer:
                    writer.write(close_frame(1000 if payload else None))
                return

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for writer in list(self._writers):
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
