"""Throughput benchmark: our Python API and JS facade against the browser's raw WebSocket.

Run it with ``./build.sh bench [--engine E] [--only recv,send,rtt,ack,trip,split,startup,memory] [--target S] [--reps N]``
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
plain loop (in the rtt section)
    The same as a user's page writes it: ``await ws.send("x"); await ws.recv()`` (1 B text),
    raw JS sending then awaiting a promise the next message resolves, against a second echo
    server, the `websockets` library's. ``--chromium-launch playwright`` starts Chromium as
    Playwright does by default (no flags but ``--no-sandbox``) instead of the harness's flags.
round trip floors (in both)
    Two Python echoes with none of our connection's code: Pyodide's (a ``create_proxy``
    ``onmessage`` echoing with ``ws.send``, binary as bytes) and an asyncio task's (a task
    awaiting a ``Waiter`` woken inside the event): what any Python echo pays, and what a
    resumed task adds to it. Ours beyond the task floor is our receive and send path.

trip split
    Where a round trip's time goes, in the plain loop (1 B text, then binary): the same
    ``performance.now()`` stamps around every socket's ``onmessage`` handler and ``send()``
    (put on ``WebSocket.prototype`` for this section only) time raw JS, the two floors, ours
    and the facade alike: event to reply sent, the send, the handler after it, the wait for
    the next event.
receive split (no network)
    Where a received message's time goes in the page: message events made in the page and
    given to the socket's own ``onmessage`` (ours) or to a raw JS counter, n in one task and
    then read (burst), or one per task while the reader waits (paced: a wake-up each). Free
    of the server's pace and of the other processes' share of the CPUs, which the flood
    rates above include.
startup (fresh pages)
    In a fresh page per rep: ``loadPyodide()`` and the one-time setup of Pyodide's first
    ``loadPackage`` (paid on another wheel, ``packaging``): Pyodide's own load, for
    reference. Then our part: ``loadPackage`` of our wheel + ``import websocket_streaming``,
    and ``connect()`` to the local echo server up to the first message received (Python
    API), less a raw JS WebSocket's open + first message in the same page just before it.
memory
    Live PyProxies, JS objects held by Python (hiwire, every JsProxy among them), Python
    objects and the Python heap (tracemalloc) before and after ``--messages`` (100,000)
    messages received and as many sent through the Python API.
size (on the host)
    The gzipped bytes of what we ship: the wheel, ``websocket_streaming.js``, the
    ``load_pyodide.js`` it imports and their ``.d.ts``.

Each rate is timed in the page (``performance.now()``, precise as the page is cross-origin
isolated) over enough messages for ``--target`` seconds (n is calibrated by a warm-up run per
variant), repeated ``--reps`` times; the median is shown with its ratio to raw JS measured in
the same page. The flood/sink/echo server is a minimal WebSocket server of its own (pre-built
frames written in 1 MB chunks; a sink that skips payloads without unmasking them) in a child
process, so that the server is never the bottleneck and shares no GIL with the drivers. Every
run checks that all n messages (and all bytes) arrived.

The figures are also written as JSON (``build/bench/results.json``, and ``--json PATH``), with
the machine (CPUs, CPU model, load average before and after, browser versions, date):
``tools/speed_table.py`` turns that file into the README's speed table and ``demo/speed.svg``.

Files: this one (options, measuring, the report, the JSON), ``page_code.py`` (what runs in the
page) and ``flood_server.py`` (the server).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import datetime
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from flood_server import FloodServer, serve
from page_code import (
    PLAIN_SOURCES,
    PY_CALL_JS,
    PY_MEMORY,
    PY_SPLIT,
    RECV_SOURCES,
    RTT_SOURCES,
    SEND_SOURCES,
    SETUP_JS,
    STARTUP_JS,
    TRIP_READ_JS,
    TRIP_STAMPS_JS,
)

BENCH = Path(__file__).resolve().parent
TESTS = BENCH.parent
ROOT = TESTS.parent
DIST = ROOT / "dist"

SIZES = (16, 1024, 65536)
#: Round trips are timed over at least this many sequential trips per run.
MIN_TRIPS = 2000
#: Per-run figures reported as the median over the runs: a round trip's median trip, and a
#: send run's loop time per message (the page's own work, before the server has it all).
MEDIAN_EXTRAS = ("p50_us", "loop_us")
KINDS = (False, True)  # binary?

RECV_VARIANTS = {
    "raw": "raw JS",
    "promise": "raw JS, promise per msg",
    "python": "python async for",
    "native": "python, native backend",
    "facade": "JS facade recv()",
    "batch": "JS facade recvMany()",
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
    "handler": "floor: pyodide handler",
    "task": "floor: asyncio task",
}
#: The plain loop: the round trip as a user's loop writes it (see PLAIN_SOURCES).
PLAIN_VARIANTS = {
    "raw": "raw JS, await-style",
    "python": "python send+recv",
    "facade": "JS facade",
    "handler": "floor: pyodide handler",
    "task": "floor: asyncio task",
}
#: A flood read by a reader that sends a 1-byte text ack for every message (as a chat client
#: acking deliveries would): the traffic that is both a flood and interactive.
ACK_VARIANTS = {
    "raw": "raw JS",
    "python": "python async for + send",
    "facade": "JS facade recv() + send",
    "naive": "naive python",
}
SHORT = {
    "raw": "raw",
    "promise": "prom",
    "python": "py",
    "native": "native",
    "facade": "facade",
    "batch": "batch",
    "naive": "naive",
    "handler": "hfloor",
    "task": "tfloor",
}
#: The backend= of the Python variants (the facade's is connect()'s default).
BACKEND = {"python": "classic", "native": "native"}

# --------------------------------------------------------------------------------------------
# Measuring


class Bench:
    def __init__(
        self, page: Any, ws_url: str, target: float, reps: int, plain_url: str = ""
    ) -> None:
        self.page = page
        self.ws_url = ws_url
        self.plain_url = plain_url  # the `websockets` echo server
        self.target = target
        self.reps = reps
        #: The last timed run's other figures (e.g. woken_inside), by (direction, variant, size, binary).
        self.extras: dict[tuple[str, str, int, bool], dict[str, Any]] = {}

    def run(self, source: str, arg: dict[str, Any], variant: str) -> dict[str, Any]:
        if variant in BACKEND:
            arg = {**arg, "backend": BACKEND[variant]}
        if source.lstrip().startswith("async ("):
            result: dict[str, Any] = self.page.evaluate(source, arg, timeout=180)
        else:
            result = self.page.evaluate(PY_CALL_JS, [source, arg], timeout=180)
        return result

    def once(self, direction: str, variant: str, size: int, binary: bool, n: int) -> float:
        """One timed run of n messages; returns messages per second (checked for loss)."""
        if direction in ("recv", "ack"):  # "ack": the reader answers each message of the flood
            url = f"{self.ws_url}/flood?n={n}&size={size}" + ("&binary" if binary else "")
            arg = {"url": url, "n": n, "ack": direction == "ack"}
            out = self.run(RECV_SOURCES[variant], arg, variant)
            if out["count"] != n or out["bytes"] != n * size:
                raise RuntimeError(f"recv {variant}: got {out}, expected {n} x {size} B")
        elif direction == "send":
            url = f"{self.ws_url}/sink?n={n}"
            arg = {"url": url, "n": n, "size": size, "binary": binary}
            out = self.run(SEND_SOURCES[variant], arg, variant)
            if out["reply"] != f"done {n} {n * size}":
                raise RuntimeError(f"send {variant}: server said {out['reply']!r}")
        else:
            plain = direction == "plain"
            url = self.plain_url if plain else f"{self.ws_url}/echo"
            arg = {"url": url, "n": n, "size": size, "binary": binary}
            out = self.run((PLAIN_SOURCES if plain else RTT_SOURCES)[variant], arg, variant)
            if out["count"] != n:
                raise RuntimeError(f"rtt {variant}: got {out}, expected {n} round trips")
        extra = {k: v for k, v in out.items() if k not in ("ms", "count", "bytes", "reply")}
        if extra:
            self.extras[(direction, variant, size, binary)] = {"n": n, **extra}
        return n / max(out["ms"], 1e-3) * 1000.0

    def calibrate(self, direction: str, variant: str, size: int, binary: bool) -> int:
        """Warm up (JIT, first connection) on short runs; return the n of a `target`-second run
        (round trips: at least MIN_TRIPS)."""
        n = {1: 300, 16: 300, 1024: 300, 65536: 30}[size]
        for budget in (0.03, 0.1):
            rate = self.once(direction, variant, size, binary, n)
            n = max(n, int(rate * budget))
        n = max(n, min(int(rate * self.target), (1 << 30) // size, 2_000_000))
        return max(n, MIN_TRIPS) if direction in ("rtt", "plain") else n

    def rates(
        self, direction: str, variants: list[str], size: int, binary: bool
    ) -> dict[str, float]:
        """Median messages/s of each variant over `reps` runs, the variants taking turns
        (raw, python, facade, raw, python...) so that a slow spell of the machine weighs
        on all of them alike, not on one variant's ratio."""
        ns = {v: self.calibrate(direction, v, size, binary) for v in variants}
        runs: dict[str, list[float]] = {v: [] for v in variants}
        timed: dict[tuple[str, str], list[float]] = {}  # (variant, p50_us | loop_us) -> runs
        for _ in range(self.reps):
            for v in variants:
                runs[v].append(self.once(direction, v, size, binary, ns[v]))
                extra = self.extras.get((direction, v, size, binary), {})
                for name in MEDIAN_EXTRAS:
                    if name in extra:
                        timed.setdefault((v, name), []).append(extra[name])
        for (v, name), values in timed.items():  # the median over the runs, as for rates
            self.extras[(direction, v, size, binary)][name] = statistics.median(values)
        return {v: statistics.median(r) for v, r in runs.items()}


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


def fmt_extra(direction: str, rate: float, size: int, extra: dict[str, Any]) -> str:
    """MB/s of payload; for round trips the median trip (else the mean one); for sends the
    send loop's own time per message."""
    if direction in ("rtt", "plain"):
        p50_us = extra.get("p50_us")
        return f"{1e6 / rate:.0f} us" if p50_us is None else f"p50 {p50_us:.0f} us"
    if direction == "send" and "loop_us" in extra:
        return f"loop {extra['loop_us']:.1f} us"
    return fmt_mb(rate, size)


ALL_ROWS = [(size, binary) for size in SIZES for binary in KINDS]
#: (direction, title, variants, rows)
SECTIONS = [
    ("recv", "receive", RECV_VARIANTS, ALL_ROWS),
    ("send", "send", SEND_VARIANTS, ALL_ROWS),
    ("rtt", "round trip", RTT_VARIANTS, [(16, False), (16, True)]),
    ("plain", "plain loop", PLAIN_VARIANTS, [(1, False)]),
    ("ack", "flood, each acked", ACK_VARIANTS, [(16, False), (1024, True)]),
]

Results = dict[tuple[str, int, bool], dict[str, float]]
RATE_SECTIONS = ("recv", "send", "rtt", "ack")  # "plain" runs with "rtt"
ALL_SECTIONS = (*RATE_SECTIONS, "trip", "split", "startup", "memory")


def measure_startup(browser: Any, static_url: str, ws_url: str, reps: int) -> dict[str, Any]:
    """Our part of a page's start, in `reps` fresh pages: medians and every run, in ms; then
    one more page with the import profiled (each module's own time: where the import goes)
    and our loadPackage timed after another wheel's (Pyodide's first-call setup paid)."""
    keys = ("pyodide", "setup", "load_package", "import", "first", "raw_first")
    runs = []
    for i in range(reps + 1):
        profile = i == reps
        page = browser.new_page(static_url + "/tests/blank.html", timeout=120)
        try:
            out = page.evaluate(STARTUP_JS, {"ws": ws_url, "profile": profile}, timeout=300)
        finally:
            page.close()
        if out["echo"] != "first":
            raise RuntimeError(f"startup: echo {out['echo']!r}")
        if not profile:
            runs.append({k: out[k] for k in keys})
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    # Beyond Pyodide's own load (and its loadPackage setup): our wheel's load, the import,
    # and the first message's time over raw JS's in the same page.
    median["ours"] = statistics.median(
        r["import"] + max(0.0, r["first"] - r["raw_first"]) for r in runs
    )
    modules: dict[str, float] = out["modules"]["times"]
    own = sorted(
        ((ms, name) for name, ms in modules.items() if name.split(".")[0] == "websocket_streaming"),
        reverse=True,
    )
    ours = sum(ms for ms, _ in own)
    others = sorted(
        ((ms, name) for name, ms in modules.items() if name.split(".")[0] != "websocket_streaming"),
        reverse=True,
    )
    profiled = {
        "other_package_ms": out["other"],
        "load_package_ms": out["load_package"],
        "import_ms": out["import"] - out["load_package"],
        "first_ms": out["first"],
        "modules": len(modules),
        "own_ms": ours,
        "own_compile_ms": out["modules"]["compile_ms"],
        "own_top": {name: ms for ms, name in own[:4]},
        "stdlib_ms": sum(ms for ms, _ in others),
        "stdlib_top": {name: ms for ms, name in others[:8]},
    }
    return {"median_ms": median, "runs_ms": runs, "profiled": profiled}


#: The round trip split runs the plain loop's variants (PLAIN_SOURCES, 1 B text and binary,
#: its server); trips per run, and parts (TRIP_READ_JS).
TRIP_N = 1000
TRIP_PARTS = ("to_send", "send", "after_send", "wait", "trip")


def measure_trip(bench: Bench) -> list[dict[str, Any]]:
    """Where a round trip's time goes, the same stamps for every variant (TRIP_STAMPS_JS):
    per kind (text, binary), each variant's parts, medians over the reps, the variants
    taking turns; one untimed rep first (the first connection, the JIT)."""
    bench.page.evaluate(TRIP_STAMPS_JS, True)
    rows = []
    try:
        for binary in KINDS:
            runs: dict[str, list[dict[str, float]]] = {v: [] for v in PLAIN_VARIANTS}
            for rep in range(bench.reps + 1):
                for variant in PLAIN_VARIANTS:
                    arg = {"url": bench.plain_url, "n": TRIP_N, "size": 1, "binary": binary}
                    bench.run(PLAIN_SOURCES[variant], arg, variant)
                    parts = bench.page.evaluate(TRIP_READ_JS)
                    if rep:
                        runs[variant].append(parts)
            row: dict[str, Any] = {"binary": binary}
            for variant, outs in runs.items():
                row[variant] = {p: statistics.median(o[p] for o in outs) for p in TRIP_PARTS}
            rows.append(row)
    finally:
        bench.page.evaluate(TRIP_STAMPS_JS, False)
    return rows


def print_trip(rows: list[dict[str, Any]]) -> None:
    print(
        "\n   trip split    1 B, the plain loop's server: medians per trip, us"
        "\n                 event -> send() | send() | after it, in the handler | wait for the"
        " next event | whole trip"
    )
    for row in rows:
        kind = "binary" if row["binary"] else "text"
        for variant, label in PLAIN_VARIANTS.items():
            parts = " | ".join(f"{row[variant][p]:5.0f}" for p in TRIP_PARTS)
            print(f"   {kind:<7}{label:<24}{parts}", flush=True)


#: Messages per rep of the receive split, by size: (in one burst, paced).
SPLIT_N = {16: (20_000, 2000), 1024: (20_000, 2000), 65536: (500, 200)}


def measure_split(bench: Bench) -> list[dict[str, Any]]:
    """The page's own time per received message, no network (PY_SPLIT): per row, the
    median over the reps of raw JS's and ours, in a burst and paced."""
    rows = []
    for size, binary in ALL_ROWS:
        arg = {"url": f"{bench.ws_url}/echo", "size": size, "binary": binary}
        n = dict(zip(("n_burst", "n_paced"), SPLIT_N[size], strict=True))
        out = bench.page.evaluate(
            PY_CALL_JS, [PY_SPLIT, {**arg, **n, "reps": bench.reps}], timeout=300
        )
        row: dict[str, Any] = {"size": size, "binary": binary}
        for mode, runs in out.items():
            row[mode] = {v: statistics.median(us) for v, us in runs.items()}
        rows.append(row)
    return rows


def print_split(rows: list[dict[str, Any]]) -> None:
    print(
        "\n   receive split   no network: the page's own time per message, us (raw JS | ours | added)"
        "\n                   burst (n events in one task, then read)  | paced (a task each, reader waiting)"
    )
    for row in rows:
        cells = []
        for mode in ("burst", "paced"):
            raw, ours = row[mode]["raw"], row[mode]["python"]
            cells.append(f"{raw:7.2f} | {ours:7.2f} | {ours - raw:+7.2f}")
        label = row_label(row["size"], row["binary"])
        print(f"   {label:<16}{cells[0]:<41}| {cells[1]}", flush=True)


def measure_memory(bench: Bench, n: int) -> dict[str, Any]:
    """Proxies and Python heap before and after n messages each way (Python API)."""
    out: dict[str, Any] = bench.page.evaluate(
        PY_CALL_JS, [PY_MEMORY, {"url": bench.ws_url, "n": n}], timeout=900
    )
    return out


def run_engine(
    engine: str, static_url: str, ws_url: str, args: argparse.Namespace, plain_url: str = ""
) -> Any:
    import harness

    started = time.monotonic()
    if engine == "chromium" and args.chromium_launch == "playwright":
        import harness.playwright as driver

        driver.CHROMIUM_ARGS = ("--no-sandbox",)  # as Playwright launches a system Chromium
    browser = harness.launch(engine)
    try:
        launched = time.monotonic()
        page = browser.new_page(static_url + "/tests/page.html", timeout=120)
        features = page.evaluate(SETUP_JS, timeout=180)
        load = time.monotonic() - launched
        print(f"\n== {browser.description}", flush=True)
        print(
            f"   browser start {launched - started:.1f} s; "
            f"page open -> Pyodide + websocket_streaming ready {load:.1f} s",
            flush=True,
        )
        bench = Bench(page, ws_url, args.target, args.reps, plain_url)
        results: Results = {}
        skip = set()
        if engine != "chromium":  # no WebSocketStream elsewhere
            skip.add("native")
        if not features.get("recvMany"):
            skip.add("batch")
        for direction, title, variants, rows in SECTIONS:
            if (direction if direction != "plain" else "rtt") not in args.only:
                continue
            variants = {k: v for k, v in variants.items() if k not in skip}
            cells = [f"{variants['raw']:<22}"] + [
                f"{variants[v]:<26}" for v in variants if v != "raw"
            ]
            print(f"\n   {title:<14}" + " | ".join(cells), flush=True)
            for size, binary in rows:
                rates = bench.rates(direction, list(variants), size, binary)
                results[(direction, size, binary)] = rates
                raw = rates["raw"]
                extras = {v: bench.extras.get((direction, v, size, binary), {}) for v in variants}
                line = [
                    f"{fmt_rate(raw):>9} {fmt_extra(direction, raw, size, extras['raw']):>11}  "
                ]
                for v in variants:
                    if v == "raw":
                        continue
                    r = rates[v]
                    extra = fmt_extra(direction, r, size, extras[v])
                    line.append(f"{fmt_rate(r):>9} {extra:>10} {r / raw:5.2f}x")
                print(f"   {row_label(size, binary):<14}" + " | ".join(line), flush=True)
        trip = None
        if "trip" in args.only and plain_url:
            trip = measure_trip(bench)
            print_trip(trip)
        split = None
        if "split" in args.only:
            split = measure_split(bench)
            print_split(split)
        memory = None
        if "memory" in args.only:
            memory = measure_memory(bench, args.messages)
            b, a = memory["before"], memory["after"]
            print(
                f"\n   memory, {args.messages:,} messages received + {args.messages:,} sent "
                f"({memory['ms'] / 1000:.1f} s): PyProxies {b['pyproxies']} -> {a['pyproxies']}, "
                f"JS refs {b['jsrefs']} -> {a['jsrefs']}, objects {b['objects']} -> "
                f"{a['objects']}, Python heap {(a['heap'] - b['heap']) / 1024:+.1f} KiB "
                f"(peak {memory['peak'] / 1024:.0f} KiB)",
                flush=True,
            )
        console = [line for line in page.console() if line.startswith(("pageerror", "error"))]
        for line in console:
            print(f"   console: {line}", flush=True)
        page.close()
        startup = None
        if "startup" in args.only:
            startup = measure_startup(browser, static_url, ws_url, args.reps)
            m = startup["median_ms"]
            prof = startup["profiled"]
            top = ", ".join(f"{k} {v:.0f}" for k, v in list(prof["stdlib_top"].items())[:5])
            print(
                f"\n   startup (fresh page, median of {args.reps}): loadPyodide {m['pyodide']:.0f} ms "
                f"+ its loadPackage setup {m['setup']:.0f} ms; ours: import {m['import']:.0f} ms "
                f"(loadPackage {m['load_package']:.0f}) + first message {m['first']:.0f} ms "
                f"(raw JS {m['raw_first']:.0f} ms) = {m['ours']:.0f} ms beyond raw JS\n"
                f"   profiled page: loadPackage packaging {prof['other_package_ms']:.0f} ms, then "
                f"ours {prof['load_package_ms']:.0f} ms; import {prof['import_ms']:.0f} ms, first "
                f"message {prof['first_ms']:.0f} ms: {prof['modules']} modules, ours {prof['own_ms']:.0f} ms "
                f"(compiling our sources {prof['own_compile_ms']:.0f} ms), "
                f"stdlib {prof['stdlib_ms']:.0f} ms ({top} ms)",
                flush=True,
            )
        return {
            "description": browser.description,
            "load": load,
            "results": results,
            "extras": bench.extras,
            "startup": startup,
            "memory": memory,
            "trip": trip,
            "split": split,
            "console": console,
        }
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
        if (direction if direction != "plain" else "rtt") not in only:
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


# --------------------------------------------------------------------------------------------
# The JSON


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def shipped_sizes(dist: Path) -> dict[str, Any]:
    """Bytes and gzipped bytes (level 9) of what we ship: the wheel, the ES modules, their types.

    The wheel is a zip (each file deflated already), so it is also broken down, each part as
    one gzip stream: the package's own files, the same without docstrings and comments, and the
    metadata (METADATA holds the README, the long description)."""
    wheel = next(dist.glob("websocket_streaming-*.whl"))
    files = {
        "wheel": wheel,
        "js": dist / "websocket_streaming.js",
        "loader": dist / "load_pyodide.js",
        "dts": dist / "websocket_streaming.d.ts",
    }
    out: dict[str, Any] = {
        key: {"name": path.name, "bytes": path.stat().st_size, "gzip": gzipped(path.read_bytes())}
        for key, path in files.items()
    }
    out["total_gzip"] = sum(out[key]["gzip"] for key in files)
    parts: dict[str, bytes] = {"code": b"", "metadata": b""}
    stripped = b""  # the code with Python docstrings and comments dropped
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            part = "metadata" if ".dist-info/" in info.filename else "code"
            data = zf.read(info)
            parts[part] += data
            if part == "code":
                if info.filename.endswith(".py"):
                    data = strip_python(data.decode()).encode()
                stripped += data
    parts["code_stripped"] = stripped
    out["wheel_parts"] = {
        part: {"bytes": len(data), "gzip": gzipped(data)} for part, data in parts.items()
    }
    return out


def strip_python(source: str) -> str:
    """The source without its docstrings and comments (ast.unparse): a bound on what a
    stripped wheel could weigh."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
    }


def load_now() -> dict[str, Any]:
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        uptime = ""
    return {"loadavg": list(os.getloadavg()), "uptime": uptime.strip()}


def engine_json(data: dict[str, Any]) -> dict[str, Any]:
    rates = [
        {"direction": d, "size": size, "binary": binary, "rates": r}
        for (d, size, binary), r in data["results"].items()
    ]
    extras = [
        {"direction": d, "variant": v, "size": size, "binary": binary, **extra}
        for (d, v, size, binary), extra in data["extras"].items()
    ]
    return {
        "browser": data["description"],
        "page_load_s": data["load"],
        "rates": rates,
        "extras": extras,
        "startup": data["startup"],
        "memory": data["memory"],
        "trip": data["trip"],
        "split": data["split"],
        "console_errors": data["console"],
    }


def write_json(report: dict[str, Any], paths: list[Path]) -> None:
    text = json.dumps(report, indent=1) + "\n"
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"   figures written to {path}")


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
        default=",".join(ALL_SECTIONS),
        help="comma-separated sections to run: " + ", ".join(ALL_SECTIONS) + " (default: all)",
    )
    parser.add_argument(
        "--messages", type=int, default=100_000, help="messages each way for the memory check"
    )
    parser.add_argument(
        "--json",
        type=Path,
        action="append",
        default=[],
        help="also write the JSON figures here (repeatable; always: build/bench/results.json)",
    )
    parser.add_argument(
        "--chromium-launch",
        choices=("harness", "playwright"),
        default="harness",
        help="Chromium with the harness's flags (default) or as Playwright launches it by default",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return 0
    args.only = [part.strip() for part in args.only.split(",") if part.strip()]
    if not args.only or set(args.only) - set(ALL_SECTIONS):
        parser.error("--only takes a comma-separated list of " + ", ".join(ALL_SECTIONS))

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
    report: dict[str, Any] = {
        "schema": 1,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load_now(),
        "options": {
            "target_s": args.target,
            "reps": args.reps,
            "only": args.only,
            "messages": args.messages,
            "chromium_launch": args.chromium_launch,
        },
        "pyodide": (DIST / "pyodide" / ".version").read_text().strip()
        if (DIST / "pyodide" / ".version").exists()
        else "?",
        "size": shipped_sizes(DIST),
        "engines": {},
    }
    size = report["size"]
    print(
        f"   shipped, gzipped: wheel {size['wheel']['gzip'] / 1000:.1f} KB "
        f"(code {size['wheel_parts']['code']['gzip'] / 1000:.1f} KB + metadata "
        f"{size['wheel_parts']['metadata']['gzip'] / 1000:.1f} KB), "
        f"JS module {size['js']['gzip'] / 1000:.1f} KB + loader {size['loader']['gzip'] / 1000:.1f} KB, types {size['dts']['gzip'] / 1000:.1f} KB"
        f" = {size['total_gzip'] / 1000:.1f} KB; load average {report['load_before']['loadavg']}"
    )
    static = StaticServer(DIST, {"/tests/": TESTS})
    flood = FloodServer()
    plain = FloodServer(websockets=True)
    summary: dict[str, Any] = {}
    errors = []
    started = time.monotonic()
    try:
        for engine in engines:
            try:
                summary[engine] = run_engine(engine, static.url, flood.url, args, plain.url)
            except harness.BrowserUnavailable as exc:
                print(f"\n== {engine}: unavailable, skipped: {exc}", flush=True)
            except Exception as exc:  # one engine failing must not lose the others' figures
                print(f"\n== {engine}: FAILED: {type(exc).__name__}: {exc}", flush=True)
                errors.append(engine)
    finally:
        flood.close()
        plain.close()
        static.close()
    if summary:
        print_summary(summary, args.only)
    report["engines"] = {e: engine_json(data) for e, data in summary.items()}
    report["failed"] = errors
    report["load_after"] = load_now()
    report["seconds"] = time.monotonic() - started
    write_json(report, [ROOT / "build" / "bench" / "results.json", *args.json])
    print(f"\n   total time {time.monotonic() - started:.0f} s")
    return 1 if errors or not summary else 0


if __name__ == "__main__":
    sys.exit(main())
