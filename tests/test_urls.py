"""URLs as the browser's `new WebSocket()` takes them, in a page and in a Web Worker, in every engine.

Relative URLs resolve against the page's (or worker's) location and `http:`/`https:`
become `ws:`/`wss:`, in Python (`connect()`) and in the JS facade; fragments and other
schemes are refused. The test WebSocket server listens on another port than the page,
so the URLs that really connect are scheme-relative (`//host:port/echo`) or `http:`;
a path-relative one (`/echo`) reaches the page's own server, which refuses the
handshake: the failure names the URL it was resolved to.
"""

from __future__ import annotations

from conftest import run_in_pyodide
from test_facade import run_js
from test_worker import worker  # noqa: F401 - the fixture: a page with a Pyodide worker

# Runs in Pyodide, in a page or in a worker: ARGS = {"host": "127.0.0.1:PORT"}.
PYTHON_URLS = """
import js
from websocket_streaming import ConnectionFailed, InvalidURI, connect

host = ARGS["host"]
here = str(js.location.href)
opened = []
for url in [f"http://{host}/echo", f"//{host}/echo?x=1"]:
    async with connect(url) as ws:
        await ws.send(url)
        opened.append([url, ws.url, await ws.recv()])
failed = {}
for url in ["/echo", "https://" + host + "/echo"]:
    try:
        await connect(url, open_timeout=20)
    except ConnectionFailed as exc:
        failed[url] = str(exc)
refused = {}
for url in ["/echo#top", "ftp://" + host + "/", "http://" + host + "/#"]:
    try:
        await connect(url)
    except InvalidURI as exc:
        refused[url] = str(exc)
result = {"here": here, "opened": opened, "failed": failed, "refused": refused}
"""


def check_python_urls(out: dict, host: str, page_origin: str) -> None:
    assert out["here"].startswith(page_origin + "/")
    assert out["opened"] == [
        [f"http://{host}/echo", f"ws://{host}/echo", f"http://{host}/echo"],
        [f"//{host}/echo?x=1", f"ws://{host}/echo?x=1", f"//{host}/echo?x=1"],
    ]
    ws_origin = page_origin.replace("http://", "ws://")
    assert f"could not connect to {ws_origin}/echo:" in out["failed"]["/echo"]
    assert f"could not connect to wss://{host}/echo:" in out["failed"][f"https://{host}/echo"]
    assert set(out["refused"]) == {"/echo#top", f"ftp://{host}/", f"http://{host}/#"}
    assert "fragment" in out["refused"]["/echo#top"]
    assert "fragment" in out["refused"][f"http://{host}/#"]
    assert "scheme must be ws://, wss://, http:// or https://" in out["refused"][f"ftp://{host}/"]


def test_relative_and_http_urls_in_a_page(py, ws_url, static_server):
    """connect() in a page: //host and http:// URLs open as ws://; /path resolves to the page's origin."""
    out = py.run(f"ARGS = {{'host': {ws_url.removeprefix('ws://')!r}}}\n{PYTHON_URLS}")
    check_python_urls(out, ws_url.removeprefix("ws://"), static_server.url)


def test_relative_and_http_urls_in_a_worker(worker, ws_url, static_server):  # noqa: F811
    """connect() in a Web Worker resolves against the worker's location, as in a page."""
    out = worker.run(PYTHON_URLS, host=ws_url.removeprefix("ws://"))
    assert out["here"] == static_server.url + "/tests/worker.js"
    check_python_urls(out, ws_url.removeprefix("ws://"), static_server.url)


@run_in_pyodide
def test_resolver_reads_the_page_location(py):
    """browser.location() is the page's href, the base check_uri resolves against."""
    from websocket_streaming.browser import location
    from websocket_streaming.protocol import check_uri

    import js

    assert location() == str(js.location.href)
    origin = str(js.location.origin)
    assert check_uri("/feed", location()) == origin.replace("http", "ws", 1) + "/feed"
    assert check_uri("feed", location()) == origin.replace("http", "ws", 1) + "/tests/feed"


def test_facade_resolves_like_the_browser(py, ws_url, static_server):
    """The JS facade: url is resolved as new WebSocket() does, http(s) and relative URLs open,
    fragments and other schemes reject opened with a TypeError."""
    host = ws_url.removeprefix("ws://")
    out = run_js(
        py,
        """
        const out = { urls: {}, echo: [], refused: {} };
        for (const url of ["http://" + arg + "/echo", "//" + arg + "/echo", new URL("http://" + arg + "/echo?u")]) {
          const ws = new M.WebSocketStream(url, { pyodide });
          out.urls[String(url)] = ws.url;
          await ws.opened;
          await ws.send("hi");
          out.echo.push(await ws.recv());
          await ws.close();
        }
        out.urls["/feed"] = new M.WebSocketStream("/feed", { pyodide }).url;
        out.urls["wss-kept"] = M.resolveURL("https://" + arg + "/x");
        out.native = typeof WebSocket === "function" ? new WebSocket("/nowhere").url : null;
        for (const url of ["ws://" + arg + "/echo#top", "/echo#", "ftp://" + arg + "/"]) {
          out.refused[url] = await fails(new M.WebSocketStream(url, { pyodide }).opened);
        }
        return out;
        """,
        host,
    )
    ws_origin = static_server.url.replace("http://", "ws://")
    assert out["urls"] == {
        f"http://{host}/echo": f"ws://{host}/echo",
        f"//{host}/echo": f"ws://{host}/echo",
        f"http://{host}/echo?u": f"ws://{host}/echo?u",
        "/feed": f"{ws_origin}/feed",
        "wss-kept": f"wss://{host}/x",
    }
    assert out["echo"] == ["hi", "hi", "hi"]
    assert out["native"] == f"{ws_origin}/nowhere"  # the browser agrees
    for url, error in out["refused"].items():
        assert error["name"] == "TypeError", (url, error)
    assert "fragment" in out["refused"][f"ws://{host}/echo#top"]["message"]
    assert "fragment" in out["refused"]["/echo#"]["message"]
    assert "scheme" in out["refused"][f"ftp://{host}/"]["message"]
