"""Does Chromium's native WebSocketStream push back on a flooding server? (issue 11, item 3)

Run it with ``.venv/bin/python tests/bench/backpressure.py [--seconds S]`` once dist/ is built
(under 3 minutes with the default S=4 on 2 CPUs). Not a pytest module (tests/bench is in
``norecursedirs``).

A flood server of its own (raw asyncio, 127.0.0.1 only, in a thread) answers the WebSocket
handshake and then writes binary frames of one size (16 B, 1 KiB, 64 KiB, 1 MiB) as fast as the
socket takes them, ``write()`` then ``await drain()``, for S seconds or until 2 GB, whichever
comes first. It records what the kernel accepted (bytes handed to ``write`` minus the
transport's own buffer) and how long each ``drain()`` waited. A page of Chromium (a blank page
served by the local static server: Chromium refuses WebSockets to 127.0.0.1 from about:blank)
consumes the stream in one of these ways:

classic          ``new WebSocket``, ``onmessage`` counts every message (the baseline)
wss-none         ``new WebSocketStream``, ``await opened``, the readable is never touched
wss-locked       ``readable.getReader()`` taken, ``read()`` never called
wss-trickle      ``getReader()``, one ``read()`` every 100 ms (10 messages/s)
wss-pipe-slow    ``readable.pipeTo(WritableStream)`` with ``highWaterMark: 1``, whose ``write``
                 takes 100 ms (a real slow consumer, 10 messages/s)
wss-transform1   ``readable.pipeThrough(TransformStream(hwm 1, hwm 1))``, output never read
wss-all          ``getReader()`` and ``read()`` in a loop as fast as possible
wss-burst-stop   reads as fast as possible for 1 s, then stops reading (lets TCP autotuning grow
                 the socket buffers first)
wss-dropped      like wss-none, but the page keeps no reference to the stream or its readable
py-none          the page of the browser tests (Pyodide loaded); Python runs
                 ``wss = js.WebSocketStream.new(url); opened = await wss.opened`` and reads nothing

Each scenario is a fresh page. At the end of it the table shows, for the connection: the MB the
kernel accepted from the server, the rate over the last 2 s (0 once the server is blocked), the
longest ``drain()`` wait, the MB the page's JS received, the MB in the kernel's socket queues
(server Send-Q + browser Recv-Q, from ``ss``), what is left, i.e. held inside Chromium (written -
read - kernel), ``performance.memory.usedJSHeapSize`` (Chromium runs with
``--enable-precise-memory-info``) and the growth of the proportional set size (PSS) of the
renderer and of the other Chromium processes (the network service lives there). A last group
repeats a few scenarios in a Chromium started with experimental web platform features on.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

BENCH = Path(__file__).resolve().parent
TESTS = BENCH.parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

import harness  # noqa: E402
import harness.playwright  # noqa: E402
from harness.processes import descendants  # noqa: E402
from servers import StaticServer  # noqa: E402

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CAP_BYTES = 2_000_000_000  # per scenario
CHUNK_TARGET = 256 * 1024  # frames are written in chunks of about this size
SIZES = {"16 B": 16, "1 KiB": 1024, "64 KiB": 65536, "1 MiB": 1 << 20}
MB = 1e6

# -- the flood server ----------------------------------------------------------------------


def _frame(payload: bytes) -> bytes:
    """One unmasked binary frame with FIN set."""
    n = len(payload)
    if n < 126:
        head = bytes((0x82, n))
    elif n < 1 << 16:
        head = bytes((0x82, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x82, 127)) + n.to_bytes(8, "big")
    return head + payload


@dataclass
class Flood:
    """What the server saw on one connection."""

    size: int
    seconds: float
    done: threading.Event = field(default_factory=threading.Event)
    release: asyncio.Future[None] | None = None
    written: int = 0  # accepted by the kernel
    samples: list[tuple[float, int]] = field(default_factory=list)
    longest_drain: float = 0.0
    blocked_at_end: float = 0.0  # how long the last drain() had been waiting at the deadline
    port: int = 0  # the server side's local port (for ss)
    error: str | None = None

    def rate_last(self, window: float) -> float:
        """Bytes per second accepted by the kernel over the last ``window`` seconds."""
        if not self.samples:
            return 0.0
        t_end, w_end = self.samples[-1]
        older = [(t, w) for t, w in self.samples if t <= t_end - window] or self.samples[:1]
        t0, w0 = older[-1]
        return (w_end - w0) / (t_end - t0) if t_end > t0 else 0.0


class FloodServer:
    """``/flood?id=..``: after the handshake, floods the frames of the registered Flood."""

    def __init__(self) -> None:
        self.floods: dict[str, Flood] = {}
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        async def main() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            async with self._server:
                await self._server.serve_forever()

        self._thread = threading.Thread(target=self._run, args=(main(),), daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the flood server did not start")
        self.url = f"ws://127.0.0.1:{self.port}"

    def _run(self, coro: Any) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(coro)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        for task in asyncio.all_tasks(self._loop):
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(10)

    def add(self, key: str, flood: Flood) -> str:
        flood.release = self._loop.create_future()
        self.floods[key] = flood
        return f"{self.url}/flood?id={key}"

    def finish(self, flood: Flood) -> None:
        """Let the server drop the connection (after the figures were read)."""
        release = flood.release
        assert release is not None
        self._loop.call_soon_threadsafe(lambda: release.done() or release.set_result(None))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        flood: Flood | None = None
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")
            path = lines[0].split()[1]
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])
            }
            query = parse_qs(urlsplit(path).query)
            flood = self.floods.get(query.get("id", [""])[0])
            if flood is None:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                return
            key = headers["sec-websocket-key"]
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
            )
            await writer.drain()
            flood.port = writer.get_extra_info("sockname")[1]
            await self._flood(flood, writer)
        except Exception as exc:  # reported in the table, not fatal
            if flood is not None:
                flood.error = f"{type(exc).__name__}: {exc}"
        finally:
            if flood is not None:
                flood.done.set()
                with contextlib.suppress(Exception):
                    assert flood.release is not None
                    await asyncio.wait_for(flood.release, 60)
            writer.transport.abort()

    async def _flood(self, flood: Flood, writer: asyncio.StreamWriter) -> None:
        frame = _frame(bytes(flood.size))
        chunk = frame * max(1, CHUNK_TARGET // len(frame))
        transport = writer.transport
        start = time.monotonic()
        deadline = start + flood.seconds
        handed = 0
        waiting_since: list[float | None] = [None]

        def accepted() -> int:
            return handed - transport.get_write_buffer_size()

        async def sample() -> None:
            while True:
                flood.samples.append((time.monotonic() - start, accepted()))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        try:
            while time.monotonic() < deadline and accepted() < CAP_BYTES:
                writer.write(chunk)
                handed += len(chunk)
                t0 = time.monotonic()
                waiting_since[0] = t0
                try:
                    await asyncio.wait_for(writer.drain(), max(0.0, deadline - t0))
                except TimeoutError:
                    flood.blocked_at_end = time.monotonic() - t0
                    flood.longest_drain = max(flood.longest_drain, flood.blocked_at_end)
                    break
                flood.longest_drain = max(flood.longest_drain, time.monotonic() - t0)
        finally:
            sampler.cancel()
            flood.samples.append((time.monotonic() - start, accepted()))
            flood.written = accepted()


def socket_queues(port: int) -> tuple[int, int]:
    """(server Send-Q, browser Recv-Q) in bytes of the established connection on ``port``."""

    def ss(expr: str, column: int) -> int:
        out = subprocess.run(
            ["ss", "-Htn", "state", "established", expr],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
        return sum(int(line.split()[column]) for line in out.splitlines() if line.strip())

    try:
        return ss(f"( sport = :{port} )", 1), ss(f"( dport = :{port} )", 0)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return -1, -1


# -- the page ----------------------------------------------------------------------------------

SETUP_JS = r"""
async ({mode, url}) => {
  const st = window.__bp = {bytes: 0, msgs: 0, error: null};
  const count = (d) => {
    st.msgs++;
    st.bytes += typeof d === "string" ? d.length : d.byteLength;
  };
  const fail = (e) => { st.error = String(e); };
  if (mode === "classic") {
    const ws = st.ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => count(e.data);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onclose = (e) => reject(new Error("closed " + e.code));
    });
    ws.onclose = (e) => fail("closed " + e.code);
    return "open";
  }
  if (typeof WebSocketStream === "undefined") return "no WebSocketStream";
  if (mode === "wss-dropped") {
    await new WebSocketStream(url).opened;
    return "open";
  }
  if (mode === "py-none") {
    await window.pyodideReady;
    await pyodide.runPythonAsync(
      "import js\nwss = js.WebSocketStream.new(" + JSON.stringify(url) + ")\n" +
      "opened = await wss.opened\n");
    return "open";
  }
  const wss = st.wss = new WebSocketStream(url);
  const { readable } = await wss.opened;
  st.readable = readable;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  if (mode === "wss-none") {
    // never touched
  } else if (mode === "wss-locked") {
    st.reader = readable.getReader();
  } else if (mode === "wss-trickle") {
    const reader = st.reader = readable.getReader();
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        count(value);
        await sleep(100);
      }
    })().catch(fail);
  } else if (mode === "wss-pipe-slow") {
    const sink = new WritableStream(
      { write: (chunk) => { count(chunk); return sleep(100); } },
      new CountQueuingStrategy({ highWaterMark: 1 }));
    readable.pipeTo(sink).catch(fail);
  } else if (mode === "wss-transform1") {
    st.out = readable.pipeThrough(new TransformStream(
      {}, new CountQueuingStrategy({ highWaterMark: 1 }),
      new CountQueuingStrategy({ highWaterMark: 1 })));
  } else if (mode === "wss-all" || mode === "wss-burst-stop") {
    const reader = st.reader = readable.getReader();
    const stopAt = mode === "wss-all" ? Infinity : performance.now() + 1000;
    (async () => {
      while (performance.now() < stopAt) {
        const { value, done } = await reader.read();
        if (done) break;
        count(value);
      }
    })().catch(fail);
  } else {
    throw new Error("unknown mode " + mode);
  }
  return "open";
}
"""

STATS_JS = """
async () => {
  const st = window.__bp;
  const m = performance.memory;
  return { bytes: st.bytes, msgs: st.msgs, error: st.error,
           heap: m ? m.usedJSHeapSize : null };
}
"""


def chromium_pss(browser: harness.Browser) -> tuple[int, int]:
    """(renderer PSS, other Chromium processes' PSS) in bytes; (-1, -1) if unknown."""
    driver = getattr(browser, "_driver_pid", None)
    if not driver:
        return -1, -1
    renderer = other = 0
    for pid in descendants(driver):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"chrom" not in cmdline.split(b" ")[0]:
                continue
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        pss = next(
            (int(ln.split()[1]) * 1024 for ln in rollup.splitlines() if ln.startswith("Pss:")), 0
        )
        if b"--type=renderer" in cmdline:
            renderer += pss
        else:
            other += pss
    return renderer, other


# -- running -----------------------------------------------------------------------------------


@dataclass
class Row:
    group: str
    size: str
    mode: str
    flood: Flood | None = None
    page: dict[str, Any] = field(default_factory=dict)
    queues: tuple[int, int] = (-1, -1)
    pss: tuple[int, int] = (0, 0)
    note: str = ""


def run_scenario(
    browser: harness.Browser,
    server: FloodServer,
    static_url: str,
    group: str,
    size_name: str,
    mode: str,
    seconds: float,
    n: int,
) -> Row:
    row = Row(group, size_name, mode)
    flood = Flood(SIZES[size_name], seconds)
    url = server.add(f"s{n}", flood)
    html = "page.html" if mode.startswith("py-") else "blank.html"
    page = browser.new_page(static_url + "/tests/" + html)
    try:
        pss0 = chromium_pss(browser)
        state = page.evaluate(SETUP_JS, {"mode": mode, "url": url}, timeout=60)
        if state != "open":
            row.note = str(state)
            server.finish(flood)
            return row
        if not flood.done.wait(seconds + 15):
            row.note = "server did not finish"
        row.flood = flood
        row.queues = socket_queues(flood.port)
        row.page = page.evaluate(STATS_JS, timeout=30)
        pss1 = chromium_pss(browser)
        row.pss = (pss1[0] - pss0[0], pss1[1] - pss0[1])
        if flood.error:
            row.note = flood.error
        elif row.page.get("error"):
            row.note = "page: " + row.page["error"]
    finally:
        server.finish(flood)
        page.close()
    return row


def fmt_mb(n: float | None) -> str:
    return "?" if n is None or n < 0 else f"{n / MB:.1f}"


def fmt_delta(n: int) -> str:
    return f"{n / MB:+.1f}"


def print_table(rows: list[Row], seconds: float) -> None:
    head = (
        "| browser | size | scenario | server wrote MB | MB/s last 2 s | longest drain() s "
        "| server blocked | page read MB | kernel queues MB | held in Chromium MB "
        "| JS heap MB | renderer ΔPSS MB | other ΔPSS MB | note |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        f = r.flood
        if f is None:
            print(f"| {r.group} | {r.size} | {r.mode} |" + " |" * 10 + f" {r.note} |")
            continue
        read = r.page.get("bytes", 0)
        sendq, recvq = r.queues
        kernel = sendq + recvq if sendq >= 0 else -1
        # Racy while the page still reads (the figures are taken one after another).
        held = max(0, f.written - read - kernel) if kernel >= 0 else -1
        last = f.rate_last(2.0)
        blocked = "yes" if f.blocked_at_end >= 1.0 and last < 0.01 * MB else "no"
        print(
            f"| {r.group} | {r.size} | {r.mode} | {fmt_mb(f.written)} | {last / MB:.1f} "
            f"| {f.longest_drain:.2f} | {blocked} | {fmt_mb(read)} | {fmt_mb(kernel)} "
            f"| {fmt_mb(held)} | {fmt_mb(r.page.get('heap'))} | {fmt_delta(r.pss[0])} "
            f"| {fmt_delta(r.pss[1])} | {r.note} |"
        )
    print(
        f"\n{seconds:g} s per scenario; 'server blocked': its last drain() waited >= 1 s and "
        "the kernel took < 0.01 MB/s over the last 2 s."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per scenario (max 10)")
    parser.add_argument("--no-flags", action="store_true", help="skip the experimental-flags run")
    args = parser.parse_args()
    seconds = min(max(args.seconds, 1.0), 10.0)
    if not (ROOT / "dist" / "pyodide" / "pyodide-lock.json").exists():
        print("dist/ is not built: run ./build.sh", file=sys.stderr)
        return 2

    plain = [(size, mode) for size in SIZES for mode in ("classic", "wss-none", "wss-pipe-slow")]
    plain += [
        ("64 KiB", m)
        for m in (
            "wss-locked",
            "wss-trickle",
            "wss-transform1",
            "wss-all",
            "wss-burst-stop",
            "wss-dropped",
            "py-none",
        )
    ]
    plain += [("1 MiB", "wss-trickle"), ("1 MiB", "wss-burst-stop")]
    flagged = [("64 KiB", "wss-none"), ("64 KiB", "wss-pipe-slow"), ("1 MiB", "wss-none")]
    groups = [("default", (), plain)]
    if not args.no_flags:
        groups.append(
            (
                "experimental",
                (
                    "--enable-experimental-web-platform-features",
                    "--enable-blink-features=WebSocketStream",
                ),
                flagged,
            )
        )

    static = StaticServer(ROOT / "dist", {"/tests/": TESTS})
    server = FloodServer()
    rows: list[Row] = []
    base_args = harness.playwright.CHROMIUM_ARGS
    n = 0
    try:
        for group, extra, scenarios in groups:
            # The harness reads this module constant when it launches Chromium.
            harness.playwright.CHROMIUM_ARGS = (
                *base_args,
                "--enable-precise-memory-info",
                *extra,
            )
            browser = harness.launch("chromium")
            try:
                print(f"# {group}: {browser.description} {' '.join(extra)}", flush=True)
                for size_name, mode in scenarios:
                    n += 1
                    row = run_scenario(
                        browser, server, static.url, group, size_name, mode, seconds, n
                    )
                    rows.append(row)
                    wrote = fmt_mb(row.flood.written) if row.flood else "-"
                    print(f"  {size_name:>6} {mode:<15} wrote {wrote} MB {row.note}", flush=True)
            finally:
                browser.close()
                harness.playwright.CHROMIUM_ARGS = base_args
    finally:
        server.close()
        static.close()
    print()
    print_table(rows, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
