"""Leaks a user could hit, in every engine: many connect/close cycles and many abandoned
streams, and many failed connects. After each, these are where they started:

- PyProxies alive (``pyproxy_alloc_map``, with Pyodide's allocation tracing on: Pyodide has
  no public count) and JS objects held by Python (``hiwire.num_keys()``);
- listeners on the global object (counted by wrapping ``addEventListener`` and
  ``removeEventListener`` of ``globalThis`` in the page);
- the Python heap: ``len(gc.get_objects())`` after ``gc.collect()`` (within a small slack
  for interned strings and caches that settle), and tracemalloc's traced bytes.

CI-lean: CYCLES (300) of each and FAILED_CYCLES (100) failed connects, not 1,000 (1,000
takes 3-10x as long and finds nothing more: a leak of one object a cycle shows at 100 as at
1,000). LEAK_CYCLES=1000 LEAK_FAILED_CYCLES=1000 for the full run.

Pyodide's event loop runs ``call_later`` on ``setTimeout`` and does not clear it on
``cancel()``: a cancelled timer's Handle (with its callback and Context) lives until its
deadline passes. So every connection here uses 0.5 s open and close timeouts, and the heap is
measured once TIMERS seconds have passed, when every cancelled timer has fired; with the
default 10 s open timeout, a burst of connections holds two Handles each for 10 s.
"""

from __future__ import annotations

import os

from conftest import run_in_pyodide

CYCLES = int(os.environ.get("LEAK_CYCLES", "300"))
FAILED_CYCLES = int(os.environ.get("LEAK_FAILED_CYCLES", "100"))
FAILED_TIMEOUT = 0.1
TIMERS = 0.5


@run_in_pyodide
async def _leak_check(py, kind, url, cycles, timers):
    import asyncio
    import gc
    import time
    import tracemalloc

    from pyodide.code import run_js
    from pyodide_js import _module
    from websocket_streaming import ConnectionFailed, connect

    listeners = run_js("""
      if (!globalThis.__listeners) {
        globalThis.__listeners = 0;
        const add = globalThis.addEventListener, remove = globalThis.removeEventListener;
        globalThis.addEventListener = function (...a) { globalThis.__listeners++; return add.apply(this, a); };
        globalThis.removeEventListener = function (...a) { globalThis.__listeners--; return remove.apply(this, a); };
      }
      () => globalThis.__listeners
    """)

    outcomes = {"refused": 0, "timed out": 0}

    async def cycle(n):
        for i in range(n):
            if kind == "connect-close":
                ws = await connect(url, open_timeout=timers, close_timeout=timers)
                await ws.send(str(i))
                assert await ws.recv() == str(i)
                await ws.close()
            elif kind == "failed":  # nothing listens on the port
                try:
                    await connect(url, open_timeout=timers, close_timeout=timers)
                except ConnectionFailed:
                    outcomes["refused"] += 1
                except TimeoutError:  # the browser held the attempt back (throttled)
                    outcomes["timed out"] += 1
                else:
                    raise AssertionError(f"connected to {url}")
            else:  # abandoned: read one message of three, never close, drop it
                ws = await connect(url, open_timeout=timers, close_timeout=timers)
                assert await ws.recv() == "0"
                del ws

    def counts():
        gc.collect()
        return {
            "pyproxies": _module.pyproxy_alloc_map.size,
            "jsrefs": _module.hiwire.num_keys(),
            "listeners": listeners(),
            "objects": len(gc.get_objects()),
            "traced": tracemalloc.get_traced_memory()[0],
        }

    await cycle(10)  # warm up: one-time helpers, caches
    await asyncio.sleep(timers + 0.1)  # every cancelled timer has fired
    tracemalloc.start()
    _module.enable_pyproxy_allocation_tracing()
    try:
        before = counts()
        started = time.monotonic()
        await cycle(cycles)
        elapsed = time.monotonic() - started
        await asyncio.sleep(timers + 0.1)
        after = counts()
    finally:
        _module.disable_pyproxy_allocation_tracing()
        tracemalloc.stop()
    exact = ("pyproxies", "jsrefs", "listeners")
    assert {k: after[k] for k in exact} == {k: before[k] for k in exact}, (before, after)
    # A leak of one object (or 100 bytes) a cycle would show as `cycles` of them.
    assert after["objects"] - before["objects"] < 50, (before, after)
    # Bytes settle less sharply (allocator and dict growth): a bound, not the sharp check.
    assert after["traced"] - before["traced"] < 64 * 1024, (before, after)
    return {"seconds": elapsed, "before": before, "after": after, "failed": outcomes}


def test_connect_close_cycles(py, ws_url, engine):
    """CYCLES connect, send, recv, close cycles: nothing accumulates."""
    out = _leak_check(py, kind="connect-close", url=ws_url + "/echo", cycles=CYCLES, timers=TIMERS)
    print(engine, "connect-close", out)


def test_abandoned_streams(py, ws_url, engine):
    """CYCLES streams read in part, never closed, dropped and garbage-collected (the server
    closes them, 1000, after its three messages): nothing accumulates. A stream the server
    keeps open stays open once dropped: nothing closes a socket for the user (there is no
    finalizer; the browser keeps the socket and its listeners while it is open)."""
    out = _leak_check(
        py, kind="abandoned", url=ws_url + "/close?n=3&code=1000", cycles=CYCLES, timers=TIMERS
    )
    print(engine, "abandoned", out)


def test_failed_connects(py, refused_url, engine):
    """FAILED_CYCLES connects to a port where nothing listens: nothing accumulates. Each one
    fails with ConnectionFailed, or, once the browser holds repeated attempts to the same
    port back (Chromium and Firefox do after about a dozen), with TimeoutError after a short
    open_timeout (FAILED_TIMEOUT), which abandons the attempt: both paths are checked."""
    out = _leak_check(
        py, kind="failed", url=refused_url, cycles=FAILED_CYCLES, timers=FAILED_TIMEOUT
    )
    assert sum(out["failed"].values()) == FAILED_CYCLES + 10, out  # and the 10 warm-up ones
    print(engine, "failed", out)
