"""The README's app under Vite, as a new user runs it: `npm install` of our packed tarball, npm's
`pyodide` and Vite (7.x and 8.x, pinned), then the dev server, `vite build` and `vite preview`,
each streaming in every engine.

The app is the README's: app.js (test_bundler.APP_JS), an index.html, Pyodide's files copied
to public/pyodide/, and a vite.config.js that keeps the package out of the dev server's
pre-bundling (Pyodide asks the same for itself): pre-bundled, its module would move to
node_modules/.vite/deps/ and no longer find the wheel beside it. What the app must not show: a
warning about our module at build time, a console error or warning, a request for micropip.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import start_recording
from test_bundler import APP_JS, PYODIDE_TGZ, npm

VITE_VERSIONS = ["7.3.8", "8.4.1"]

INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="/app.js"></script></head><body>app</body></html>
"""

VITE_CONFIG = """export default {
  // Served as it is, beside its wheel (new URL("./…whl", import.meta.url)), not pre-bundled.
  optimizeDeps: { exclude: ["websocket-streaming"] },
};
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(root: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """`vite <args>` on a free port of 127.0.0.1; returns once it prints its Local: URL."""
    port = free_port()
    command = [str(root / "node_modules" / ".bin" / "vite"), *args]
    command += ["--host", "127.0.0.1", "--port", str(port), "--strictPort"]
    # No colours: with CI=true Vite writes the port in bold, inside the URL.
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    url = f"http://127.0.0.1:{port}"
    seen = b""
    deadline = time.monotonic() + 60
    while f"{url}/".encode() not in re.sub(rb"\x1b\[[0-9;]*m", b"", seen):
        ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:  # exited, or the deadline passed
            stop(proc)
            raise AssertionError(f"{' '.join(command)} did not start:\n{seen.decode()}")
        seen += chunk
    # Keep reading what it logs, so that a full pipe never blocks it.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, url


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    assert proc.stdout is not None
    proc.stdout.close()


@pytest.fixture(scope="session", params=VITE_VERSIONS, ids=lambda v: f"vite{v.split('.')[0]}")
def vite_app(request, packages_tarball, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The app with this Vite: its dev server and its preview of `vite build`, running (set
    up once for every engine)."""
    version = request.param
    root = tmp_path_factory.mktemp(f"vite-{version}")
    (root / "package.json").write_text(
        json.dumps({"name": "app", "private": True, "type": "module"})
    )
    (root / "app.js").write_text(APP_JS)
    (root / "index.html").write_text(INDEX_HTML)
    (root / "vite.config.js").write_text(VITE_CONFIG)
    npm(
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        str(packages_tarball),
        str(PYODIDE_TGZ),
        f"vite@{version}",
        cwd=root,
    )
    shutil.copytree(root / "node_modules" / "pyodide", root / "public" / "pyodide")
    built = subprocess.run(
        [str(root / "node_modules" / ".bin" / "vite"), "build"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    dev, dev_url = serve(root)
    try:
        preview, preview_url = serve(root, "preview")
        try:
            yield {
                "dev": dev_url,
                "preview": preview_url,
                "build": built.stdout + built.stderr,
                "root": str(root),
            }
        finally:
            stop(preview)
    finally:
        stop(dev)


def test_vite_build_has_no_warning_about_us(vite_app):
    """`vite build` emits the wheel as an asset and warns about nothing of ours."""
    log = vite_app["build"]
    assert "warn" not in log.lower() and "doesn't exist" not in log, log
    assets = [p.name for p in (Path(vite_app["root"]) / "dist" / "assets").iterdir()]
    assert any(name.startswith("websocket_streaming-") and name.endswith(".whl") for name in assets)


@pytest.mark.parametrize("server", ["dev", "preview"])
def test_vite_app_streams(browser, vite_app, ws_url, server):
    """The app streams under the dev server and the preview, with no console error or
    warning and no request for micropip (npm's pyodide has none)."""
    page = browser.new_page(vite_app[server] + "/")
    try:
        requests = start_recording(page)
        out = page.evaluate(
            """async (url) => {
              while (!window.runApp) await new Promise((r) => setTimeout(r, 20));
              return await window.runApp(url, "/pyodide/");
            }""",
            ws_url + "/echo",
            timeout=180,
        )
        console = page.console()
    finally:
        page.close()
    assert out.get("error") is None, out
    assert out["echo"] == "bundled"
    noisy = [line for line in console if line.startswith(("error", "warning", "pageerror"))]
    assert noisy == [], console
    if requests is not None:
        assert not [u for u in requests if "micropip" in u], requests
