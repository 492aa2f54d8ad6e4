"""Run Python in the JupyterLite REPL of the demo site from Playwright.

The REPL app (``<site>/repl/index.html?kernel=python``) is the lightest page that
starts the Pyodide kernel: one console, one prompt cell. ``open_repl`` loads it
and waits until the kernel answers; ``run_cell`` types code into the prompt
cell, runs it with Shift+Enter and returns the text of the cell's outputs once
the cell has a final execution count.

Everything here uses only ``page.goto``, ``page.locator``, ``page.keyboard``,
``page.evaluate`` and ``page.wait_for_function``, so any Playwright-like sync
page works.

    from tests.lite_driver import open_repl, run_cell

    ready_s = open_repl(page, "http://127.0.0.1:8000")
    run_cell(page, "%pip install websocket-streaming")
    assert "ok" in run_cell(page, "import websocket_streaming; print('ok')")
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CellError", "off_host", "open_repl", "record_requests", "repl_url", "run_cell"]

#: Page open to kernel ready took 7 s on a 2-core machine; leave room for a busy one.
KERNEL_TIMEOUT_MS = 90_000
CELL_TIMEOUT_MS = 60_000

PROMPT_EDITOR = ".jp-CodeConsole-promptCell .cm-content"
EXECUTED_CELLS = ".jp-CodeConsole-content .jp-CodeCell"

# True once there are `before + 1` executed cells and the last one shows a final
# execution count "[N]:" (it shows "[*]:" while running, "[ ]:" before).
_CELL_DONE_JS = """
([selector, before]) => {
  const cells = document.querySelectorAll(selector);
  if (cells.length <= before) return false;
  const prompt = cells[cells.length - 1].querySelector('.jp-InputPrompt');
  return !!prompt && /^\\[\\d+\\]:$/.test(prompt.innerText.trim());
}
"""

# Text and MIME type of each output of the last executed cell.
_LAST_OUTPUTS_JS = """
(selector) => {
  const cells = document.querySelectorAll(selector);
  const cell = cells[cells.length - 1];
  return Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map((el) => ({
    text: el.innerText,
    mime: el.getAttribute('data-mime-type') || '',
  }));
}
"""

# IPython renders every error raised by a cell (SyntaxError included) on stderr
# with a "Cell In[N], line M" frame; other tracebacks carry the classic header.
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*Cell In\[\d+\], line \d+", re.M)


class CellError(AssertionError):
    """The cell raised: its output holds a Python traceback."""


def repl_url(base_url: str) -> str:
    """URL of the REPL app with the Python (Pyodide) kernel."""
    return f"{base_url.rstrip('/')}/repl/index.html?kernel=python&toolbar=1"


def open_repl(page: Any, base_url: str, timeout_ms: float = KERNEL_TIMEOUT_MS) -> float:
    """Open the REPL and wait for the kernel; return seconds from navigation to ready.

    "Ready" means the kernel has run a first cell: the Pyodide kernel only
    executes once micropip, piplite, ipykernel, comm, pyodide-kernel, jedi and
    ipython are installed, so this also proves every startup wheel loaded.
    Raises TimeoutError (Playwright's) if that takes longer than ``timeout_ms``.
    """
    started = time.monotonic()
    page.goto(repl_url(base_url))
    page.locator(PROMPT_EDITOR).wait_for(state="visible", timeout=timeout_ms)
    remaining = max(1_000.0, timeout_ms - (time.monotonic() - started) * 1000)
    output = run_cell(page, "print('kernel-ready')", timeout_ms=remaining)
    if "kernel-ready" not in output:
        raise CellError(f"kernel answered the first cell with {output!r}")
    return time.monotonic() - started


def run_cell(page: Any, code: str, timeout_ms: float = CELL_TIMEOUT_MS, check: bool = True) -> str:
    """Run ``code`` in the REPL's prompt cell; return its outputs' text.

    Outputs (stdout, stderr, results, errors) are joined with newlines in
    display order. With ``check`` a traceback in the outputs raises CellError
    carrying the text. Raises Playwright's TimeoutError if the cell has not
    finished after ``timeout_ms``. The code is inserted as text, not typed key
    by key, so editor auto-indent and bracket closing do not alter it.
    """
    before = page.locator(EXECUTED_CELLS).count()
    editor = page.locator(PROMPT_EDITOR)
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        _CELL_DONE_JS, arg=[EXECUTED_CELLS, before], timeout=timeout_ms, polling=100
    )
    outputs = page.evaluate(_LAST_OUTPUTS_JS, EXECUTED_CELLS)
    text = "\n".join(o["text"].rstrip("\n") for o in outputs)
    stderr = [o["text"] for o in outputs if o["mime"] == "application/vnd.jupyter.stderr"]
    if check and any(_TRACEBACK.search(t) for t in stderr):
        raise CellError(text)
    return text


def record_requests(context: Any) -> list[str]:
    """Record the URL of every request made from now on in a browser context.

    Covers pages, their Web Workers (the kernel runs in one; Chromium reports
    worker requests on the context) and WebSockets (reported per page, worker
    ones included). Returns the list, which keeps filling as requests happen.
    """
    urls: list[str] = []

    def watch(page: Any) -> None:
        page.on("websocket", lambda ws: urls.append(ws.url))

    context.on("request", lambda request: urls.append(request.url))
    context.on("page", watch)
    for page in context.pages:
        watch(page)
    return urls


def off_host(urls: list[str], hosts: tuple[str, ...] = ("127.0.0.1",)) -> list[str]:
    """The URLs whose host is not one of ``hosts`` (data: and blob: URLs are local)."""
    return [
        url
        for url in urls
        if not url.startswith(("data:", "blob:")) and urlsplit(url).hostname not in hosts
    ]
