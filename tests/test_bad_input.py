"""Bad input at the public entry points, in every engine: the JS facade and the Python API in
the page each refuse it with the exact error (type and message), before anything is sent.

URLs, option values (wrong types, null/None, NaN, negative, huge), message types and
strings (empty, huge, lone surrogates), close codes and reasons, and calls after a close.
Three inputs are not errors, as in the browser's own WebSocket (each case shows what
happens): a lone surrogate in text is sent as U+FFFD (the browser converts text to a
USVString), a space in the URL is percent-encoded, and user:password@ in the URL is
accepted (browsers ignore it for WebSockets).
"""

from __future__ import annotations

import json
import re
import socket

from conftest import run_in_pyodide


def _refused(url: str) -> list[str]:
    """What a connection to a port where nothing listens ends with (ports as PORT)."""
    return [
        "ConnectionFailed",
        f"could not connect to {url}: the browser closed the connection with 1006 (abnormal "
        "closure) before it opened (the server refused it, is unreachable, or rejected the "
        "handshake; browsers do not say which)",
    ]


#: What connect(additional_headers=...) and the facade's `headers` raise in a browser.
HEADERS_REFUSED = (
    "connect(additional_headers=...) is not possible in a browser: a page cannot set handshake "
    "headers (pass a token in the URL or the first message instead; Pyodide in Node.js or Deno "
    "can send them)"
)

#: label -> (JS code that must reject, [error name, message]).
FACADE: dict[str, tuple[str, list[str]]] = {
    "url: ftp scheme": (
        'await new WebSocketStream("ftp://127.0.0.1/", { pyodide }).opened',
        [
            "TypeError",
            "'ftp://127.0.0.1/' is not a WebSocket URL: the scheme must be ws://, wss://, http:// or https://, not ftp:",
        ],
    ),
    "url: no host": (
        'await new WebSocketStream("ws://", { pyodide }).opened',
        ["TypeError", "'ws://' has no host"],
    ),
    "url: credentials": (
        'await new WebSocketStream(url.replace("ws://", "ws://user:pw@") + "/echo", { pyodide }).opened; throw new Error("opened with credentials")',
        ["Error", "opened with credentials"],
    ),
    "url: fragment": (
        'await new WebSocketStream(url + "/echo#frag", { pyodide }).opened',
        [
            "TypeError",
            "'ws://127.0.0.1:PORT/echo#frag' has a #fragment, which WebSocket URLs may not have",
        ],
    ),
    "url: space": (
        'const s = new WebSocketStream(url + "/ec ho", { pyodide }); await s.opened',
        ["no error", ""],
    ),
    "url: bad IPv6": (
        'await new WebSocketStream("ws://[::1/", { pyodide }).opened',
        ["TypeError", "'ws://[::1/' is not a valid URL: Invalid IPv6 URL"],
    ),
    "url: IPv6 nobody listens": (
        "await new WebSocketStream(refused6, { pyodide }).opened",
        _refused("ws://[::1]:PORT/"),
    ),
    "url: null": (
        "new WebSocketStream(null, { pyodide })",
        ["TypeError", "the URL must be a string or a URL, not null"],
    ),
    "url: number": (
        "new WebSocketStream(42, { pyodide })",
        ["TypeError", "the URL must be a string or a URL, not number"],
    ),
    "openTimeout NaN": (
        "new WebSocketStream(url, { pyodide, openTimeout: Number.NaN })",
        ["RangeError", "openTimeout must be a finite number >= 0, not NaN"],
    ),
    "openTimeout -1": (
        "new WebSocketStream(url, { pyodide, openTimeout: -1 })",
        ["RangeError", "openTimeout must be a finite number >= 0, not -1"],
    ),
    "openTimeout string": (
        'new WebSocketStream(url, { pyodide, openTimeout: "10" })',
        ["TypeError", "openTimeout must be a number of seconds or null, not string"],
    ),
    "closeTimeout Infinity": (
        "new WebSocketStream(url, { pyodide, closeTimeout: Number.POSITIVE_INFINITY })",
        ["RangeError", "closeTimeout must be a finite number >= 0, not Infinity"],
    ),
    "maxSize -1": (
        "new WebSocketStream(url, { pyodide, maxSize: -1 })",
        ["RangeError", "maxSize must be >= 0, not -1"],
    ),
    "maxSize 1.5": (
        "new WebSocketStream(url, { pyodide, maxSize: 1.5 })",
        ["TypeError", "maxSize must be an integer or null, not 1.5"],
    ),
    "maxSize huge": ("new WebSocketStream(url, { pyodide, maxSize: 2 ** 60 })", ["no error", ""]),
    "maxQueue null is fine": (
        'const s = new WebSocketStream(url + "/echo", { pyodide, maxQueue: null }); await s.opened; await s.close(); throw new Error("null accepted")',
        ["Error", "null accepted"],
    ),
    "onOverflow unknown": (
        'new WebSocketStream(url, { pyodide, onOverflow: "drop-newest" })',
        ["RangeError", 'onOverflow must be "close" or "drop-oldest", not "drop-newest"'],
    ),
    "heartbeat interval 0": (
        "new WebSocketStream(url, { pyodide, heartbeat: { interval: 0 } })",
        ["RangeError", "heartbeat.interval must be > 0, not 0"],
    ),
    "heartbeat pong number": (
        "new WebSocketStream(url, { pyodide, heartbeat: { interval: 1, pong: 5 } })",
        [
            "TypeError",
            "heartbeat.pong must be a string, an ArrayBuffer, a Uint8Array or a function, not 5",
        ],
    ),
    "idleTimeout 0": (
        "new WebSocketStream(url, { pyodide, idleTimeout: 0 })",
        ["RangeError", "idleTimeout must be > 0 (or null for no idle timeout), not 0"],
    ),
    "reconnect factor 0.5": (
        "new WebSocketStream(url, { pyodide, reconnect: { factor: 0.5 } })",
        ["RangeError", "reconnect.factor must be at least 1, not 0.5"],
    ),
    "reconnect maxRetries -1": (
        "new WebSocketStream(url, { pyodide, reconnect: { maxRetries: -1 } })",
        ["RangeError", "reconnect.maxRetries must be >= 0, not -1"],
    ),
    "reconnect string": (
        'new WebSocketStream(url, { pyodide, reconnect: "yes" })',
        [
            "TypeError",
            "reconnect must be a boolean or an object {minDelay, maxDelay, factor, maxRetries}, not string",
        ],
    ),
    "sendQueue without reconnect": (
        "new WebSocketStream(url, { pyodide, sendQueue: 5 })",
        ["TypeError", "sendQueue applies to a reconnecting stream only: add reconnect: true"],
    ),
    "unknown option": (
        "new WebSocketStream(url, { pyodide, bogus: 1 })",
        ["TypeError", 'unknown WebSocketStream option "bogus"'],
    ),
    "protocols not strings": (
        "new WebSocketStream(url, { pyodide, protocols: [1] })",
        ["TypeError", "protocols must be a string or an array of strings"],
    ),
    "backend unknown": (
        'new WebSocketStream(url, { pyodide, backend: "fast" })',
        ["RangeError", 'backend must be "classic", "native" or "auto", not "fast"'],
    ),
    "send undefined": (
        "await ws.send(undefined)",
        [
            "TypeError",
            "send() takes a string, an ArrayBuffer, a TypedArray or a DataView, not undefined",
        ],
    ),
    "send BigInt": (
        "await ws.send(10n)",
        [
            "TypeError",
            "send() takes a string, an ArrayBuffer, a TypedArray or a DataView, not bigint",
        ],
    ),
    "send Symbol": (
        'await ws.send(Symbol("s"))',
        [
            "TypeError",
            "send() takes a string, an ArrayBuffer, a TypedArray or a DataView, not symbol",
        ],
    ),
    "send empty string (echoed)": (
        'await ws.send(""); throw new Error(JSON.stringify(await ws.recv()))',
        ["Error", '""'],
    ),
    "send lone surrogate (echoed)": (
        'await ws.send("a\\ud800b"); const r = await ws.recv(); throw new Error(JSON.stringify([...r].map((c) => c.codePointAt(0))))',
        ["Error", "[97,65533,98]"],
    ),
    "message over maxSize": (
        'const s = new WebSocketStream(url + "/echo", { pyodide, maxSize: 1000 }); await s.opened; await s.send("x".repeat(1001)); await s.recv()',
        [
            "PayloadTooBig",
            "connection closed: 1009 (message too big) 'message of 1001 bytes is over max_size=1000'",
        ],
    ),
    "close 999": (
        "await ws.close(999)",
        ["RangeError", "close code 999 is not allowed: use 1000 or 3000-4999"],
    ),
    "close 1000.5": (
        "await ws.close(1000.5)",
        ["TypeError", "the close code must be an integer, not 1000.5"],
    ),
    "close NaN": (
        "await ws.close(Number.NaN)",
        ["TypeError", "the close code must be an integer, not NaN"],
    ),
    "close reason 124 bytes": (
        'await ws.close(4000, "x".repeat(124))',
        ["RangeError", "the close reason is 124 bytes of UTF-8; at most 123 are allowed"],
    ),
    "close huge reason": (
        'await ws.close(4000, "x".repeat(1 << 20))',
        ["RangeError", "the close reason is 1048576 bytes of UTF-8; at most 123 are allowed"],
    ),
    "close info 1001": (
        "await ws.close({ closeCode: 1001 })",
        ["RangeError", "close code 1001 is not allowed: use 1000 or 3000-4999"],
    ),
    "close info unknown key": (
        "await ws.close({ code: 1000 })",
        ["TypeError", 'unknown close() option "code"'],
    ),
    "concurrent recv": (
        'const a = ws.recv(); try { await ws.recv(); } finally { await ws.send("x"); await a; }',
        [
            "ConcurrencyError",
            "recv() was called while another recv() is still waiting for a message: await the first call first",
        ],
    ),
    "send after close": (
        'const s = new WebSocketStream(url + "/echo", { pyodide }); await s.opened; await s.close(); await s.send("late")',
        ["ConnectionClosedOK", "connection closed: 1000 (normal closure)"],
    ),
    "recv after close": (
        'const s = new WebSocketStream(url + "/echo", { pyodide }); await s.opened; await s.close(); await s.recv()',
        ["ConnectionClosedOK", "connection closed: 1000 (normal closure)"],
    ),
    "send after a failed connect": (
        'const s = new WebSocketStream(refused, { pyodide }); await s.send("x")',
        _refused("ws://127.0.0.1:PORT/"),
    ),
    # Handshake headers: a page cannot send them (Node.js and Deno can: test_hosts.py).
    "headers: in a browser": (
        'await new WebSocketStream(url + "/echo", { pyodide, headers: { Authorization: "x" } }).opened',
        ["TypeError", HEADERS_REFUSED],
    ),
    "headers: not strings": (
        'new WebSocketStream(url, { pyodide, headers: { "X-A": 1 } })',
        [
            "TypeError",
            "headers must be an object of strings, [name, value] pairs of strings or a Headers, not Object",
        ],
    ),
    "headers: the WebSocket's own": (
        'await new WebSocketStream(url, { pyodide, headers: [["Host", "x"]] }).opened',
        ["RangeError", "additional_headers may not set Host: the WebSocket sets it itself"],
    ),
}

#: label -> (Python code that must raise, [exception type, message]).
PYTHON: dict[str, tuple[str, list[str]]] = {
    "url: ftp scheme": (
        'await connect("ftp://127.0.0.1/")',
        [
            "InvalidURI",
            "'ftp://127.0.0.1/' is not a WebSocket URL: the scheme must be ws://, wss://, http:// or https://, not ftp:",
        ],
    ),
    "url: no host": ('await connect("ws://")', ["InvalidURI", "'ws://' has no host"]),
    "url: credentials": (
        'ws2 = await connect(url.replace("ws://", "ws://user:pw@") + "/echo"); await ws2.close(); raise RuntimeError("opened with credentials")',
        ["RuntimeError", "opened with credentials"],
    ),
    "url: fragment": (
        'await connect(url + "/echo#frag")',
        [
            "InvalidURI",
            "'ws://127.0.0.1:PORT/echo#frag' has a #fragment, which WebSocket URLs may not have",
        ],
    ),
    "url: bad IPv6": (
        'await connect("ws://[::1/")',
        ["InvalidURI", "'ws://[::1/' is not a valid URL: Invalid IPv6 URL"],
    ),
    "url: IPv6 nobody listens": ("await connect(refused6)", _refused("ws://[::1]:PORT/")),
    "url: None": ("await connect(None)", ["InvalidURI", "the URL must be a str, not NoneType"]),
    "url: number": ("await connect(42)", ["InvalidURI", "the URL must be a str, not int"]),
    "open_timeout NaN": (
        'connect(url, open_timeout=float("nan"))',
        ["ValueError", "open_timeout must be a finite number >= 0, not nan"],
    ),
    "open_timeout -1": (
        "connect(url, open_timeout=-1)",
        ["ValueError", "open_timeout must be a finite number >= 0, not -1"],
    ),
    "open_timeout str": (
        'connect(url, open_timeout="10")',
        ["TypeError", "open_timeout must be a number of seconds or None, not str"],
    ),
    "open_timeout bool": (
        "connect(url, open_timeout=True)",
        ["TypeError", "open_timeout must be a number of seconds or None, not bool"],
    ),
    "close_timeout inf": (
        'connect(url, close_timeout=float("inf"))',
        ["ValueError", "close_timeout must be a finite number >= 0, not inf"],
    ),
    "max_size -1": ("connect(url, max_size=-1)", ["ValueError", "max_size must be >= 0, not -1"]),
    "max_size 1.5": (
        "connect(url, max_size=1.5)",
        ["TypeError", "max_size must be an int or None, not float"],
    ),
    "max_queue str": (
        'connect(url, max_queue="3")',
        ["TypeError", "max_queue must be an int or None, not str"],
    ),
    "on_overflow unknown": (
        'connect(url, on_overflow="drop-newest")',
        ["ValueError", "on_overflow must be one of ('close', 'drop-oldest'), not 'drop-newest'"],
    ),
    "heartbeat str": (
        'connect(url, heartbeat="ping")',
        ["TypeError", "heartbeat must be a Heartbeat or None, not str"],
    ),
    "Heartbeat interval 0": (
        "from websocket_streaming import Heartbeat; Heartbeat(0)",
        ["ValueError", "heartbeat interval must be > 0, not 0"],
    ),
    "Heartbeat interval NaN": (
        'from websocket_streaming import Heartbeat; Heartbeat(float("nan"))',
        ["ValueError", "heartbeat interval must be a finite number >= 0, not nan"],
    ),
    "idle_timeout 0": (
        "connect(url, idle_timeout=0)",
        ["ValueError", "idle_timeout must be > 0 (or None for no idle timeout)"],
    ),
    "min_delay -1": (
        "connect(url, reconnect=True, min_delay=-1)",
        ["ValueError", "min_delay must be a finite number >= 0, not -1"],
    ),
    "factor 0.5": (
        "connect(url, reconnect=True, factor=0.5)",
        ["ValueError", "factor must be at least 1, not 0.5"],
    ),
    "max_retries -1": (
        "connect(url, reconnect=True, max_retries=-1)",
        ["ValueError", "max_retries must be >= 0, not -1"],
    ),
    "send_queue -1": (
        "connect(url, reconnect=True, send_queue=-1)",
        ["ValueError", "send_queue must be >= 0, not -1"],
    ),
    "backend unknown": (
        'connect(url, backend="fast")',
        ["ValueError", "backend must be one of ('classic', 'native', 'auto') or None, not 'fast'"],
    ),
    "send None": (
        "await ws.send(None)",
        ["TypeError", "send() takes str, bytes, bytearray or memoryview, not NoneType"],
    ),
    "send int": (
        "await ws.send(42)",
        ["TypeError", "send() takes str, bytes, bytearray or memoryview, not int"],
    ),
    "send list": (
        'await ws.send(["a"])',
        ["TypeError", "send() takes str, bytes, bytearray or memoryview, not list"],
    ),
    "send empty str (echoed)": (
        'await ws.send(""); raise RuntimeError(repr(await ws.recv()))',
        ["RuntimeError", "''"],
    ),
    "send lone surrogate (echoed)": (
        'await ws.send("a\\ud800b"); raise RuntimeError(repr(await ws.recv()))',
        ["RuntimeError", "'a�b'"],
    ),
    "close 999": (
        "await ws.close(999)",
        ["InvalidCloseCode", "close code 999 is not allowed: use 1000 or 3000-4999"],
    ),
    "close str": (
        'await ws.close("1000")',
        ["InvalidCloseCode", "the close code must be an int, not str"],
    ),
    "close reason int": (
        "await ws.close(1000, 5)",
        ["InvalidCloseCode", "the close reason must be a str, not int"],
    ),
    "close reason 124 bytes": (
        'await ws.close(4000, "x" * 124)',
        ["InvalidCloseCode", "the close reason is 124 bytes of UTF-8; at most 123 are allowed"],
    ),
    "concurrent recv": (
        'import asyncio; a = asyncio.ensure_future(ws.recv()); await asyncio.sleep(0)\n    try:\n        await ws.recv()\n    finally:\n        await ws.send("x"); await a',
        [
            "ConcurrencyError",
            "cannot wait for a message while another coroutine is already waiting for one",
        ],
    ),
    "send after close": (
        'ws2 = await connect(url + "/echo"); await ws2.close(); await ws2.send("late")',
        ["ConnectionClosedOK", "connection closed: 1000 (normal closure)"],
    ),
    "recv after close": (
        'ws2 = await connect(url + "/echo"); await ws2.close(); await ws2.recv()',
        ["ConnectionClosedOK", "connection closed: 1000 (normal closure)"],
    ),
    "send after a failed connect": ("await connect(refused)", _refused("ws://127.0.0.1:PORT/")),
    "headers: in a browser": (
        'await connect(url + "/echo", additional_headers={"Authorization": "x"})',
        ["NotImplementedError", HEADERS_REFUSED],
    ),
}

# Each case: [label, code]; the code runs `await` on a call that must fail; what it
# rejected with ([name, message]) is returned per label.
FACADE_PROBE = r"""
async ({ url, refused, refused6, cases }) => {
  const { WebSocketStream } = await import("/websocket_streaming.js");
  const out = {};
  const ws = new WebSocketStream(url + "/echo", { pyodide });
  await ws.opened;
  for (const [label, code] of cases) {
    try {
      await (0, eval)(`(async (WebSocketStream, ws, url, refused, refused6, pyodide) => { ${code} })`)(
        WebSocketStream, ws, url, refused, refused6, pyodide);
      out[label] = ["no error", ""];
    } catch (e) {
      out[label] = [e.name, String(e.message)];
    }
  }
  await ws.send("still fine");
  out.health = await ws.recv();
  await ws.close();
  return out;
}
"""


def _normalised(out: dict[str, list[str]]) -> dict[str, list[str]]:
    """The results with this run's ports written as PORT (the servers' ports change)."""
    port = re.compile(r"(127\.0\.0\.1|\[::1\]):\d+")
    return {
        k: [v[0], port.sub(r"\1:PORT", v[1])] if isinstance(v, list) else v for k, v in out.items()
    }


def _refused6() -> str:
    """A ws:// URL on [::1] where nothing listens (a port just freed)."""
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        return f"ws://[::1]:{sock.getsockname()[1]}/"


def test_facade_refuses_bad_input_exactly(py, ws_url, refused_url):
    """Every bad call to the JS facade rejects with the error FACADE says, word for word, and
    the stream used for them still works afterwards."""
    cases = [[label, code] for label, (code, _) in FACADE.items()]
    args = {"url": ws_url, "refused": refused_url, "refused6": _refused6(), "cases": cases}
    out = _normalised(py.js(FACADE_PROBE, args))
    assert out.pop("health") == "still fine"
    expected = {label: list(error) for label, (_, error) in FACADE.items()}
    assert out == expected, json.dumps(
        {k: v for k, v in out.items() if v != expected[k]}, indent=1, ensure_ascii=False
    )


@run_in_pyodide
async def _python_probe(py, ws_url, refused, refused6, cases):
    from websocket_streaming import connect

    out = {}
    ws = await connect(ws_url + "/echo")
    for label, code in cases:
        namespace = {"ws": ws, "url": ws_url, "connect": connect}
        namespace |= {"refused": refused, "refused6": refused6}
        exec(f"async def _case():\n    {code}\n", namespace)
        try:
            await namespace["_case"]()
            out[label] = ["no error", ""]
        except Exception as exc:
            out[label] = [type(exc).__name__, str(exc)]
    await ws.send("still fine")
    out["health"] = await ws.recv()
    await ws.close()
    return out


def test_python_api_refuses_bad_input_exactly(py, ws_url, refused_url):
    """Every bad call to the Python API in the page raises the error PYTHON says, word for word,
    and the stream used for them still works afterwards."""
    cases = [[label, code] for label, (code, _) in PYTHON.items()]
    out = _python_probe(py, ws_url=ws_url, refused=refused_url, refused6=_refused6(), cases=cases)
    out = _normalised(out)
    assert out.pop("health") == "still fine"
    expected = {label: list(error) for label, (_, error) in PYTHON.items()}
    assert out == expected, json.dumps(
        {k: v for k, v in out.items() if v != expected[k]}, indent=1, ensure_ascii=False
    )
