"""What the first stream costs in a page, in every engine: the figures the README states.

A fresh page loads Pyodide, then our package (the facade's loadWebSocketStreaming),
then opens a stream and waits for the first echo. Run with `-s` to see the times;
the asserts only catch a startup that went badly wrong.
"""

from __future__ import annotations

STARTUP_JS = """
async (ws) => {
  const t0 = performance.now();
  const { loadPyodide } = await import("/pyodide/pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: "/pyodide/" });
  const t1 = performance.now();
  const M = await import("/websocket_streaming.js");
  await M.loadWebSocketStreaming({ pyodide });
  const t2 = performance.now();
  const stream = new M.WebSocketStream(ws + "/echo", { pyodide });
  await stream.opened;
  await stream.send("first");
  const echo = await stream.recv();
  const t3 = performance.now();
  await stream.close();
  return { echo, pyodide: t1 - t0, package: t2 - t1, first: t3 - t2 };
}
"""


def test_startup_cost(browser, static_server, ws_url, engine):
    """Pyodide load, our import and the first message, timed in a fresh page."""
    page = browser.new_page(static_server.url + "/tests/blank.html")
    try:
        out = page.evaluate(STARTUP_JS, ws_url, timeout=180)
    finally:
        page.close()
    print(
        f"\n[{engine}] Pyodide {out['pyodide'] / 1000:.2f} s, our package "
        f"{out['package'] / 1000:.2f} s, first message {out['first'] / 1000:.3f} s"
    )
    assert out["echo"] == "first"
    assert out["pyodide"] + out["package"] + out["first"] < 90_000, out
