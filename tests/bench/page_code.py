"""What the benchmark runs in the page: one JS or Python source per direction and variant.

Each source is timed in the page with ``performance.now()`` and returns ``{ms, count, bytes}``
(receive), ``{ms, reply}`` (send) or ``{ms, count}`` (round trip).  JS sources are async function
expressions given to ``Page.evaluate``; Python sources run through ``__bench.py`` (set up by
:data:`SETUP_JS`) with the JSON argument in ``ARG`` and set ``RESULT`` to a JSON string.
Variants: ``raw`` (the browser's WebSocket in JS), ``python`` (our Python API on the classic
backend), ``native`` (the same on the native backend, Chromium only), ``facade`` (our JS facade,
on the default backend) and ``naive`` (``create_proxy`` -> ``asyncio.Queue``, for reference).
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
  return true;
}
"""

_SIZE_JS = "(d) => typeof d === 'string' ? d.length : d.byteLength"

RAW_RECV_JS = f"""
async ({{url, n}}) => {{
  const size = {_SIZE_JS};
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => {{ ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); }});
  let count = 0, bytes = 0;
  const done = new Promise((ok) => {{
    ws.onmessage = (e) => {{ bytes += size(e.data); if (++count === n) ok(performance.now()); }};
  }});
  const closed = new Promise((ok) => {{ ws.onclose = ok; }});
  const t0 = performance.now();
  ws.send("go");
  const t1 = await done;
  ws.close();
  await closed;
  return {{ ms: t1 - t0, count, bytes }};
}}
"""

FACADE_RECV_JS = f"""
async ({{url, n}}) => {{
  const size = {_SIZE_JS};
  const ws = new __bench.facade.WebSocketStream(url, {{ pyodide }});
  await ws.opened;
  let count = 0, bytes = 0;
  const t0 = performance.now();
  await ws.send("go");
  while (count < n) {{ bytes += size(await ws.recv()); count++; }}
  const t1 = performance.now();
  await ws.close();
  return {{ ms: t1 - t0, count, bytes }};
}}
"""

PY_RECV = """
import json
import js
from websocket_streaming import connect

async def main(url, n, backend):
    ws = await connect(url, backend=backend)
    count = nbytes = 0
    t0 = js.performance.now()
    await ws.send("go")
    async for msg in ws:
        count += 1
        nbytes += len(msg)
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

async def main(url, n):
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
  const [t1, reply] = await done;
  ws.close();
  await closed;
  return { ms: t1 - t0, reply };
}
"""

FACADE_SEND_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new __bench.facade.WebSocketStream(url, { pyodide });
  await ws.opened;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await ws.send(msg);
  const reply = await ws.recv();
  const t1 = performance.now();
  await ws.close();
  return { ms: t1 - t0, reply };
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
    reply = await ws.recv()
    t1 = js.performance.now()
    await ws.close()
    return {"ms": t1 - t0, "reply": reply}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

RAW_RTT_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("ws error")); });
  let count = 0;
  const done = new Promise((ok) => {
    ws.onmessage = (e) => { if (++count === n) ok(performance.now()); else ws.send(msg); };
  });
  const closed = new Promise((ok) => { ws.onclose = ok; });
  const t0 = performance.now();
  ws.send(msg);
  const t1 = await done;
  ws.close();
  await closed;
  return { ms: t1 - t0, count };
}
"""

FACADE_RTT_JS = """
async ({url, n, size, binary}) => {
  const msg = binary ? new Uint8Array(size).fill(120) : "x".repeat(size);
  const ws = new __bench.facade.WebSocketStream(url, { pyodide });
  await ws.opened;
  let count = 0;
  const t0 = performance.now();
  for (; count < n; count++) { await ws.send(msg); await ws.recv(); }
  const t1 = performance.now();
  await ws.close();
  return { ms: t1 - t0, count };
}
"""

PY_RTT = """
import json
import js
from websocket_streaming import connect

async def main(url, n, size, binary, backend):
    msg = b"x" * size if binary else "x" * size
    ws = await connect(url, backend=backend)
    t0 = js.performance.now()
    for _ in range(n):
        await ws.send(msg)
        await ws.recv()
    t1 = js.performance.now()
    await ws.close()
    return {"ms": t1 - t0, "count": n}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

NAIVE_RTT = """
import asyncio
import json
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
    t0 = js.performance.now()
    for _ in range(n):
        ws.send(to_js(msg) if binary else msg)
        data = await queue.get()
        if not isinstance(data, str):
            data = data.to_bytes()
    t1 = js.performance.now()
    ws.close()
    await closed
    for handler in handlers:
        handler.destroy()
    return {"ms": t1 - t0, "count": n}

RESULT = json.dumps(await main(**json.loads(ARG)))
"""

PY_CALL_JS = "async ([code, arg]) => await __bench.py(code, arg)"

RECV_SOURCES = {
    "raw": RAW_RECV_JS,
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
}
