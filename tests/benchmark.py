"""Throughput benchmark: our Python API and JS facade against the browser's raw WebSocket.

Run it with ``./build.sh bench [--engine E] [--only recv,send,rtt] [--target S] [--reps N]``
(or ``.venv/bin/python tests/benchmark.py ...`` once dist/ is built). All three engines with
the defaults take about 4-5 minutes on 2 CPUs.

For each engine, in one page and one run, it measures:

receive
    A flood server sends n messages of 16 B, 1 KiB and 64 KiB (text and binary) as fast as
    TCP allows, after the client says "go". Read by (a) a raw JS ``WebSocket`` counting in
    ``onmessage``, (b) our Python API (``async for msg in ws``), (c) the JS facade (``await
    ws.recv()`` loop) and (d) a naive Python loop (``create_proxy`` onmessage ->
    ``asyncio.Queue`` -> ``to_bytes()`` / ``str``), for reference.
send
    A sink server counts the messages it receives and answers "done" after n of them. Sent by
    a raw JS ``ws.send`` loop, Python ``await ws.send()`` and the facade's ``await ws.send()``.
round trip
    An echo server returns each 16 B message; the client sends the next one when the previous
    came back (latency: what each layer adds to waking up a reader, plus the send path).

Each figure is timed in the page (``performance.now()``, precise as the page is cross-origin
isolated) over enough messages for ``--target`` seconds (n is calibrated by a warm-up run per
variant), repeated ``--reps`` times; the median is shown with its ratio to raw JS measured in
the same page. The flood/sink/echo server is a minimal WebSocket server of its own (pre-built
frames written in 1 MB chunks; a sink that skips payloads without unmasking them) in a child
process, so that the server is never the bottleneck and shares no GIL with the drivers. Every
run checks that all n messages (and all bytes) arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = ROOT / "dist"

SIZES = (16, 1024, 65536)
KINDS = (False, True)  # binary?

RECV_VARIANTS = {
    "raw": "raw JS",
    "python": "python async for",
    "facade": "JS facade",
    "naive": "naive python",
}
SEND_VARIANTS = {
    "raw": "raw JS",
    "python": "python send()",
    "facade": "JS facade",
}
RTT_VARIANTS = {
    "raw": "raw JS",
    "python": "python send+recv",
    "facade": "JS facade",
    "naive": "naive python",
}
SHORT = {"raw": "raw", "python": "py", "facade": "facade", "naive": "naive"}

# --------------------------------------------------------------------------------------------
# The flood / sink server (runs in a child process: `benchmark.py --serve`)

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


async def _serve() -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", 0, limit=1 << 20)
    print(server.sockets[0].getsockname()[1], flush=True)
    # Run until our parent closes our stdin (or dies).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
    server.close()


class FloodServer:
    """The server above in a child process; ``url`` is ws://127.0.0.1:PORT."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
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


# --------------------------------------------------------------------------------------------
# What runs in the page

SETUP_JS = """
async () => {
  await window.pyodideReady;
  window.__bench = {
    facade: await import("/websocket_streaming.js"),
    async py(code, arg) {
      const globals = pyodide.globals.get("dict")();
      try {
        globals.set("ARG", JSON.stringify(arg));
        await pyodide.runPythonAsync(code, { globals });
        return JSON.parse(globals.get("RESULT"));
      } finally {
        globals.destroy();
      }
    },
  };
  pyodide.runPython("import websocket_streaming.browser");  // imported before any timing
  return true;
}
"""

_SIZE_JS = "(d) => typeof d === 'string' ? d.length : d.byteLength"

RAW_RECV_JS = f"""
async ({{url, n}}) => {{
  const size = {_SIZE_JS};
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => {{ ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); }});
  let count = 0, bytes = 0;
  const done = new Promise((ok) => {{
    ws.onmessage = (e) => {{ bytes += size(e.data); if (++count === n) ok(performance.now()); }};
  }});
  const closed = new Promise((ok) => {{ ws.onclose = ok; }});
  const t0 = performance.now();
  ws.send("go");
  const t1 = await done;
  ws.close();
  await closed;
  return {{ ms: t1 - t0, count, bytes }};
}}
"""

FACADE_RECV_JS = f"""
async ({{url, n}}) => {{
  const size = {_SIZE_JS};
  const ws = new __bench.facade.WebSocketStream(url, {{ pyodide }});
  await ws.opened;
  let count = 0, bytes = 0;
  const t0 = performance.now();
  await ws.send("go");
  while (count < n) {{ bytes += size(await ws.recv()); count++; }}
  const t1 = performance.now();
  await ws.close();
  return {{ ms: t1 - t0, count, bytes }};
}}
"""

PY_RECV = """
import json
import js
from websocket_streaming import connect

async def main(url, n):
    ws = await connect(url)
    count = nbytes = 0
    t0 = js.performance.now()
    await ws.send("go")
    async for msg in ws:
        count += 1
        nbytes += len(msg)
        if count == n:
            break
    t1 = js.performance.now()
    await ws.close()
    return {"ms": t1 - t0, "count": count, "bytes": nbytes}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

NAIVE_RECV = """
import asyncio
import json
import js
from pyodide.ffi import create_proxy

async def main(url, n):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    opened, closed = loop.create_future(), loop.create_future()
    ws = js.WebSocket.new(url)
    ws.binaryType = "arraybuffer"
    handlers = [
        create_proxy(lambda e: opened.done() or opened.set_result(None)),
        create_proxy(lambda e: queue.put_nowait(e.data)),
        create_proxy(lambda e: closed.done() or closed.set_result(None)),
    ]
    ws.onopen, ws.onmessage, ws.onclose = handlers
    await opened
    nbytes = 0
    t0 = js.performance.now()
    ws.send("go")
    for _ in range(n):
        data = await queue.get()
        if not isinstance(data, str):
            data = data.to_bytes()
        nbytes += len(data)
    t1 = js.performance.now()
    ws.close()
    await closed
    for handler in handlers:
        handler.destroy()
    return {"ms": t1 - t0, "count": n, "bytes": nbytes}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

RAW_SEND_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); });
  const done = new Promise((ok) => { ws.onmessage = (e) => ok([performance.now(), e.data]); });
  const closed = new Promise((ok) => { ws.onclose = ok; });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ws.send(msg);
  const [t1, reply] = await done;
  ws.close();
  await closed;
  return { ms: t1 - t0, reply };
}
"""

FACADE_SEND_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new __bench.facade.WebSocketStream(url, { pyodide });
  await ws.opened;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await ws.send(msg);
  const reply = await ws.recv();
  const t1 = performance.now();
  await ws.close();
  return { ms: t1 - t0, reply };
}
"""

PY_SEND = """
import json
import js
from websocket_streaming import connect

async def main(url, n, size, binary):
    msg = b"x" * size if binary else "x" * size
    ws = await connect(url)
    t0 = js.performance.now()
    for _ in range(n):
        await ws.send(msg)
    reply = await ws.recv()
    t1 = js.performance.now()
    await ws.close()
    return {"ms": t1 - t0, "reply": reply}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

RAW_RTT_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); });
  let count = 0;
  const done = new Promise((ok) => {
    ws.onmessage = (e) => { if (++count === n) ok(performance.now()); else ws.send(msg); };
  });
  const closed = new Promise((ok) => { ws.onclose = ok; });
  const t0 = performance.now();
  ws.send(msg);
  const t1 = await done;
  ws.close();
  await closed;
  return { ms: t1 - t0, count };
}
"""

FACADE_RTT_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new __bench.facade.WebSocketStream(url, { pyodide });
  await ws.opened;
  let count = 0;
  const t0 = performance.now();
  for (; count < n; count++) { await ws.send(msg); await ws.recv(); }
  const t1 = performance.now();
  await ws.close();
  return { ms: t1 - t0, count };
}
"""

PY_RTT = """
import json
import js
from websocket_streaming import connect

async def main(url, n, size, binary):
    msg = b"x" * size if binary else "x" * size
    ws = await connect(url)
    t0 = js.performance.now()
    for _ in range(n):
        await ws.send(msg)
        await ws.recv()
    t1 = js.performance.now()
    await ws.close()
    return {"ms": t1 - t0, "count": n}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

NAIVE_RTT = """
import asyncio
import json
import js
from pyodide.ffi import create_proxy, to_js

async def main(url, n, size, binary):
    msg = b"x" * size if binary else "x" * size
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    opened, closed = loop.create_future(), loop.create_future()
    ws = js.WebSocket.new(url)
    ws.binaryType = "arraybuffer"
    handlers = [
        create_proxy(lambda e: opened.done() or opened.set_result(None)),
        create_proxy(lambda e: queue.put_nowait(e.data)),
        create_proxy(lambda e: closed.done() or closed.set_result(None)),
    ]
    ws.onopen, ws.onmessage, ws.onclose = handlers
    await opened
    t0 = js.performance.now()
    for _ in range(n):
        ws.send(to_js(msg) if binary else msg)
        data = await queue.get()
        if not isinstance(data, str):
            data = data.to_bytes()
    t1 = js.performance.now()
    ws.close()
    await closed
    for handler in handlers:
        handler.destroy()
    return {"ms": t1 - t0, "count": n}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

PY_CALL_JS = "async ([code, arg]) => await __bench.py(code, arg)"

RECV_SOURCES = {
    "raw": RAW_RECV_JS,
    "python": PY_RECV,
    "facade": FACADE_RECV_JS,
    "naive": NAIVE_RECV,
}
SEND_SOURCES = {"raw": RAW_SEND_JS, "python": PY_SEND, "facade": FACADE_SEND_JS}
RTT_SOURCES = {"raw": RAW_RTT_JS, "python": PY_RTT, "facade": FACADE_RTT_JS, "naive": NAIVE_RTT}


# --------------------------------------------------------------------------------------------
# Measuring


class Bench:
    def __init__(self, page: Any, ws_url: str, target: float, reps: int) -> None:
        self.page = page
        self.ws_url = ws_url
        self.target = target
        self.reps = reps

    def _run(self, source: str, arg: dict[str, Any]) -> dict[str, Any]:
        if source.lstrip().startswith("async ("):
            result: dict[str, Any] = self.page.evaluate(source, arg, timeout=180)
        else:
            result = self.page.evaluate(PY_CALL_JS, [source, arg], timeout=180)
        return result

    def once(self, direction: str, variant: str, size: int, binary: bool, n: int) -> float:
        """One timed run of n messages; returns messages per second (checked for loss)."""
        if direction == "recv":
            url = f"{self.ws_url}/flood?n={n}&size={size}" + ("&binary" if binary else "")
            out = self._run(RECV_SOURCES[variant], {"url": url, "n": n})
            if out["count"] != n or out["bytes"] != n * size:
                raise RuntimeError(f"recv {variant}: got {out}, expected {n} x {size} B")
        elif direction == "send":
            url = f"{self.ws_url}/sink?n={n}"
            arg = {"url": url, "n": n, "size": size, "binary": binary}
            out = self._run(SEND_SOURCES[variant], arg)
            if out["reply"] != f"done {n} {n * size}":
                raise RuntimeError(f"send {variant}: server said {out['reply']!r}")
        else:
            arg = {"url": f"{self.ws_url}/echo", "n": n, "size": size, "binary": binary}
            out = self._run(RTT_SOURCES[variant], arg)
            if out["count"] != n:
                raise RuntimeError(f"rtt {variant}: got {out}, expected {n} round trips")
        return n / max(out["ms"], 1e-3) * 1000.0

    def rate(self, direction: str, variant: str, size: int, binary: bool) -> float:
        """Median messages/s over `reps` runs of about `target` seconds each."""
        # Warm up (JIT, first connection) and calibrate n on short runs.
        n = {16: 300, 1024: 300, 65536: 30}[size]
        for budget in (0.03, 0.1):
            rate = self.once(direction, variant, size, binary, n)
            n = max(n, int(rate * budget))
        n = max(n, min(int(rate * self.target), (1 << 30) // size, 2_000_000))
        return statistics.median(
            self.once(direction, variant, size, binary, n) for _ in range(self.reps)
        )


def fmt_size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size // 1024} KiB"


def fmt_rate(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.2f}M/s"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k/s"
    return f"{rate:.0f}/s"


def fmt_mb(rate: float, size: int) -> str:
    mb = rate * size / 1e6
    return f"{mb:.2f} MB/s" if mb < 10 else f"{mb:.0f} MB/s"


def row_label(size: int, binary: bool) -> str:
    return f"{fmt_size(size)} {'binary' if binary else 'text'}"


def fmt_extra(direction: str, rate: float, size: int) -> str:
    """MB/s of payload, or for round trips the time of one."""
    if direction == "rtt":
        return f"{1e6 / rate:.0f} us"
    return fmt_mb(rate, size)


ALL_ROWS = [(size, binary) for size in SIZES for binary in KINDS]
#: (direction, title, variants, rows)
SECTIONS = [
    ("recv", "receive", RECV_VARIANTS, ALL_ROWS),
    ("send", "send", SEND_VARIANTS, ALL_ROWS),
    ("rtt", "round trip", RTT_VARIANTS, [(16, False), (16, True)]),
]

Results = dict[tuple[str, int, bool], dict[str, float]]


def run_engine(engine: str, static_url: str, ws_url: str, args: argparse.Namespace) -> Any:
    import browsers

    started = time.monotonic()
    browser = browsers.launch(engine)
    try:
        launched = time.monotonic()
        page = browser.new_page(static_url + "/tests/page.html", timeout=120)
        page.evaluate(SETUP_JS, timeout=180)
        load = time.monotonic() - launched
        print(f"\n== {browser.description}", flush=True)
        print(
            f"   browser start {launched - started:.1f} s; "
            f"page open -> Pyodide + websocket_streaming ready {load:.1f} s",
            flush=True,
        )
        bench = Bench(page, ws_url, args.target, args.reps)
        results: Results = {}
        for direction, title, variants, rows in SECTIONS:
            if direction not in args.only:
                continue
            cells = [f"{variants['raw']:<22}"] + [
                f"{variants[v]:<26}" for v in variants if v != "raw"
            ]
            print(f"\n   {title:<14}" + " | ".join(cells), flush=True)
            for size, binary in rows:
                rates = {v: bench.rate(direction, v, size, binary) for v in variants}
                results[(direction, size, binary)] = rates
                raw = rates["raw"]
                line = [f"{fmt_rate(raw):>9} {fmt_extra(direction, raw, size):>11}  "]
                for v in variants:
                    if v == "raw":
                        continue
                    r = rates[v]
                    extra = fmt_extra(direction, r, size)
                    line.append(f"{fmt_rate(r):>9} {extra:>10} {r / raw:5.2f}x")
                print(f"   {row_label(size, binary):<14}" + " | ".join(line), flush=True)
        for line in page.console():
            if line.startswith(("pageerror", "error")):
                print(f"   console: {line}", flush=True)
        return {"description": browser.description, "load": load, "results": results}
    finally:
        browser.close()


def print_summary(summary: dict[str, Any], only: list[str]) -> None:
    engines = list(summary)
    print("\n== Summary: raw JS rate, then each variant's rate as a ratio to raw JS (>1: faster)")
    print(
        "   Pyodide + package load: "
        + ", ".join(f"{e} {summary[e]['load']:.1f} s" for e in engines)
    )
    for direction, title, variants, rows in SECTIONS:
        if direction not in only:
            continue
        others = [v for v in variants if v != "raw"]
        head = "raw JS " + " ".join(f"{SHORT[v]:>6}" for v in others)
        width = len(head) + 4
        print(f"\n   {title:<14}" + " | ".join(f"{e:<{width}}" for e in engines))
        print(f"   {'':<14}" + " | ".join(f"{head:>{width}}" for e in engines))
        for size, binary in rows:
            cells = []
            for e in engines:
                rates = summary[e]["results"][(direction, size, binary)]
                raw = rates["raw"]
                ratios = " ".join(f"{rates[v] / raw:5.2f}x" for v in others)
                cells.append(f"{fmt_rate(raw):>9} {ratios}".rjust(width))
            print(f"   {row_label(size, binary):<14}" + " | ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engine",
        action="append",
        choices=("chromium", "firefox", "webkit"),
        help="benchmark this engine only (repeatable; default: all three)",
    )
    parser.add_argument("--target", type=float, default=0.5, help="seconds per measurement")
    parser.add_argument("--reps", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument(
        "--only",
        default="recv,send,rtt",
        help="comma-separated sections to run: recv, send, rtt (default: all)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return 0
    args.only = [part.strip() for part in args.only.split(",") if part.strip()]
    if not args.only or set(args.only) - {"recv", "send", "rtt"}:
        parser.error("--only takes a comma-separated list of recv, send, rtt")

    sys.path.insert(0, str(HERE))
    import browsers
    from servers import StaticServer

    if not (DIST / "pyodide" / "pyodide-lock.json").exists():
        print("dist/ is not built: run ./build.sh first", file=sys.stderr)
        return 2
    engines = args.engine or list(browsers.ENGINES)
    print(
        f"websocket-streaming benchmark: {os.cpu_count()} CPUs, {args.target} s per figure, "
        f"median of {args.reps}; rates in messages/s and MB/s of payload, "
        "round trips/s and microseconds per round trip"
    )
    static = StaticServer(DIST, {"/tests/": HERE})
    flood = FloodServer()
    summary: dict[str, Any] = {}
    errors = []
    started = time.monotonic()
    try:
        for engine in engines:
            try:
                summary[engine] = run_engine(engine, static.url, flood.url, args)
            except browsers.BrowserUnavailable as exc:
                print(f"\n== {engine}: unavailable, skipped: {exc}", flush=True)
            except Exception as exc:  # one engine failing must not lose the others' figures
                print(f"\n== {engine}: FAILED: {type(exc).__name__}: {exc}", flush=True)
                errors.append(engine)
    finally:
        flood.close()
        static.close()
    if summary:
        print_summary(summary, args.only)
    print(f"\n   total time {time.monotonic() - started:.0f} s")
    return 1 if errors or not summary else 0


if __name__ == "__main__":
    sys.exit(main())
