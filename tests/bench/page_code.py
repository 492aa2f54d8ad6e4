"""What the benchmark runs in the page: one JS or Python source per direction and variant.

Each source is timed in the page with ``performance.now()`` and returns ``{ms, count, bytes}``
(receive), ``{ms, reply, loop_us}`` (send; ``loop_us``: the send loop's own time per message,
before the server's reply) or ``{ms, count}`` (round trip).  JS sources are async function
expressions given to ``Page.evaluate``; Python sources run through ``__bench.py`` (set up by
:data:`SETUP_JS`) with the JSON argument in ``ARG`` and set ``RESULT`` to a JSON string.
Variants: ``raw`` (the browser's WebSocket in JS), ``python`` (our Python API on the classic
backend), ``native`` (the same on the native backend, Chromium only), ``facade`` (our JS facade,
on the default backend), ``naive`` (``create_proxy`` -> ``asyncio.Queue``, for reference),
``promise`` (a bare raw-JS reader that hands out one promise per message: what the facade's
``recv()`` is compared with) and ``batch`` (the facade's ``recvMany()``, when the facade has it).
:data:`STARTUP_JS` times a fresh page's import and first message; :data:`PY_MEMORY` counts
proxies and the Python heap around 100,000 messages each way; :data:`PY_SPLIT` times the
page's own work per received message with no network.
"""

from __future__ import annotations

SETUP_JS = """
async () => {
  await window.pyodideReady;
  window.__bench = {
    facade: await import("/websocket_streaming.js"),
    async py(code, arg) {
      const globals = pyodide.globals.get("dict")();
      try {
        globals.set("ARG", JSON.stringify(arg));
        await pyodide.runPythonAsync(code, { globals });
        return JSON.parse(globals.get("RESULT"));
      } finally {
        globals.destroy();
      }
    },
  };
  pyodide.runPython("import websocket_streaming.browser");  // imported before any timing
  const proto = window.__bench.facade.WebSocketStream.prototype;
  return { recvMany: typeof proto.recvMany === "function" };
}
"""

_SIZE_JS = "(d) => typeof d === 'string' ? d.length : d.byteLength"
#: Opens `ws`, a raw WebSocket to `url` (binaryType arraybuffer).
_RAW_OPEN_JS = """const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); });"""


def _raw_flood_js(reader: str) -> str:
    """Raw JS reading a flood of n messages (acking each one when ``ack``): `reader` defines
    ``read()``, which sets ``ws.onmessage`` at once and resolves once n messages are counted."""
    return f"""
async ({{url, n, ack}}) => {{
  const size = {_SIZE_JS};
  {_RAW_OPEN_JS}
  let count = 0, bytes = 0;
  {reader}
  const closed = new Promise((ok) => {{ ws.onclose = ok; }});
  const t0 = performance.now();
  ws.send("go");
  await read();
  const t1 = performance.now();
  ws.close();
  await closed;
  return {{ ms: t1 - t0, count, bytes }};
}}
"""


RAW_RECV_JS = _raw_flood_js(
    """const read = () => new Promise((ok) => {
    ws.onmessage = (e) => { bytes += size(e.data); if (ack) ws.send("a"); if (++count === n) ok(); };
  });"""
)

#: A bare promise-per-message reader: what the facade's recv() costs beyond it is its own.
PROMISE_RECV_JS = _raw_flood_js(
    """const read = async () => {
    let queue = [], head = 0, wake = null;
    ws.onmessage = (e) => {
      if (wake) { const w = wake; wake = null; w(e.data); } else queue.push(e.data);
    };
    const next = () => {
      if (head < queue.length) {
        const data = queue[head++];
        if (head === queue.length) { queue = []; head = 0; }
        return Promise.resolve(data);
      }
      return new Promise((ok) => { wake = ok; });
    };
    while (count < n) { bytes += size(await next()); if (ack) ws.send("a"); count++; }
  };"""
)


def _facade_recv_js(loop: str) -> str:
    """The facade reading a flood of n messages; `loop` reads them, adding to count and bytes
    (and acking each one when ``ack``)."""
    return f"""
async ({{url, n, ack}}) => {{
  const size = {_SIZE_JS};
  const ws = new __bench.facade.WebSocketStream(url, {{ pyodide, maxQueueBytes: null }});
  await ws.opened;
  let count = 0, bytes = 0;
  const t0 = performance.now();
  await ws.send("go");
  {loop}
  const t1 = performance.now();
  await ws.close();
  return {{ ms: t1 - t0, count, bytes }};
}}
"""


FACADE_RECV_JS = _facade_recv_js(
    'while (count < n) { bytes += size(await ws.recv()); if (ack) await ws.send("a"); count++; }'
)
#: The facade's batch read: every queued message in one array (no promise per message).
BATCH_RECV_JS = _facade_recv_js(
    "while (count < n) { for (const d of await ws.recvMany(n - count)) {"
    ' bytes += size(d); if (ack) await ws.send("a"); count++; } }'
)

PY_RECV = """
import json
import js
from websocket_streaming import connect

async def main(url, n, backend, ack=False):
    # Unbounded: a flood faster than the reader piles up more than the default 64 MiB of
    # 64 KiB messages (QueueOverflow), and the rate is what is measured here.
    ws = await connect(url, backend=backend, max_queue_bytes=None)
    count = nbytes = 0
    t0 = js.performance.now()
    await ws.send("go")
    async for msg in ws:
        count += 1
        nbytes += len(msg)
        if ack:
            await ws.send("a")
        if count == n:
            break
    t1 = js.performance.now()
    await ws.close()
    return {"ms": t1 - t0, "count": count, "bytes": nbytes}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

NAIVE_RECV = """
import asyncio
import json
import js
from pyodide.ffi import create_proxy

async def main(url, n, ack=False):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    opened, closed = loop.create_future(), loop.create_future()
    ws = js.WebSocket.new(url)
    ws.binaryType = "arraybuffer"
    handlers = [
        create_proxy(lambda e: opened.done() or opened.set_result(None)),
        create_proxy(lambda e: queue.put_nowait(e.data)),
        create_proxy(lambda e: closed.done() or closed.set_result(None)),
    ]
    ws.onopen, ws.onmessage, ws.onclose = handlers
    await opened
    nbytes = 0
    t0 = js.performance.now()
    ws.send("go")
    for _ in range(n):
        data = await queue.get()
        if not isinstance(data, str):
            data = data.to_bytes()
        nbytes += len(data)
        if ack:
            ws.send("a")
    t1 = js.performance.now()
    ws.close()
    await closed
    for handler in handlers:
        handler.destroy()
    return {"ms": t1 - t0, "count": n, "bytes": nbytes}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

RAW_SEND_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); });
  const done = new Promise((ok) => { ws.onmessage = (e) => ok([performance.now(), e.data]); });
  const closed = new Promise((ok) => { ws.onclose = ok; });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ws.send(msg);
  const loop_us = ((performance.now() - t0) * 1000) / n;
  const [t1, reply] = await done;
  ws.close();
  await closed;
  return { ms: t1 - t0, reply, loop_us };
}
"""

FACADE_SEND_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new __bench.facade.WebSocketStream(url, { pyodide });
  await ws.opened;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await ws.send(msg);
  const loop_us = ((performance.now() - t0) * 1000) / n;
  const reply = await ws.recv();
  const t1 = performance.now();
  await ws.close();
  return { ms: t1 - t0, reply, loop_us };
}
"""

PY_SEND = """
import json
import js
from websocket_streaming import connect

async def main(url, n, size, binary, backend):
    msg = b"x" * size if binary else "x" * size
    ws = await connect(url, backend=backend)
    t0 = js.performance.now()
    for _ in range(n):
        await ws.send(msg)
    loop_us = (js.performance.now() - t0) * 1000 / n
    reply = await ws.recv()
    t1 = js.performance.now()
    await ws.close()
    return {"ms": t1 - t0, "reply": reply, "loop_us": loop_us}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

RAW_RTT_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); });
  let count = 0;
  const trips = new Float64Array(n);
  let last = 0;
  const done = new Promise((ok) => {
    ws.onmessage = (e) => {
      const t = performance.now();
      trips[count] = t - last;
      last = t;
      if (++count === n) ok(t); else ws.send(msg);
    };
  });
  const closed = new Promise((ok) => { ws.onclose = ok; });
  const t0 = performance.now();
  last = t0;
  ws.send(msg);
  const t1 = await done;
  ws.close();
  await closed;
  return { ms: t1 - t0, count, p50_us: trips.sort()[n >> 1] * 1000 };
}
"""

#: The plain loop's raw JS: send, then await a promise the next message resolves (a user's
#: `await`-style loop, as the Python and facade variants are; RAW_RTT_JS sends from the handler).
RAW_PLAIN_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120).buffer : "x".repeat(size);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); });
  let next = null;
  ws.onmessage = (e) => { const got = next; next = null; got(e.data); };
  const closed = new Promise((ok) => { ws.onclose = ok; });
  const trips = new Float64Array(n);
  const t0 = performance.now();
  let last = t0;
  for (let i = 0; i < n; i++) {
    ws.send(msg);
    await new Promise((ok) => { next = ok; });
    const t = performance.now();
    trips[i] = t - last;
    last = t;
  }
  const t1 = performance.now();
  ws.close();
  await closed;
  return { ms: t1 - t0, count: n, p50_us: trips.sort()[n >> 1] * 1000 };
}
"""

FACADE_RTT_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new __bench.facade.WebSocketStream(url, { pyodide });
  await ws.opened;
  let count = 0;
  const trips = new Float64Array(n);
  const t0 = performance.now();
  let last = t0;
  for (; count < n; count++) {
    await ws.send(msg);
    await ws.recv();
    const t = performance.now();
    trips[count] = t - last;
    last = t;
  }
  const t1 = performance.now();
  await ws.close();
  return { ms: t1 - t0, count, p50_us: trips.sort()[n >> 1] * 1000 };
}
"""

PY_RTT = """
import json
from time import perf_counter
import js
from websocket_streaming import connect

def woken_inside():
    try:
        from websocket_streaming.waiter import woken_inside as count
    except ImportError:
        return 0
    return count()

async def main(url, n, size, binary, backend):
    msg = b"x" * size if binary else "x" * size
    ws = await connect(url, backend=backend)
    w0 = woken_inside()
    trips = [0.0] * n
    t0 = js.performance.now()
    last = perf_counter()
    for i in range(n):
        await ws.send(msg)
        await ws.recv()
        t = perf_counter()
        trips[i] = t - last
        last = t
    t1 = js.performance.now()
    woken = woken_inside() - w0
    await ws.close()
    p50 = sorted(trips)[n // 2] * 1e6
    return {"ms": t1 - t0, "count": n, "woken_inside": woken, "p50_us": p50}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

NAIVE_RTT = """
import asyncio
import json
from time import perf_counter
import js
from pyodide.ffi import create_proxy, to_js

async def main(url, n, size, binary):
    msg = b"x" * size if binary else "x" * size
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    opened, closed = loop.create_future(), loop.create_future()
    ws = js.WebSocket.new(url)
    ws.binaryType = "arraybuffer"
    handlers = [
        create_proxy(lambda e: opened.done() or opened.set_result(None)),
        create_proxy(lambda e: queue.put_nowait(e.data)),
        create_proxy(lambda e: closed.done() or closed.set_result(None)),
    ]
    ws.onopen, ws.onmessage, ws.onclose = handlers
    await opened
    trips = [0.0] * n
    t0 = js.performance.now()
    last = perf_counter()
    for i in range(n):
        ws.send(to_js(msg) if binary else msg)
        data = await queue.get()
        if not isinstance(data, str):
            data = data.to_bytes()
        t = perf_counter()
        trips[i] = t - last
        last = t
    t1 = js.performance.now()
    ws.close()
    await closed
    for handler in handlers:
        handler.destroy()
    return {"ms": t1 - t0, "count": n, "p50_us": sorted(trips)[n // 2] * 1e6}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

#: The round trip's floors, none of our connection's code: what any Python echo pays. The
#: handler echo is Pyodide's (a ``create_proxy`` ``onmessage`` reads the message, as bytes if
#: binary, and calls ``ws.send``: one call into Python and one back, no asyncio); the task echo adds an asyncio
#: task awaiting a :class:`~websocket_streaming.waiter.Waiter` woken inside the event (the
#: resumed task, as ``recv()`` resumes). Ours beyond the task floor is our receive and send path.
_PY_FLOOR = """
import asyncio
import json
from time import perf_counter
import js
from pyodide.ffi import create_proxy, to_js
from websocket_streaming.waiter import Waiter

async def main(url, n, size, binary):
    msg = b"x" * size if binary else "x" * size
    loop = asyncio.get_running_loop()
    opened, closed, done = loop.create_future(), loop.create_future(), loop.create_future()
    trips = [0.0] * n
    state = {"count": 0, "last": 0.0, "data": None, "waiter": None, "t1": 0.0}

    def on_message(event):
        state["data"] = event.data.to_bytes() if binary else event.data
        if TASK:
            state["waiter"].wake_now()
            return
        t = perf_counter()
        trips[state["count"]] = t - state["last"]
        state["last"] = t
        state["count"] += 1
        if state["count"] == n:
            state["t1"] = js.performance.now()
            done.set_result(None)
        else:
            ws.send(to_js(msg) if binary else msg)

    ws = js.WebSocket.new(url)
    ws.binaryType = "arraybuffer"
    handlers = [
        create_proxy(lambda e: opened.done() or opened.set_result(None)),
        create_proxy(on_message),
        create_proxy(lambda e: closed.done() or closed.set_result(None)),
    ]
    ws.onopen, ws.onmessage, ws.onclose = handlers
    await opened
    t0 = js.performance.now()
    state["last"] = perf_counter()
    if TASK:
        for i in range(n):
            state["waiter"] = waiter = Waiter(loop)
            ws.send(to_js(msg) if binary else msg)
            await waiter
            t = perf_counter()
            trips[i] = t - state["last"]
            state["last"] = t
        state["count"], state["t1"] = n, js.performance.now()
    else:
        ws.send(to_js(msg) if binary else msg)
        await done
    if state["data"] != msg:
        raise RuntimeError(f"echo: got {state['data']!r}")
    ws.close()
    await closed
    for handler in handlers:
        handler.destroy()
    p50 = sorted(trips)[n // 2] * 1e6
    return {"ms": state["t1"] - t0, "count": state["count"], "p50_us": p50}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""
PY_FLOOR_HANDLER = "TASK = False\n" + _PY_FLOOR
PY_FLOOR_TASK = "TASK = True\n" + _PY_FLOOR

#: The round trip split's stamps: ``performance.now()`` around every socket's ``onmessage``
#: handler and ``send()``, put on ``WebSocket.prototype`` (``on`` true) and taken off again
#: (false), so that raw JS, the floors and ours are timed by the same code.
TRIP_STAMPS_JS = """
(on) => {
  const P = WebSocket.prototype;
  const saved = globalThis.__trip;
  if (!on) {
    if (saved) { Object.defineProperty(P, "onmessage", saved.onmessage); P.send = saved.send; }
    globalThis.__trip = undefined;
    return;
  }
  const S = { ent: [], ext: [], s0: [], s1: [] };
  const onmessage = Object.getOwnPropertyDescriptor(P, "onmessage"), send = P.send;
  globalThis.__trip = { S, onmessage, send };
  const now = () => performance.now();
  Object.defineProperty(P, "onmessage", { configurable: true, enumerable: true, get: onmessage.get,
    set(fn) {
      onmessage.set.call(this, typeof fn !== "function" ? fn : (e) => {
        S.ent.push(now());
        try { return fn(e); } finally { S.ext.push(now()); }
      });
    } });
  P.send = function (data) {
    S.s0.push(now());
    try { return send.call(this, data); } finally { S.s1.push(now()); }
  };
}
"""

#: The stamps of the last run read as medians, in us, of each trip's parts, and cleared: from
#: the message event to the reply's ``send()``, the ``send()``, the handler's time after it,
#: the wait from the later of the two to the next event, and the whole trip. Trip k's reply is
#: send k + 1 (the first send precedes every event); raw JS's comes after its handler, in the
#: promise's continuation (no time after the send in the handler, then). The first and last
#: 20 trips are left out.
TRIP_READ_JS = """
() => {
  const S = globalThis.__trip.S;
  const n = Math.min(S.ent.length, S.s0.length - 1);
  const med = (f) => {
    const xs = [];
    for (let k = 20; k < n - 20; k++) xs.push(f(k) * 1000);
    xs.sort((a, b) => a - b);
    return xs[xs.length >> 1];
  };
  const out = {
    trips: n,
    to_send: med((k) => S.s0[k + 1] - S.ent[k]),
    send: med((k) => S.s1[k + 1] - S.s0[k + 1]),
    after_send: med((k) => Math.max(0, S.ext[k] - S.s1[k + 1])),
    wait: med((k) => S.ent[k + 1] - Math.max(S.ext[k], S.s1[k + 1])),
    trip: med((k) => S.ent[k + 1] - S.ent[k]),
  };
  for (const key in S) S[key].length = 0;
  return out;
}
"""

PY_CALL_JS = "async ([code, arg]) => await __bench.py(code, arg)"

#: The plain loop (`await send(m); await recv()`, 1 B text) against the `websockets` server.
PLAIN_SOURCES = {
    "raw": RAW_PLAIN_JS,
    "python": PY_RTT,
    "facade": FACADE_RTT_JS,
    "handler": PY_FLOOR_HANDLER,
    "task": PY_FLOOR_TASK,
}

RECV_SOURCES = {
    "raw": RAW_RECV_JS,
    "promise": PROMISE_RECV_JS,
    "batch": BATCH_RECV_JS,
    "python": PY_RECV,
    "native": PY_RECV,
    "facade": FACADE_RECV_JS,
    "naive": NAIVE_RECV,
}
SEND_SOURCES = {"raw": RAW_SEND_JS, "python": PY_SEND, "native": PY_SEND, "facade": FACADE_SEND_JS}
RTT_SOURCES = {
    "raw": RAW_RTT_JS,
    "python": PY_RTT,
    "native": PY_RTT,
    "facade": FACADE_RTT_JS,
    "naive": NAIVE_RTT,
    "handler": PY_FLOOR_HANDLER,
    "task": PY_FLOOR_TASK,
}

#: With ``profile`` (in STARTUP_JS), each module's own import time (its exec_module, less the
#: modules it imported meanwhile), by a finder wrapping the others' loaders: where the import
#: goes; and ``packaging`` (another pure-Python wheel of the lock) is loaded before ours, so
#: that our ``loadPackage`` is timed after Pyodide's first-call setup.
IMPORT_PROFILE = """
import json, sys, time
from importlib.abc import MetaPathFinder

_times, _stack = {}, []

class _Timed:
    def __init__(self, loader):
        self.loader = loader
    def __getattr__(self, name):
        return getattr(self.loader, name)
    def create_module(self, spec):
        return self.loader.create_module(spec)
    def exec_module(self, module):
        _stack.append(0.0)
        t = time.perf_counter()
        try:
            self.loader.exec_module(module)
        finally:
            total = time.perf_counter() - t
            children = _stack.pop()
            _times[module.__name__] = (total - children) * 1000
            if _stack:
                _stack[-1] += total

class _Finder(MetaPathFinder):
    def find_spec(self, name, path, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Timed(spec.loader)
                return spec
        return None

sys.meta_path.insert(0, _Finder())

def __import_profile_result():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]
    compile_ms = 0.0  # our wheel ships sources only: how much of our time is compiling them
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if name.split(".")[0] == "websocket_streaming" and path.endswith(".py"):
            with open(path, encoding="utf-8") as f:
                source = f.read()
            t = time.perf_counter()
            compile(source, path, "exec")
            compile_ms += (time.perf_counter() - t) * 1000
    return json.dumps({"times": _times, "compile_ms": compile_ms})
"""

#: A fresh page (tests/blank.html): Pyodide's own load, then our part: ``loadPackage`` of our
#: wheel + ``import websocket_streaming`` ("import"), then ``connect()`` to the local echo
#: server, one send and the first message received ("first"), with the Python API.
STARTUP_JS = """
async ({ ws, profile }) => {
  const { loadPyodide } = await import("/pyodide/pyodide.mjs");
  const t0 = performance.now();
  const pyodide = await loadPyodide({ indexURL: "/pyodide/" });
  // Pyodide's first loadPackage sets itself up (any wheel pays it): pay that on another wheel.
  const tb = performance.now();
  await pyodide.loadPackage("packaging");
  const other = performance.now() - tb;
  const t1 = performance.now();
  await pyodide.loadPackage("websocket-streaming");
  const tp = performance.now();
  let modules = null;
  if (profile) pyodide.runPython(IMPORT_PROFILE);
  await pyodide.runPythonAsync("import websocket_streaming");
  const ti = performance.now();
  // The same first message from raw JS: what the browser's own connect costs.
  const tr = performance.now();
  await new Promise((ok, fail) => {
    const raw = new WebSocket(ws + "/echo");
    raw.onopen = () => raw.send("first");
    raw.onmessage = () => { raw.close(); ok(); };
    raw.onerror = () => fail(new Error("raw WebSocket error"));
  });
  const rawFirst = performance.now() - tr;
  const t2 = performance.now();
  const globals = pyodide.globals.get("dict")();
  globals.set("URL", ws + "/echo");
  const echo = await pyodide.runPythonAsync(`
from websocket_streaming import connect
ws = await connect(URL)
await ws.send("first")
await ws.recv()
`, { globals });
  const t3 = performance.now();
  // Modules imported by the import, then by connect() (browser.py and what it imports).
  if (profile) modules = JSON.parse(pyodide.runPython("__import_profile_result()"));
  await pyodide.runPythonAsync("await ws.close()", { globals });
  globals.destroy();
  return {
    pyodide: t1 - t0 - other, setup: other, import: ti - t1, load_package: tp - t1,
    first: t3 - t2, raw_first: rawFirst, echo, modules, other,
  };
}
""".replace("IMPORT_PROFILE", "`" + IMPORT_PROFILE + "`")

#: Live PyProxies (``pyproxy_alloc_map``, with Pyodide's allocation tracing on: Pyodide has no
#: public count, as in tests/test_leaks.py), JS objects held by Python (``hiwire.num_keys()``,
#: every JsProxy among them), Python objects and tracemalloc's traced bytes, before and after
#: n messages received (half text, half binary, 16 B, from the flood server) and n sent
#: (alternately str and bytes, to the sink), each way on its own connection. Short open/close
#: timeouts and a wait past them before counting: Pyodide's loop keeps a cancelled timer's
#: Handle (and its setTimeout proxy) until its deadline.
PY_MEMORY = """
import asyncio
import gc
import json
import tracemalloc

import js
from pyodide_js import _module
from websocket_streaming import connect

TIMERS = 0.5

async def receive(base, n, binary):
    url = f"{base}/flood?n={n}&size=16" + ("&binary" if binary else "")
    ws = await connect(url, open_timeout=TIMERS, close_timeout=TIMERS)
    await ws.send("go")
    count = nbytes = 0
    async for msg in ws:
        count += 1
        nbytes += len(msg)
        if count == n:
            break
    await ws.close()
    assert (count, nbytes) == (n, 16 * n), (count, nbytes)

async def send(base, n):
    ws = await connect(f"{base}/sink?n={n}", open_timeout=TIMERS, close_timeout=TIMERS)
    text, data = "x" * 16, b"x" * 16
    for i in range(n):
        await ws.send(data if i & 1 else text)
    reply = await ws.recv()
    await ws.close()
    assert reply == f"done {n} {16 * n}", reply

async def cycle(base, n):
    await receive(base, n // 2, False)
    await receive(base, n - n // 2, True)
    await send(base, n)

def counts():
    gc.collect()
    return {
        "pyproxies": _module.pyproxy_alloc_map.size,
        "jsrefs": _module.hiwire.num_keys(),
        "objects": len(gc.get_objects()),
        "heap": tracemalloc.get_traced_memory()[0],
    }

async def main(url, n):
    await cycle(url, 1000)  # warm up: one-time helpers, caches
    await asyncio.sleep(TIMERS + 0.1)
    tracemalloc.start()
    _module.enable_pyproxy_allocation_tracing()
    try:
        before = counts()
        t0 = js.performance.now()
        await cycle(url, n)
        ms = js.performance.now() - t0
        await asyncio.sleep(TIMERS + 0.1)
        after = counts()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        _module.disable_pyproxy_allocation_tracing()
        tracemalloc.stop()
    return {"n": n, "ms": ms, "before": before, "after": after, "peak": peak}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

#: Where a received message's time goes, with no network: message events made in the page
#: and given straight to the socket's own ``onmessage`` (ours) or to a raw JS counter, so
#: that what is timed is the page's own work per message, free of the server's pace and of
#: the other processes' share of the 2 CPUs. "burst": n events in one task, then Python
#: reads them all (a flood the reader does not keep up with); "paced": each event in its
#: own task (a MessageChannel message) while Python's reader waits (a reader that keeps up:
#: one wake-up per message). Returns per-message microseconds per rep.
PY_SPLIT = """
import asyncio
import json

import js
from pyodide.code import run_js
from websocket_streaming import connect

EVENTS = run_js('''({
  counter() {
    let bytes = 0;
    return (e) => { bytes += typeof e.data === "string" ? e.data.length : e.data.byteLength; };
  },
  burst(on, n, data) {
    for (let i = 0; i < n; i++) on({ data });
  },
  paced(on, n, data) {
    const channel = new MessageChannel();
    return new Promise((ok) => {
      let i = 0;
      channel.port1.onmessage = () => {
        on({ data });
        if (++i < n) return channel.port2.postMessage(0);
        channel.port1.close();
        ok();
      };
      channel.port2.postMessage(0);
    });
  },
})''')

async def main(url, size, binary, n_burst, n_paced, reps):
    data = js.ArrayBuffer.new(size) if binary else "x" * size
    ws = await connect(url)  # an echo server: nothing comes but what we make here
    ours, raw = ws._transport._ws.onmessage, EVENTS.counter()
    now = js.performance.now
    out = {"burst": {"raw": [], "python": []}, "paced": {"raw": [], "python": []}}

    async def read(n):
        for _ in range(n):
            await ws.recv()

    for _ in range(reps):
        n = n_burst
        t0 = now()
        EVENTS.burst(raw, n, data)
        out["burst"]["raw"].append((now() - t0) * 1000 / n)
        t0 = now()
        EVENTS.burst(ours, n, data)
        await read(n)
        out["burst"]["python"].append((now() - t0) * 1000 / n)
        n = n_paced
        t0 = now()
        await EVENTS.paced(raw, n, data)
        out["paced"]["raw"].append((now() - t0) * 1000 / n)
        reader = asyncio.ensure_future(read(n))  # waits from its first step on: at worst
        t0 = now()  # the first of the n events comes before it, and is read without a wake
        await EVENTS.paced(ours, n, data)
        await reader
        out["paced"]["python"].append((now() - t0) * 1000 / n)
    await ws.close()
    return out

RESULT = json.dumps(await main(**json.loads(ARG)))
"""
