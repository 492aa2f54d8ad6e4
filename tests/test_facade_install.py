"""How the JS facade finds the Python package, in every engine.

Each test loads a fresh Pyodide in its own page, from dist/pyodide/ but with a lock
file given in the page (`lockFileContents`): the real lock, or the real lock without
`websocket-streaming` (as a Pyodide from a CDN, PyScript's or JupyterLite's has).
Then the facade opens a stream over that Pyodide and echoes one message:

- installed with micropip before the facade loads: used as it is (a `wheelURL`
  that does not exist proves no install is tried);
- listed in the lock: `loadPackage`;
- neither: the wheel shipped beside the module (dist/), unpacked into site-packages;
- neither, and the wheel missing: `opened` rejects naming the `wheelURL` option.
"""

from __future__ import annotations

import pytest

# Loads a Pyodide with the lock, prepared as `how` says, then opens a facade stream over it.
SCENARIO_JS = """
async ({ how, ws }) => {
  const { loadPyodide } = await import("/pyodide/pyodide.mjs");
  const lock = await (await fetch("/pyodide/pyodide-lock.json")).json();
  if (how !== "lock") delete lock.packages["websocket-streaming"];
  const pyodide = await loadPyodide({
    indexURL: "/pyodide/", lockFileContents: lock, packageBaseUrl: new URL("/pyodide/", location.href).href });
  if (how === "micropip-first") {
    await pyodide.loadPackage("micropip");
    const micropip = pyodide.pyimport("micropip");
    await micropip.install(new URL("/pyodide/websocket_streaming-0.1.0-py3-none-any.whl", location.href).href);
    micropip.destroy();
  }
  const before = performance.getEntriesByType("resource").length;
  const M = await import("/websocket_streaming.js");
  const options = { pyodide };
  if (how === "micropip-first" || how === "lock" || how === "missing") options.wheelURL = "/nowhere/x.whl";
  const stream = new M.WebSocketStream(ws + "/echo", options);
  const out = { how };
  try {
    await stream.opened;
    await stream.send("via " + how);
    out.echo = await stream.recv();
    await stream.close();
  } catch (e) {
    out.error = { name: e.name, message: String(e.message), ctor: e.constructor.name };
  }
  out.fetched = performance.getEntriesByType("resource").slice(before)
    .map((e) => new URL(e.name).pathname).filter((p) => p.endsWith(".whl"));
  out.loaded = Object.keys(pyodide.loadedPackages).sort();
  return out;
}
"""


@pytest.fixture
def scenario(browser, static_server, ws_url):
    """Runs SCENARIO_JS for one `how` in a page of its own."""
    pages = []

    def run(how: str) -> dict:
        page = browser.new_page(static_server.url + "/tests/blank.html")
        pages.append(page)
        return page.evaluate(SCENARIO_JS, {"how": how, "ws": ws_url}, timeout=180)

    yield run
    for page in pages:
        page.close()


def test_package_installed_with_micropip_first(scenario):
    """A Pyodide where micropip installed the package (lock without it): the facade uses it as is."""
    out = scenario("micropip-first")
    assert out.get("error") is None and out["echo"] == "via micropip-first", out
    assert out["fetched"] == []  # neither loadPackage nor another micropip.install


def test_package_from_the_lock(scenario):
    """A Pyodide whose lock lists the package, not loaded yet: loadPackage, from dist/pyodide/."""
    out = scenario("lock")
    assert out.get("error") is None and out["echo"] == "via lock", out
    assert out["fetched"] == ["/pyodide/websocket_streaming-0.1.0-py3-none-any.whl"]
    assert "micropip" not in out["loaded"]


def test_package_from_the_wheel_beside_the_module(scenario):
    """Neither importable nor in the lock: the wheel shipped beside the module is unpacked
    into site-packages (pure Python, no dependencies: no micropip, no request for it)."""
    out = scenario("fallback")
    assert out.get("error") is None and out["echo"] == "via fallback", out
    assert "/websocket_streaming-0.1.0-py3-none-any.whl" in out["fetched"], out
    assert "micropip" not in out["loaded"], out
    assert not any("micropip" in url for url in out["fetched"]), out


def test_missing_wheel_names_the_option(scenario):
    """Neither importable, nor in the lock, nor at wheelURL: opened rejects naming { wheelURL }."""
    out = scenario("missing")
    assert out["error"]["ctor"] == "WebSocketStreamError", out
    assert "/nowhere/x.whl" in out["error"]["message"] and "{ wheelURL }" in out["error"]["message"]
    assert "Traceback" not in out["error"]["message"]


def test_missing_pyodide_names_the_options(browser, static_server, ws_url):
    """No Pyodide at indexURL: opened rejects naming { pyodide } and { indexURL }, not a bare TypeError."""
    page = browser.new_page(static_server.url + "/tests/blank.html")
    try:
        out = page.evaluate(
            """async (ws) => {
              const M = await import("/websocket_streaming.js");
              try {
                await new M.WebSocketStream(ws, { indexURL: "/no-pyodide-here/" }).opened;
              } catch (e) {
                return { ctor: e.constructor.name, message: String(e.message) };
              }
              return null;
            }""",
            ws_url + "/echo",
            timeout=60,
        )
    finally:
        page.close()
    assert out["ctor"] == "WebSocketStreamError", out
    assert "/no-pyodide-here/pyodide.mjs" in out["message"]
    assert "{ pyodide }" in out["message"] and "{ indexURL }" in out["message"]
