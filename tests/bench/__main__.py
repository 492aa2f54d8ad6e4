"""Throughput benchmark: our Python API and JS facade against the browser's raw WebSocket.

Run it with ``./build.sh bench [--engine E] [--only recv,send,rtt] [--target S] [--reps N]``
(or ``.venv/bin/python tests/bench ...`` once dist/ is built). All three engines with
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

Files: this one (options, measuring, the report), ``page_code.py`` (what runs in the page) and
``flood_server.py`` (the server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from flood_server import FloodServer, serve
from page_code import PY_CALL_JS, RECV_SOURCES, RTT_SOURCES, SEND_SOURCES, SETUP_JS

BENCH = Path(__file__).resolve().parent
TESTS = BENCH.parent
ROOT = TESTS.parent
DIST = ROOT / "dist"

SIZES = (16, 1024, 65536)
KINDS = (False, True)  # binary?

RECV_VARIANTS = {
    "raw": "raw JS",
    "python": "python async for",
    "native": "python, native backend",
    "facade": "JS facade",
    "naive": "naive python",
}
SEND_VARIANTS = {
    "raw": "raw JS",
    "python": "python send()",
    "native": "python, native backend",
    "facade": "JS facade",
}
RTT_VARIANTS = {
    "raw": "raw JS",
    "python": "python send+recv",
    "native": "python, native backend",
    "facade": "JS facade",
    "naive": "naive python",
}
SHORT = {"raw": "raw", "python": "py", "native": "native", "facade": "facade", "naive": "naive"}
#: The backend= of the Python variants (the facade's is connect()'s default).
BACKEND = {"python": "classic", "native": "native"}

# --------------------------------------------------------------------------------------------
# Measuring


class Bench:
    def __init__(self, page: Any, ws_url: str, target: float, reps: int) -> None:
        self.page = page
        self.ws_url = ws_url
        self.target = target
        self.reps = reps

    def _run(self, source: str, arg: dict[str, Any], variant: str) -> dict[str, Any]:
        if variant in BACKEND:
            arg = {**arg, "backend": BACKEND[variant]}
        if source.lstrip().startswith("async ("):
            result: dict[str, Any] = self.page.evaluate(source, arg, timeout=180)
        else:
            result = self.page.evaluate(PY_CALL_JS, [source, arg], timeout=180)
        return result

    def once(self, direction: str, variant: str, size: int, binary: bool, n: int) -> float:
        """One timed run of n messages; returns messages per second (checked for loss)."""
        if direction == "recv":
            url = f"{self.ws_url}/flood?n={n}&size={size}" + ("&binary" if binary else "")
            out = self._run(RECV_SOURCES[variant], {"url": url, "n": n}, variant)
            if out["count"] != n or out["bytes"] != n * size:
                raise RuntimeError(f"recv {variant}: got {out}, expected {n} x {size} B")
        elif direction == "send":
            url = f"{self.ws_url}/sink?n={n}"
            arg = {"url": url, "n": n, "size": size, "binary": binary}
            out = self._run(SEND_SOURCES[variant], arg, variant)
            if out["reply"] != f"done {n} {n * size}":
                raise RuntimeError(f"send {variant}: server said {out['reply']!r}")
        else:
            arg = {"url": f"{self.ws_url}/echo", "n": n, "size": size, "binary": binary}
            out = self._run(RTT_SOURCES[variant], arg, variant)
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
    import harness

    started = time.monotonic()
    browser = harness.launch(engine)
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
            if engine != "chromium":  # no WebSocketStream elsewhere
                variants = {k: v for k, v in variants.items() if k != "native"}
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
                ratios = " ".join(
                    f"{rates[v] / raw:5.2f}x" if v in rates else "    - " for v in others
                )
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
        asyncio.run(serve())
        return 0
    args.only = [part.strip() for part in args.only.split(",") if part.strip()]
    if not args.only or set(args.only) - {"recv", "send", "rtt"}:
        parser.error("--only takes a comma-separated list of recv, send, rtt")

    sys.path.insert(0, str(TESTS))
    import harness
    from servers import StaticServer

    if not (DIST / "pyodide" / "pyodide-lock.json").exists():
        print("dist/ is not built: run ./build.sh first", file=sys.stderr)
        return 2
    engines = args.engine or list(harness.ENGINES)
    print(
        f"websocket-streaming benchmark: {os.cpu_count()} CPUs, {args.target} s per figure, "
        f"median of {args.reps}; rates in messages/s and MB/s of payload, "
        "round trips/s and microseconds per round trip"
    )
    static = StaticServer(DIST, {"/tests/": TESTS})
    flood = FloodServer()
    summary: dict[str, Any] = {}
    errors = []
    started = time.monotonic()
    try:
        for engine in engines:
            try:
                summary[engine] = run_engine(engine, static.url, flood.url, args)
            except harness.BrowserUnavailable as exc:
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
