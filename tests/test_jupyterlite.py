"""The package in the built JupyterLite site (dist/lite/), in every engine.

The REPL app runs the cells given as `code=` URL parameters once its Pyodide
kernel (in a Web Worker) is ready, so no typing is needed and the same page
script drives every engine: `%pip install websocket-streaming`, then a cell
that streams messages from the test's WebSocket server and prints them. The
test reads the printed text from the page.

Where the harness drives Playwright (Chromium, Firefox) the test also records
every request of the browser context, page and kernel worker alike, and
asserts that none left 127.0.0.1. WebKit runs through Selenium's WebKitGTK
driver, which offers no way to observe requests, so there only the functional
part runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import harness
import pytest
from conftest import DIST, ROOT, off_host, start_recording
from servers import StaticServer

LITE = DIST / "lite"
N = 20

STREAM_CELL = """
from websocket_streaming import connect
async with connect({url!r}) as ws:
    for _ in range({n}):
        print("got", await ws.recv())
print("streamed", {n}, "messages from", ws.url)
"""

# Polls the console's outputs until `marker` shows up, an error does, or `ms` pass.
_WAIT_OUTPUT_JS = """
async ({ marker, ms }) => {
  const text = () => Array.from(
    document.querySelectorAll(".jp-CodeConsole-content .jp-OutputArea-output"),
    (el) => el.innerText).join("\\n");
  const end = Date.now() + ms;
  while (Date.now() < end && !text().includes(marker) && !/Traceback|Error:/.test(text())) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return text();
}
"""


@pytest.fixture(scope="module")
def lite_server() -> Iterator[StaticServer]:
    """dist/lite/ at /, tests/ at /tests/, not cross-origin isolated (as a plain host serves it)."""
    if not (LITE / ".build-stamp.json").exists():
        pytest.fail("dist/lite/ is not built: run ./build.sh lite (or ./build.sh test)")
    server = StaticServer(LITE, {"/tests/": Path(__file__).resolve().parent}, isolate=False)
    yield server
    server.close()


def run_in_repl(page: harness.Page, base_url: str, cells: list[str], marker: str) -> str:
    """Open the REPL with `cells` to run; return its output once `marker` shows (or fail)."""
    query = urlencode([("kernel", "python"), *(("code", cell) for cell in cells)])
    started = time.monotonic()
    page.goto(f"{base_url}/repl/index.html?{query}", timeout=60)
    text = page.evaluate(_WAIT_OUTPUT_JS, {"marker": marker, "ms": 90_000}, timeout=100)
    elapsed = time.monotonic() - started
    console = "\n".join(page.console()[-30:])
    assert marker in text, f"after {elapsed:.1f} s the REPL shows:\n{text}\n--- console:\n{console}"
    return text


def test_pip_install_and_stream_in_the_repl(browser, lite_server, ws_server):
    """%pip install websocket-streaming, then stream 20 messages in a cell; nothing leaves 127.0.0.1."""
    page = browser.new_page(lite_server.url + "/tests/blank.html")
    try:
        requests = start_recording(page)
        ws_url = f"{ws_server.url}/send?n={N}"
        cells = ["%pip install websocket-streaming", STREAM_CELL.format(url=ws_url, n=N)]
        marker = f"streamed {N} messages from {ws_url}"
        text = run_in_repl(page, lite_server.url, cells, marker)
        assert [line for line in text.splitlines() if line.startswith("got ")] == [
            f"got {i}" for i in range(N)
        ]
        if requests is not None:
            # The recorder saw the kernel worker's traffic: our wheel and the WebSocket
            # handshake (Chromium reports it as ws://, Firefox as http://).
            seen = f"{len(requests)} requests recorded"
            assert any("/websocket_streaming-" in url for url in requests), seen
            assert any(url.endswith(ws_url.partition("://")[2]) for url in requests), seen
            assert off_host(requests) == []
    finally:
        page.close()


def test_micropip_install_from_the_wheel_url(browser, lite_server, ws_server):
    """await micropip.install(<the site's wheel URL>) works offline, as the README documents."""
    wheel = next((LITE / "pypi").glob("websocket_streaming-*.whl")).name
    cell = f"""
print("cell started")  # a failure then says whether the kernel ran the cell at all
import micropip
await micropip.install("/pypi/{wheel}")
from websocket_streaming import connect
async with connect("{ws_server.url}/echo") as ws:
    await ws.send("via micropip")
    print("echo:", await ws.recv())
"""
    page = browser.new_page(lite_server.url + "/tests/blank.html")
    try:
        text = run_in_repl(page, lite_server.url, [cell], "echo: via micropip")
        assert "Traceback" not in text
    finally:
        page.close()


def notebook_cell(containing: str) -> str:
    """The source of the example notebook's code cell that contains ``containing``."""
    cells = json.loads((ROOT / "demo" / "notebook.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return next(source for source in sources if containing in source)


@pytest.mark.engines("chromium")
def test_notebook_sync_cell_blocks_in_the_kernel(browser, lite_server, ws_server):
    """The example notebook's synchronous websocket-client cell, as written (its URL pointed
    at the test server), blocks through JSPI in the kernel's worker and prints what came.
    Chromium: the lite tests' engine with JSPI (WebKit has none; see test_sync_browser.py)."""
    cell = notebook_cell("websocket.create_connection")
    cell = cell.replace("ws://127.0.0.1:8765/ticker", f"{ws_server.url}/send?n=3")
    page = browser.new_page(lite_server.url + "/tests/blank.html")
    try:
        cells = ["%pip install websocket-streaming", cell]
        text = run_in_repl(page, lite_server.url, cells, "closed: True")
        assert [line for line in text.splitlines() if line.startswith("tick ")] == [
            "tick 0",
            "tick 1",
            "tick 2",
        ]
        assert "Traceback" not in text
    finally:
        page.close()
