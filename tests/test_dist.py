"""The built dist/ as users get it: served by a plain `python -m http.server`, used offline.

Also checks the wheel itself: it imports on plain CPython, without a browser.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DIST, ROOT, off_host, start_recording

LOAD_JS = """
async () => {
  const { loadPyodide } = await import("/pyodide/pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: "/pyodide/" });
  await pyodide.loadPackage("websocket-streaming");
  return pyodide.runPython(`
import json, websocket_streaming, websocket_streaming.browser, websocket_streaming.facade
json.dumps([websocket_streaming.__version__, websocket_streaming.__file__])
`);
}
"""


@pytest.fixture(scope="module")
def plain_server() -> Iterator[str]:
    """`python -m http.server` serving dist/ on a free port of 127.0.0.1."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(DIST),
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"port (\d+)", line)
    assert match, f"http.server said: {line!r}"
    yield f"http://127.0.0.1:{match[1]}"
    process.terminate()
    process.wait(10)
    process.stdout.close()


def test_plain_http_server_loads_package_offline(browser, plain_server):
    """loadPyodide + loadPackage("websocket-streaming") work from dist/ with no request off 127.0.0.1."""
    page = browser.new_page(plain_server + "/pyodide/")  # the folder listing: any same-origin page
    try:
        requests = start_recording(page)
        version, path = page.evaluate(f"async () => JSON.parse(await ({LOAD_JS})())", timeout=120)
        assert version == "0.1.0" and path.startswith("/lib/python3.14/site-packages/")
        if requests is not None:  # Playwright engines; Selenium's WebKitGTK cannot observe requests
            assert any(url.endswith(".whl") for url in requests), requests
            assert off_host(requests) == []
    finally:
        page.close()


def test_wheel_is_pure_and_imports_on_cpython(tmp_path):
    """The built wheel is py3-none-any, listed in the lock, and imports on CPython without `js`."""
    wheels = list((DIST / "pyodide").glob("websocket_streaming-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    lock = (DIST / "pyodide" / "pyodide-lock.json").read_text()
    assert f'"file_name": "{wheels[0].name}"' in lock
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extractall(tmp_path)
    code = (
        "import websocket_streaming as w, sys; "
        "assert 'js' not in sys.modules; print(w.__version__, w.State.OPEN.name)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0.1.0", "OPEN"]


def test_wheel_ships_the_sources_without_comments(tmp_path):
    """The wheel's .py and .js files are the sources without comments (tools/hatch_build.py):
    every .py keeps its line count and docstrings and compiles; no file is left out."""
    wheel = next((DIST / "pyodide").glob("websocket_streaming-*-py3-none-any.whl"))
    package = ROOT / "python" / "websocket_streaming"
    with zipfile.ZipFile(wheel) as zf:
        shipped = {
            Path(name).name: zf.read(name).decode()
            for name in zf.namelist()
            if name.startswith("websocket_streaming/")
        }
    sources = {p.name for p in package.iterdir() if p.suffix in (".py", ".js", ".typed")}
    assert set(shipped) == sources
    for name, text in shipped.items():
        source = (package / name).read_text()
        if name.endswith(".py"):
            assert text.count("\n") == source.count("\n"), name
            compile(text, name, "exec")
            comments = [
                t
                for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type == tokenize.COMMENT
            ]
            assert comments == [], (name, comments[:3])
            module_doc = ast.get_docstring(ast.parse(source))
            assert module_doc is None or module_doc == ast.get_docstring(ast.parse(text)), name
        elif name.endswith(".js"):
            assert "/*" not in text and not re.search(r"^\s*//", text, re.M), name
            assert len(text) < len(source), name
