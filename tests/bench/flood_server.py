"""The benchmark's WebSocket server: flood, sink and echo, run in a child process.

A minimal server of its own, so that it is never the bottleneck: ``/flood?n=&size=[&binary]``
writes n pre-built frames in 1 MB chunks after the client says "go"; ``/sink?n=`` counts n
messages, skipping their payloads without unmasking them, and answers ``done <n> <bytes>``;
``/echo`` returns every message; :func:`serve_websockets` is a second echo server, the
`websockets` library's.  :class:`FloodServer` runs either in a child process (this file
as a script, or ``python tests/bench --serve``), which prints its port and serves until its
stdin closes, sharing no GIL with the browser drivers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked (server-to-client) frame with FIN set."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


class _Frames:
    """Reads client frames: whole small ones, or counts messages skipping their payloads."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.pending = b""

    async def _exactly(self, n: int) -> bytes:
        while len(self.pending) < n:
            chunk = await self.reader.read(1 << 16)
            if not chunk:
                raise ConnectionError("EOF")
            self.pending += chunk
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    async def frame(self) -> tuple[int, bytes]:
        """The next whole frame: (opcode, unmasked payload). For small frames only."""
        b0, b1 = await self._exactly(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(await self._exactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await self._exactly(8), "big")
        mask = await self._exactly(4) if b1 & 0x80 else b"\0\0\0\0"
        payload = await self._exactly(length)
        return b0 & 0x0F, bytes(b ^ mask[i & 3] for i, b in enumerate(payload))

    async def _read(self) -> bytes:
        chunk = await self.reader.read(1 << 20)
        if not chunk:
            raise ConnectionError("EOF")
        return chunk

    async def count(self, n: int) -> tuple[int, int]:
        """Count n data messages (FIN frames), skipping payloads; return (messages, bytes)."""
        data, self.pending = self.pending, b""
        pos = msgs = nbytes = 0
        while msgs < n:
            avail = len(data) - pos
            if avail >= 2:
                b0, b1 = data[pos], data[pos + 1]
                length = b1 & 0x7F
                head = 4 if length == 126 else 10 if length == 127 else 2
                if b1 & 0x80:
                    head += 4  # the mask: payloads are skipped, never unmasked
                if avail >= head:
                    if length == 126:
                        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                    elif length == 127:
                        length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                    if b0 & 0x0F >= 8:
                        raise ConnectionError(f"control frame {b0 & 0x0F} while counting")
                    end = pos + head + length
                    if end > len(data):  # skip the rest of the payload as it comes
                        skip = end - len(data)
                        chunk = await self._read()
                        while len(chunk) < skip:
                            skip -= len(chunk)
                            chunk = await self._read()
                        data, end = chunk, skip
                    if b0 & 0x80:
                        msgs += 1
                    nbytes += length
                    pos = end
                    continue
            data, pos = data[pos:] + await self._read(), 0
        self.pending = data[pos:]
        return msgs, nbytes


async def _until_close(frames: _Frames, writer: asyncio.StreamWriter) -> None:
    """Read frames until the client's close frame; answer it, then end the TCP connection."""
    while True:
        opcode, payload = await frames.frame()
        if opcode == 8:
            writer.write(_frame(8, payload[:2]))
            await writer.drain()
            return


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        key = headers["sec-websocket-key"] + _GUID
        accept = base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
        writer.write(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        url = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        n = int(query.get("n", 0))
        frames = _Frames(reader)
        if url.path == "/flood":
            size, binary = int(query.get("size", 0)), "binary" in query
            one = _frame(2 if binary else 1, b"x" * size)
            per_chunk = max(1, (1 << 20) // len(one))
            chunk = one * per_chunk
            writer.transport.set_write_buffer_limits(high=4 << 20)
            await frames.frame()  # "go"
            full, rest = divmod(n, per_chunk)
            for _ in range(full):
                writer.write(chunk)
                await writer.drain()
            writer.write(one * rest)
            await writer.drain()
        elif url.path == "/sink":
            msgs, nbytes = await frames.count(n)
            writer.write(_frame(1, f"done {msgs} {nbytes}".encode()))
            await writer.drain()
        elif url.path == "/echo":
            while True:
                opcode, payload = await frames.frame()
                if opcode == 8:
                    writer.write(_frame(8, payload[:2]))
                    await writer.drain()
                    return
                writer.write(_frame(opcode, payload))
        await _until_close(frames, writer)
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        pass
    finally:
        writer.close()


async def serve() -> None:
    """Serve on 127.0.0.1 (a free port, printed first) until stdin closes."""
    server = await asyncio.start_server(_handle, "127.0.0.1", 0, limit=1 << 20)
    print(server.sockets[0].getsockname()[1], flush=True)
    # Run until our parent closes our stdin (or dies).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
    server.close()


async def serve_websockets() -> None:
    """A second echo server, the `websockets` library's (what a user's test server often is:
    the plain-loop round trip is measured against it), on a free port printed first, until
    stdin closes."""
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve

    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with ws_serve(echo, "127.0.0.1", 0) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)


class FloodServer:
    """The server above in a child process (with ``websockets``: serve_websockets()'s echo
    server instead); ``url`` is ws://127.0.0.1:PORT."""

    def __init__(self, websockets: bool = False) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *(["--websockets"] if websockets else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError("the benchmark server did not start")
        self.url = f"ws://127.0.0.1:{int(line)}"

    def close(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    asyncio.run(serve_websockets() if "--websockets" in sys.argv else serve())
