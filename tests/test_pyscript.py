"""demo/pyscript.html: `<script type="py">` in PyScript (from npm, served from dist/pyscript/),
whose config installs our wheel; it streams from the test server. In every engine, offline."""

from __future__ import annotations

from urllib.parse import urlencode

from conftest import off_host, start_recording

N = 10

# Waits until the page's status says it streamed or failed.
_WAIT_JS = """
async () => {
  const end = Date.now() + 150000;
  const status = () => document.getElementById("status").textContent;
  while (Date.now() < end && !/^(streamed|failed)/.test(status())) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { status: status(), log: document.getElementById("log").textContent };
}
"""


def test_pyscript_page_streams_offline(browser, static_server, ws_url):
    """PyScript loads Pyodide from dist/, micropip-installs our wheel from its config, streams 10
    messages; no request leaves 127.0.0.1 (where the driver can see requests)."""
    url = f"{ws_url}/send?n={N}"
    page = browser.new_page(static_server.url + "/tests/blank.html")
    try:
        requests = start_recording(page)
        page.goto(f"{static_server.url}/demo/pyscript.html?{urlencode({'ws': url, 'n': N})}")
        out = page.evaluate(_WAIT_JS, None, timeout=170)
        console = "\n".join(page.console()[-30:])
    finally:
        page.close()
    assert out["status"] == f"streamed {N} messages from {url}", f"{out}\n{console}"
    assert out["log"].splitlines() == [str(i) for i in range(N)]
    if requests is not None:
        assert any(u.endswith("/websocket_streaming-0.1.0-py3-none-any.whl") for u in requests)
        assert any("/pyscript/core" in u for u in requests)
        assert off_host(requests) == []
