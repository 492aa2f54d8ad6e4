"""The npm package as an app gets it: `npm install` of the packed tarball, bundled with esbuild,
served and run in every engine.

The app (built once per session in a temporary folder, offline):

- `npm install build/packages/websocket-streaming-0.1.0.tgz build/pyodide-314.0.7.tgz`:
  our tarball (from `./build.sh packages`) and the npm package `pyodide`, which ships the
  runtime only (no micropip, no lock entry for us);
- `esbuild app.js --bundle --format=esm`, then the two copies the README documents: the
  Pyodide files and our wheel next to the bundle (esbuild, unlike Vite, does not emit the
  files a `new URL("...", import.meta.url)` names);
- the same app bundled as an IIFE, which the module refuses at load with a clear error.

The facade then finds Pyodide through `indexURL: "./pyodide/"` and installs the wheel
shipped in the npm package (unpacked into site-packages: that Pyodide has no micropip).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from servers import StaticServer

VERSION = "0.1.0"
PYODIDE_TGZ = ROOT / "build" / "pyodide-314.0.7.tgz"
ESBUILD = ROOT / "build" / "node" / "node_modules" / ".bin" / "esbuild"

APP_JS = """
import { WebSocketStream, WebSocketStreamError } from "websocket-streaming";

// Streams one echo; `indexURL` is the one option: where this app serves node_modules/pyodide/.
window.runApp = async (url, indexURL = "./pyodide/") => {
  try {
    const ws = new WebSocketStream(url, { indexURL });
    await ws.opened;
    await ws.send("bundled");
    const echo = await ws.recv();
    await ws.close({ closeCode: 1000, reason: "done" });
    return { echo, closed: await ws.closed };
  } catch (e) {
    return { error: e.name, ours: e instanceof WebSocketStreamError, message: String(e.message) };
  }
};
"""

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>window.loadErrors = []; addEventListener("error", (e) => loadErrors.push(String(e.message)));</script>
<script {kind} src="{script}"></script></head><body>app</body></html>
"""


def npm(*args: str, cwd: Path) -> None:
    run = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def app(packages_tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bundled app, served on 127.0.0.1 (not cross-origin isolated, as a plain host serves it)."""
    tarball = packages_tarball
    root = tmp_path_factory.mktemp("bundler-app")
    (root / "package.json").write_text(json.dumps({"name": "app", "private": True}))
    (root / "app.js").write_text(APP_JS)
    npm(
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        str(tarball),
        str(PYODIDE_TGZ),
        cwd=root,
    )
    www = root / "www"
    for fmt, out in (("esm", "app.js"), ("iife", "app-iife.js")):
        run = subprocess.run(
            [str(ESBUILD), "app.js", "--bundle", f"--format={fmt}", f"--outfile=www/{out}"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
    modules = root / "node_modules"
    shutil.copytree(modules / "pyodide", www / "pyodide")
    wheel = f"websocket_streaming-{VERSION}-py3-none-any.whl"
    shutil.copy(modules / "websocket-streaming" / wheel, www / wheel)
    (www / "index.html").write_text(PAGE.format(kind='type="module"', script="app.js"))
    (www / "iife.html").write_text(PAGE.format(kind="", script="app-iife.js"))
    server = StaticServer(www, isolate=False)
    yield server.url
    server.close()


def test_bundled_app_streams(browser, app, ws_url):
    """The esbuild bundle loads npm's Pyodide, installs the wheel from the npm package and streams."""
    page = browser.new_page(app + "/index.html")
    try:
        out = page.evaluate(
            """async (url) => {
              while (!window.runApp) await new Promise((r) => setTimeout(r, 20));
              const result = await window.runApp(url);
              result.wheels = performance.getEntriesByType("resource")
                .map((e) => new URL(e.name).pathname).filter((p) => p.endsWith(".whl"));
              return result;
            }""",
            ws_url + "/echo",
            timeout=180,
        )
    finally:
        page.close()
    assert out.get("error") is None, out
    assert out["echo"] == "bundled"
    assert out["closed"] == {"code": 1000, "closeCode": 1000, "reason": "done"}
    # Ours, unpacked; no request for micropip (not in npm's pyodide: it would be a 404).
    assert out["wheels"] == [f"/websocket_streaming-{VERSION}-py3-none-any.whl"]


def test_bundled_app_without_pyodide_names_the_option(browser, app, ws_url):
    """Where no Pyodide is served, opened rejects naming { indexURL } (not "Failed to fetch")."""
    page = browser.new_page(app + "/index.html")
    try:
        out = page.evaluate(
            """async (url) => {
              while (!window.runApp) await new Promise((r) => setTimeout(r, 20));
              return await window.runApp(url, "./no-pyodide/");
            }""",
            ws_url + "/echo",
            timeout=60,
        )
    finally:
        page.close()
    assert out["ours"] and out["error"] == "WebSocketStreamError", out
    assert "/no-pyodide/pyodide.mjs" in out["message"] and "{ indexURL }" in out["message"]


def test_iife_bundle_is_refused(browser, app):
    """An IIFE bundle fails at load with an error that says to bundle as an ES module."""
    page = browser.new_page(app + "/iife.html")
    try:
        out = page.evaluate(
            "async () => ({ errors: window.loadErrors, runApp: typeof window.runApp })", None
        )
    finally:
        page.close()
    assert out["runApp"] == "undefined"
    assert len(out["errors"]) == 1 and "must be loaded as" in out["errors"][0], out
    assert 'format "esm"' in out["errors"][0]
