"""The ES module facade (js/websocket_streaming.js) in a real browser, in every engine.

Each test is a JS function run in the shared page, which imports the module
from the built dist/ and reuses the page's Pyodide.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import ROOT, PyodidePage
from servers import WebSocketServer

# Prepended to every test: imports the module and a few helpers.
PRELUDE = """
const M = await import("/websocket_streaming.js");
const open = async (url, options = {}) => {
  const ws = new M.WebSocketStream(url, { pyodide, ...options });
  await ws.opened;
  return ws;
};
const fails = async (promise) => {
  try { await promise; } catch (e) {
    return { name: e.name, message: String(e.message), code: e.code, reason: e.reason,
             isError: e instanceof Error, ctor: e.constructor.name };
  }
  return null;
};
"""


def run_js(py: PyodidePage, body: str, arg: object = None) -> object:
    return py.js(f"async (arg) => {{ {PRELUDE}\n{body} }}", arg)


def test_text_and_binary_round_trips(py, ws_url):
    """Strings and every binary view round-trip; binary comes back as an ArrayBuffer, 0 B to 16 MiB."""
    out = run_js(
        py,
        """
        const ws = await open(arg + "/echo");
        const out = { text: [], sizes: [] };
        for (const s of ["hello", "", "héllo 日本 🎉"]) { await ws.send(s); out.text.push(await ws.recv()); }
        for (const size of [0, 1, 1000, 65536, 16 << 20]) {
          const data = new Uint8Array(size);
          for (let i = 0; i < size; i += 997) data[i] = (i * 7) & 255;
          await ws.send(data.buffer);
          const got = await ws.recv();
          let same = got instanceof ArrayBuffer && got.byteLength === size;
          const view = new Uint8Array(got);
          for (let i = 0; same && i < size; i += 997) same = view[i] === ((i * 7) & 255);
          out.sizes.push([size, same]);
        }
        const bytes = new Uint8Array([9, 8, 7, 6, 5]);
        await ws.send(bytes.subarray(1, 4));                  // only the view's bytes
        out.sub = Array.from(new Uint8Array(await ws.recv()));
        await ws.send(new DataView(bytes.buffer, 2, 2));
        out.dv = Array.from(new Uint8Array(await ws.recv()));
        await ws.send(new Float32Array([1.5]));
        out.f32 = new Float32Array(await ws.recv())[0];
        await ws.close();
        return out;
        """,
        ws_url,
    )
    assert out["text"] == ["hello", "", "héllo 日本 🎉"]
    assert out["sizes"] == [[0, True], [1, True], [1000, True], [65536, True], [16 << 20, True]]
    assert out["sub"] == [8, 7, 6] and out["dv"] == [7, 6] and out["f32"] == 1.5


def test_ten_thousand_ordered_messages_and_async_iteration(py, ws_url):
    """10,000 messages arrive in order; for await ends quietly on a normal close; a backlog
    of 5,000 stays readable after the close."""
    out = run_js(
        py,
        """
        let ws = await open(arg + "/send?n=10000&size=6");
        let ok = true;
        for (let i = 0; i < 10000; i++) ok = ok && (await ws.recv()) === String(i).padEnd(6, ".");
        await ws.close();
        ws = await open(arg + "/close?n=100&code=1000&reason=done");
        const seen = [];
        for await (const msg of ws) seen.push(msg);
        // A backlog of 5,000 read after the close: all there, in order, then the close.
        const late = await open(arg + "/close?n=5000&code=1000");
        await late.closed;
        let backlog = true;
        for (let i = 0; i < 5000; i++) backlog = backlog && (await late.recv()) === String(i);
        const end = await fails(late.recv());
        return { ok, seen: seen.length, last: seen[99], closed: await ws.closed, backlog, end: end.name };
        """,
        ws_url,
    )
    assert out == {
        "ok": True,
        "seen": 100,
        "last": "99",
        "closed": {"code": 1000, "closeCode": 1000, "reason": "done"},
        "backlog": True,
        "end": "ConnectionClosedOK",
    }


def test_batch_reads(py, ws_url):
    """recvMany() returns every queued message in one array, in order, at most `max`; waits
    when none is queued; batches() yields arrays until a clean close ends it; bad `max`
    values are refused exactly."""
    out = run_js(
        py,
        """
        const ws = await open(arg + "/close?n=3000&code=1000");
        await ws.closed;  // all 3,000 are queued now
        const first = await ws.recvMany(10);
        const rest = [];
        for await (const batch of ws.batches()) rest.push(...batch);
        const got = [...first, ...rest];
        let ordered = got.length === 3000;
        for (let i = 0; i < got.length; i++) ordered = ordered && got[i] === String(i);
        const end = await fails(ws.recvMany());
        const echo = await open(arg + "/echo");
        const waiting = echo.recvMany();  // nothing queued: waits for the next message
        await echo.send("late");
        const late = await waiting;
        const bad = [];
        for (const max of ["3", 0, -1, 1.5, Number.NaN]) {
          const e = await fails(echo.recvMany(max));
          bad.push([e.name, e.message]);
        }
        await echo.close();
        return { first: first.length, ordered, end: end.name, late, bad };
        """,
        ws_url,
    )
    assert out["first"] == 10 and out["ordered"] is True and out["end"] == "ConnectionClosedOK"
    assert out["late"] == ["late"]
    assert out["bad"] == [
        ["TypeError", "max must be a number, not string"],
        ["RangeError", "max must be a whole number >= 1 or Infinity, not 0"],
        ["RangeError", "max must be a whole number >= 1 or Infinity, not -1"],
        ["RangeError", "max must be a whole number >= 1 or Infinity, not 1.5"],
        ["RangeError", "max must be a whole number >= 1 or Infinity, not NaN"],
    ]


def test_opened_and_closed_promises(py, ws_url):
    """opened gives the subprotocol; closed resolves after a closing handshake, rejects on 1006."""
    out = run_js(
        py,
        """
        const chat = await open(arg + "/chat", { protocols: ["chat"] });
        const opened = await chat.opened;
        await chat.close(1000, "bye");
        const clean = await chat.closed;
        const c4001 = new M.WebSocketStream(arg + "/close?n=2&code=4001&reason=nope", { pyodide });
        const server = await c4001.closed;
        const kept = [await c4001.recv(), await c4001.recv()];   // read after the close: nothing lost
        const after = await fails(c4001.recv());
        const dropped = new M.WebSocketStream(arg + "/drop?n=1", { pyodide });
        const drop = await fails(dropped.closed);
        return { opened, clean, server, kept, after, drop, state: chat.readyState };
        """,
        ws_url,
    )
    assert out["opened"]["protocol"] == "chat"
    assert out["clean"] == {"code": 1000, "closeCode": 1000, "reason": "bye"}
    assert out["server"] == {"code": 4001, "closeCode": 4001, "reason": "nope"}
    assert out["kept"] == ["0", "1"]
    assert out["after"]["ctor"] == "ConnectionClosedError" and out["after"]["code"] == 4001
    assert out["drop"]["ctor"] == "ConnectionClosedError" and out["drop"]["code"] == 1006
    assert out["state"] == 3


def test_close_codes_reach_the_server(py, ws_server: WebSocketServer, engine):
    """close(4000, reason) from JS reaches the server with that code and reason."""
    out = run_js(
        py,
        """
        const ws = await open(arg);
        await ws.close(4000, "js bye ✓");
        await ws.close();   // twice is harmless
        return await ws.closed;
        """,
        f"{ws_server.url}/echo?id=facade-{engine}",
    )
    assert out == {"code": 4000, "closeCode": 4000, "reason": "js bye ✓"}
    assert ws_server.close_received(f"facade-{engine}") == (4000, "js bye ✓")


def test_connection_failures(py, ws_url, refused_url):
    """A refused connection or rejected handshake rejects opened with ConnectionFailed; bad URLs are TypeErrors."""
    out = run_js(
        py,
        """
        const refused = await fails(new M.WebSocketStream(arg.refused, { pyodide }).opened);
        const rejected = await fails(new M.WebSocketStream(arg.ws + "/reject", { pyodide }).opened);
        const scheme = await fails(new M.WebSocketStream("ftp://127.0.0.1/", { pyodide }).opened);
        let ctor = null;
        try { new M.WebSocketStream(42); } catch (e) { ctor = [e.name, e.message]; }
        const protocols = await fails((async () => new M.WebSocketStream(arg.ws, { protocols: [1] }))());
        return { refused, rejected, scheme, ctor, protocols };
        """,
        {"refused": refused_url, "ws": ws_url},
    )
    for key in ("refused", "rejected"):
        assert out[key]["ctor"] == "ConnectionFailed", out[key]
        assert "Traceback" not in out[key]["message"]
    assert out["scheme"]["name"] == "TypeError" and "ws://" in out["scheme"]["message"]
    assert out["ctor"][0] == "TypeError" and "number" in out["ctor"][1]
    assert out["protocols"]["name"] == "TypeError"


def test_bad_arguments(py, ws_url):
    """Bad send and close arguments reject with a TypeError or RangeError saying what was wrong."""
    out = run_js(
        py,
        """
        const ws = await open(arg + "/echo");
        const r = {};
        r.number = await fails(ws.send(42));
        r.object = await fails(ws.send({ a: 1 }));
        r.nul = await fails(ws.send(null));
        const stream = new ReadableStream({ start(c) { c.close(); } });
        r.stream = await fails(ws.send(stream));
        r.code = await fails(ws.close(1001));
        r.codeType = await fails(ws.close("1000"));
        r.reason = await fails(ws.close(4000, "x".repeat(124)));
        r.reasonUtf8 = await fails(ws.close(4000, "é".repeat(62)));
        r.reasonType = await fails(ws.close(4000, 5));
        await ws.send("still open");
        r.stillOpen = await ws.recv();
        await ws.close(1000, "x".repeat(123));
        r.closedSend = await fails(ws.send("late"));
        return r;
        """,
        ws_url,
    )
    for key, what in [
        ("number", "number"),
        ("object", "Object"),
        ("nul", "null"),
        ("stream", "ReadableStream"),
    ]:
        assert out[key]["name"] == "TypeError" and what in out[key]["message"], (key, out[key])
    assert out["code"]["name"] == "RangeError" and "1001" in out["code"]["message"]
    assert out["codeType"]["name"] == "TypeError"
    assert out["reason"]["name"] == "RangeError" and "124 bytes" in out["reason"]["message"]
    assert out["reasonUtf8"]["name"] == "RangeError" and "124 bytes" in out["reasonUtf8"]["message"]
    assert out["reasonType"]["name"] == "TypeError"
    assert out["stillOpen"] == "still open"
    assert out["closedSend"]["name"] == "ConnectionClosedOK" and out["closedSend"]["code"] == 1000


def test_two_streams_and_concurrent_recv(py, ws_url):
    """Two streams share one Pyodide independently; a second concurrent recv() is a ConcurrencyError."""
    out = run_js(
        py,
        """
        const [a, b] = await Promise.all([open(arg + "/echo"), open(arg + "/echo")]);
        const waiting = a.recv();
        const second = await fails(a.recv());
        const many = await fails(a.recvMany());
        await b.send("to b"); await a.send("to a");
        const got = [await waiting, await b.recv()];
        const batch = b.recvMany();  // a batch reader waits: recv() is refused too
        const single = await fails(b.recv());
        await b.send("again");
        got.push(await batch);
        await Promise.all([a.close(), b.close()]);
        return { second, many, single, got };
        """,
        ws_url,
    )
    assert out["second"]["ctor"] == "ConcurrencyError"
    assert out["many"]["ctor"] == "ConcurrencyError"
    assert out["single"]["ctor"] == "ConcurrencyError"
    assert out["got"] == ["to a", "to b", ["again"]]


def test_live_flood_read_by_recv_and_recv_many(py, ws_url):
    """A flood read while it arrives, recv() and recvMany(max) taking turns (each woken by
    the message event, or a timer later during a burst): every message once, in order,
    no batch over its max, then the clean close."""
    out = run_js(
        py,
        """
        const ws = await open(arg + "/close?n=20000&code=1000");
        const got = [];
        let tooBig = 0, calls = 0;
        try {
          while (true) {
            calls++;
            if (calls % 3 === 0) got.push(await ws.recv());
            else {
              const max = calls % 3 === 1 ? 7 : Infinity;
              const batch = await ws.recvMany(max);
              if (batch.length > max || batch.length === 0) tooBig++;
              got.push(...batch);
            }
          }
        } catch (e) {
          var end = e.name;
        }
        let ordered = got.length === 20000;
        for (let i = 0; i < got.length && ordered; i++) ordered = got[i] === String(i);
        return { n: got.length, ordered, tooBig, end };
        """,
        ws_url,
    )
    assert out["n"] == 20000 and out["ordered"] is True and out["tooBig"] == 0
    assert out["end"] == "ConnectionClosedOK"


def test_no_leak_over_200_streams(py, ws_url):
    """200 open/send/recv/close cycles leave Pyodide's proxy and reference counts unchanged."""
    out = run_js(
        py,
        """
        const m = pyodide._module;
        const cycle = async (n) => {
          for (let i = 0; i < n; i++) {
            const ws = await open(arg + "/echo");
            await ws.send(new Uint8Array([i & 255]).buffer);
            await ws.recv();
            await ws.close();
          }
        };
        const gc = pyodide.runPython("import gc; gc.collect");
        await cycle(5);
        gc();
        m.enable_pyproxy_allocation_tracing();
        try {
          const before = [m.pyproxy_alloc_map.size, m.hiwire.num_keys()];
          await cycle(200);
          gc();
          return { before, after: [m.pyproxy_alloc_map.size, m.hiwire.num_keys()] };
        } finally {
          m.disable_pyproxy_allocation_tracing();
          gc.destroy();
        }
        """,
        ws_url,
    )
    assert out["after"] == out["before"], out


def test_loads_pyodide_once_per_page(browser, static_server, ws_url):
    """Without a Pyodide instance the module loads one from dist/, once however many streams open."""
    page = browser.new_page(static_server.url + "/tests/blank.html")
    try:
        out = page.evaluate(
            """async (url) => {
              const M = await import("/websocket_streaming.js");
              const streams = [new M.WebSocketStream(url), new M.WebSocketStream(url)];
              await Promise.all(streams.map((s) => s.opened));
              await streams[0].send("one");
              const got = await streams[0].recv();
              await Promise.all(streams.map((s) => s.close()));
              const third = new M.WebSocketStream(url);
              await third.opened;
              await third.close();
              const wasm = performance.getEntriesByType("resource")
                .filter((e) => e.name.endsWith("pyodide.asm.wasm")).length;
              return { got, wasm };
            }""",
            ws_url + "/echo",
            timeout=180,
        )
    finally:
        page.close()
    assert out == {"got": "one", "wasm": 1}


def test_types_check_with_tsc():
    """tests/types/usage.ts type-checks against websocket_streaming.d.ts with tsc --strict: its
    right calls pass, and each wrong call marked @ts-expect-error is an error (else tsc fails on
    the unused directive). The same command runs in ./build.sh check."""
    tsc = ROOT / "build" / "node" / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        pytest.fail(
            "tsc is not installed: run ./build.sh check (it installs typescript into build/node/)"
        )
    build = (ROOT / "build.sh").read_text()
    args = build.split("TSC_ARGS=(", 1)[1].split(")", 1)[0].split()
    assert args[-1] == "tests/types/usage.ts", args
    run = subprocess.run([str(tsc), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    usage = (ROOT / "tests" / "types" / "usage.ts").read_text()
    assert usage.count("@ts-expect-error") >= 10
    assert 'new ConnectionClosedOK("m");' in usage
