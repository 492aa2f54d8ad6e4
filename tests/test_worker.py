"""The package in a plain dedicated Web Worker (no JupyterLite), in every engine.

A page (tests/blank.html) starts the module worker tests/worker.js, which loads
Pyodide and our package; each test sends it Python code, and the worker posts
back the JSON of that code's global `result`, which the test asserts on.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any

import harness
import pytest
from servers import StaticServer

# Starts the worker once per page, then runs one job in it and returns the worker's answer.
_RUN_IN_WORKER_JS = """
async ({ code, args }) => {
  if (!self.pyWorker) {
    const worker = new Worker("/tests/worker.js", { type: "module" });
    const pending = new Map();
    worker.onmessage = ({ data }) => { pending.get(data.id)(data); pending.delete(data.id); };
    worker.onerror = (e) => {
      for (const done of pending.values()) done({ ok: false, error: `worker error: ${e.message || e.type}` });
      pending.clear();
    };
    self.pyWorker = { worker, pending, next: 0 };
  }
  const w = self.pyWorker;
  const id = ++w.next;
  return await new Promise((resolve) => {
    w.pending.set(id, resolve);
    w.worker.postMessage({ id, code, args });
  });
}
"""


class Worker:
    """Runs Python in the Web Worker of one page."""

    def __init__(self, page: harness.Page) -> None:
        self.page = page

    def run(self, code: str, timeout: float = 120.0, **args: Any) -> Any:
        """Run `code` (with the global ARGS = args) in the worker; return its global `result`."""
        out = self.page.evaluate(
            _RUN_IN_WORKER_JS, {"code": textwrap.dedent(code), "args": args}, timeout=timeout
        )
        if not out["ok"]:
            console = "\n".join(self.page.console()[-50:])
            raise AssertionError(f"Python in the worker failed:\n{out['error']}\n{console}")
        return json.loads(out["json"])


@pytest.fixture(scope="module")
def worker(browser: harness.Browser, static_server: StaticServer) -> Iterator[Worker]:
    """A page whose module worker has Pyodide and websocket_streaming loaded."""
    page = browser.new_page(static_server.url + "/tests/blank.html")
    try:
        yield Worker(page)
    finally:
        page.close()


def test_runs_in_a_dedicated_worker(worker):
    """The code runs in a DedicatedWorkerGlobalScope, with no DOM, and imports the package."""
    got = worker.run("""
        import js
        import websocket_streaming
        result = [js.self.constructor.name, hasattr(js, "document"), websocket_streaming.__version__]
    """)
    assert got == ["DedicatedWorkerGlobalScope", False, "0.1.0"]


def test_text_and_binary_round_trip(worker, ws_url):
    """Text comes back as str and binary as bytes through /echo."""
    got = worker.run(
        """
        from websocket_streaming import connect

        async with connect(ARGS["url"]) as ws:
            await ws.send("héllo wörld 🎉")
            text = await ws.recv()
            await ws.send(bytes(range(256)))
            data = await ws.recv()
        result = [text, type(data).__name__, list(data), ws.close_code]
        """,
        url=ws_url + "/echo",
    )
    assert got == ["héllo wörld 🎉", "bytes", list(range(256)), 1000]


def test_server_close_with_code_and_reason(worker, ws_url):
    """Messages sent before a server close arrive, then the code and reason are reported."""
    got = worker.run(
        """
        from websocket_streaming import ConnectionClosedError, connect

        ws = await connect(ARGS["url"])
        messages = []
        try:
            async for message in ws:
                messages.append(message)
        except ConnectionClosedError as exc:
            error = [exc.code, exc.reason]
        result = [messages, error, ws.close_code, ws.close_reason]
        """,
        url=ws_url + "/close?n=3&code=4001&reason=bye%20now",
    )
    assert got == [["0", "1", "2"], [4001, "bye now"], 4001, "bye now"]


def test_reconnects_with_async_for(worker, ws_url):
    """`async for ws in connect(url)` opens a new connection after each drop."""
    got = worker.run(
        """
        from websocket_streaming import ConnectionClosedError, connect

        rounds = []
        async for ws in connect(ARGS["url"]):
            try:
                async for message in ws:
                    rounds.append(message)
            except ConnectionClosedError as exc:
                rounds.append(exc.code)
            if len(rounds) == 6:
                break
        result = [rounds, ws.close_code]
        """,
        url=ws_url + "/drop?n=2",
    )
    assert got == [["0", "1", 1006] * 2, 1006]
