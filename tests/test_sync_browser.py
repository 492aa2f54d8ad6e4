"""Synchronous code in a real browser: websocket-client and websockets.sync programs unchanged.

The programs in tests/sync_programs/ are written as those libraries' users write them
(plain ``def``, blocking calls). Each runs on CPython with the real library and in the
page under our layer (compat.install()), against the same `websockets` server; the
transcripts must be equal. In the page, main() is called from the first, synchronous
stretch of the harness's ``runPythonAsync`` code: a promising call, so JSPI can block.
Chromium and Firefox have JSPI; WebKit does not, and there every blocking call must
raise CannotBlock at once, saying why.
"""

from __future__ import annotations

import gc
import json
import sys
import warnings
from pathlib import Path

import pytest
from conftest import run_in_pyodide

PROGRAMS = sorted((Path(__file__).parent / "sync_programs").glob("*.py"))

_RUN_IN_PAGE = """
from websocket_streaming import compat
compat.install()
_namespace = {{"__name__": {name!r}}}
exec(compile({source!r}, {filename!r}, "exec"), _namespace)
result = _namespace["main"]({uri!r}, {refused!r})
"""


def run_on_cpython(path: Path, uri: str, refused: str) -> list[str]:
    """Run a program's main() with the real libraries on this CPython, leaving no
    ``websocket`` module imported (compat.install() refuses to shadow a loaded one)."""
    before = {n for n in sys.modules if n == "websocket" or n.startswith("websocket.")}
    namespace: dict[str, object] = {"__name__": path.stem}
    try:
        with warnings.catch_warnings():
            # websocket-client leaves the socket open after a server's close (its close()
            # does nothing then): not ours to fix, so its ResourceWarning is not an error.
            warnings.simplefilter("ignore", ResourceWarning)
            exec(compile(path.read_text(), str(path), "exec"), namespace)
            transcript = namespace["main"](uri, refused)  # type: ignore[operator]
            namespace.clear()
            gc.collect()
    finally:
        for name in [n for n in sys.modules if n == "websocket" or n.startswith("websocket.")]:
            if name not in before:
                del sys.modules[name]
    return transcript  # type: ignore[no-any-return]


@pytest.mark.engines("chromium", "firefox")
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_sync_program_transcript_equals_the_real_library(py, ws_url, refused_url, program):
    """The same blocking program gives the same transcript in the browser (our layer, JSPI)
    as on CPython (the real websocket-client / websockets.sync), against the same server."""
    expected = run_on_cpython(program, ws_url, refused_url)
    code = _RUN_IN_PAGE.format(
        name=program.stem,
        source=program.read_text(),
        filename=program.name,
        uri=ws_url,
        refused=refused_url,
    )
    got = py.run(code, timeout=60)
    assert got == expected, json.dumps({"browser": got, "cpython": expected}, indent=1)


@pytest.mark.engines("webkit")
@run_in_pyodide
def test_blocking_calls_are_refused_without_jspi(py, ws_url):
    """Without JSPI (WebKit) every blocking entry point raises CannotBlock at once, naming
    JSPI and the asyncio API; no connection is opened and no callback runs."""
    from websocket_streaming import compat
    from websocket_streaming.sync import CannotBlock, can_block

    compat.install()
    import websocket
    from websockets.sync.client import connect

    assert not can_block()
    called = []
    app = websocket.WebSocketApp(ws_url + "/echo", on_open=called.append)
    for attempt in (
        lambda: websocket.create_connection(ws_url + "/echo"),
        lambda: connect(ws_url + "/echo"),
        app.run_forever,
    ):
        try:
            attempt()
        except CannotBlock as exc:
            text = str(exc)
            assert "cannot block here" in text and "JSPI" in text, text
            assert "use the asyncio API instead" in text, text
        else:
            raise AssertionError("a blocking call returned without JSPI")
    assert called == [] and app.sock is None


@pytest.mark.engines("chromium")
def test_blocking_call_outside_a_promising_call_is_refused(py, ws_url):
    """With JSPI, code entered through the synchronous pyodide.runPython cannot block:
    create_connection() raises CannotBlock saying so, at once."""
    out = py.js(
        """async (url) => {
          try {
            pyodide.runPython(`
from websocket_streaming import compat
compat.install()
import websocket
websocket.create_connection(${JSON.stringify(url)})
`);
            return "no error";
          } catch (e) { return String(e.message || e); }
        }""",
        ws_url + "/echo",
    )
    assert "CannotBlock" in out and "not entered through a promising call" in out, out
    assert "use the asyncio API instead" in out, out


@pytest.mark.engines("chromium", "firefox")
@run_in_pyodide
async def test_blocking_round_trip_against_asyncio(py, ws_url):
    """A blocking send+recv round trip costs at most a few times the asyncio one (both
    measured in this page); prints both (the page's console)."""
    import asyncio
    import time

    from websocket_streaming import compat

    compat.install()
    import websocket

    def blocking(n):
        ws = websocket.create_connection(ws_url + "/echo", timeout=5)
        started = time.perf_counter()
        for _ in range(n):
            ws.send("x")
            ws.recv()
        elapsed = time.perf_counter() - started
        ws.close()
        return elapsed / n

    sync_rtt = blocking(300)  # before any await: this stretch is the promising call's

    async def nonblocking(n):
        async with compat.connect(ws_url + "/echo") as ws:
            started = time.perf_counter()
            for _ in range(n):
                await ws.send("x")
                await ws.recv()
            return (time.perf_counter() - started) / n

    async_rtt = await asyncio.ensure_future(nonblocking(300))
    print(f"round trip: blocking {sync_rtt * 1e6:.0f} us, asyncio {async_rtt * 1e6:.0f} us")
    assert sync_rtt < 10 * async_rtt + 0.005, (sync_rtt, async_rtt)
