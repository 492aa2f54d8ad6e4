"""The JS facade's reconnection, events, limits and heartbeat, in a real browser, in every engine.

Each test is a JS function run in the shared page against the real `websockets`
test server (tests/servers.py); the logic under test is the Python core's,
reached through facade.py. Tests wait on events, not on sleeps.
"""

from __future__ import annotations

from test_facade import run_js

# Records a stream's events as [type, attempt, delay, code, reason, errorName, flushed],
# and resolves `events.next(type)` on the next event of that type.
EVENTS = """
const record = (ws) => {
  const log = [];
  const waiters = [];
  for (const type of ["connecting", "open", "reconnecting", "close"]) {
    ws.addEventListener(type, (e) => {
      log.push([e.type, e.attempt, e.delay, e.code, e.reason, e.error?.name ?? null, e.flushed,
                e instanceof M.WebSocketStreamEvent]);
      for (const w of waiters.splice(0)) if (!w.test(e)) waiters.push(w); else w.resolve(e);
    });
  }
  const next = (test) => new Promise((resolve) => waiters.push({ test, resolve }));
  return { log, next };
};
const within = (promise, seconds, what) => Promise.race([promise, new Promise((_, reject) =>
  setTimeout(() => reject(new Error(`timed out after ${seconds} s waiting for ${what}`)), seconds * 1000))]);
"""


def run(py, body: str, arg: object = None) -> object:
    return run_js(py, EVENTS + body, arg)


def test_reconnects_after_a_drop(py, ws_server, engine):
    """A drop without a close frame: messages before it are all read in order, sends made
    while down go out once each, in order, after the onConnect hook's; events in order."""
    stream_id = f"flaky-{engine}"
    out = run(
        py,
        """
        const ws = new M.WebSocketStream(arg, {
          pyodide, reconnect: { minDelay: 0.05, maxDelay: 0.2 },
          onConnect: async (conn) => { await conn.send("hello"); },
        });
        const events = record(ws);
        const down = events.next((e) => e.type === "reconnecting");
        const reopened = events.next((e) => e.type === "open" && e.flushed > 0);
        await within(ws.opened, 10, "opened");
        await within(down, 10, "reconnecting");
        const queued = [];
        for (const m of ["a", "b", "c"]) queued.push(await ws.send(m));   // down: queued
        const unsentWhileDown = ws.unsent;
        await within(reopened, 10, "the second open");
        const live = await ws.send("d");                                   // up: sent now
        const got = [];
        for (let i = 0; i < 5 + 5; i++) got.push(await within(ws.recv(), 10, `message ${i}`));
        await ws.close();
        const end = [];
        for await (const m of ws) end.push(m);                             // ends quietly
        return { queued, unsentWhileDown, live, got, end, log: events.log, closed: await ws.closed,
                 readyState: ws.readyState, unsent: ws.unsent, attempt: ws.attempt };
        """,
        f"{ws_server.url}/flaky?id={stream_id}&n=5",
    )
    assert out["queued"] == [False, False, False] and out["unsentWhileDown"] == 3
    assert out["live"] is True
    assert out["got"] == ["0", "1", "2", "3", "4", "hello", "a", "b", "c", "d"]
    assert out["end"] == []
    assert ws_server.received(stream_id) == ["hello", "a", "b", "c", "d"]
    types = [e[0] for e in out["log"]]
    assert types == ["connecting", "open", "reconnecting", "connecting", "open", "close"], types
    connecting, first, reconnecting, again, second, close = out["log"]
    assert connecting[1] == 1 and first[6] == 0
    assert reconnecting[1] == 1 and 0.025 <= reconnecting[2] <= 0.075  # minDelay x [0.5, 1.5)
    assert reconnecting[3] == 1006 and reconnecting[5] == "ConnectionClosedError"
    assert again[1] == 1 and second[6] == 3
    assert close[5] == "ConnectionClosedOK" and close[3] == 1000
    assert all(e[7] for e in out["log"])
    assert out["closed"] == {"code": 1000, "closeCode": 1000, "reason": ""}
    assert out["readyState"] == 3 and out["unsent"] == 0 and out["attempt"] == 0


def test_gives_up_after_max_retries(py, refused_url):
    """maxRetries: 2 against a refused port: opened and recv() reject ReconnectFailed after
    three attempts and the backoff between them; a full send queue rejects SendQueueFull."""
    out = run(
        py,
        """
        const started = performance.now();
        const ws = new M.WebSocketStream(arg, {
          pyodide, reconnect: { minDelay: 0.05, maxDelay: 0.2, maxRetries: 2 }, sendQueue: 1,
        });
        const events = record(ws);
        const queued = await ws.send(new Uint8Array([1, 2, 3]));
        const full = await fails(ws.send("too many"));
        const opened = await within(ws.opened.catch((e) => e), 10, "opened to reject");
        const seconds = (performance.now() - started) / 1000;
        const recv = await fails(ws.recv());
        const closed = await fails(ws.closed);
        const late = await fails(ws.send("late"));
        return {
          queued, full, seconds, recv, closed, late, log: events.log, unsent: ws.unsent,
          name: opened.name, isClosedError: opened instanceof M.ConnectionClosedError,
          isReconnectFailed: opened instanceof M.ReconnectFailed, attempts: opened.attempts,
          unsentData: opened.unsent.map((m) => Array.from(new Uint8Array(m))),
        };
        """,
        refused_url,
    )
    assert out["queued"] is False
    assert out["full"]["ctor"] == "SendQueueFull" and "not queued" in out["full"]["message"]
    assert out["name"] == "ReconnectFailed" and out["isClosedError"] and out["isReconnectFailed"]
    assert out["attempts"] == 3 and out["unsentData"] == [[1, 2, 3]] and out["unsent"] == 1
    delays = [e[2] for e in out["log"] if e[0] == "reconnecting"]
    assert len(delays) == 2 and 0.025 <= delays[0] <= 0.075 and 0.04 <= delays[1] <= 0.2
    assert sum(delays) <= out["seconds"] < 5
    assert [e[0] for e in out["log"]] == [
        "connecting",
        "reconnecting",
        "connecting",
        "reconnecting",
        "connecting",
        "close",
    ]
    assert [e[1] for e in out["log"] if e[0] == "connecting"] == [1, 2, 3]
    for key in ("recv", "closed", "late"):
        assert out[key]["ctor"] == "ReconnectFailed" and out[key]["code"] == 1006, out[key]


def test_payload_too_big(py, ws_url):
    """A message one byte over maxSize: the earlier ones (one exactly at the limit) are
    read, then recv() rejects PayloadTooBig (code 1009) with its size and the limit."""
    out = run(
        py,
        """
        const ws = await open(arg + "/echo", { maxSize: 100 });
        await ws.send("a");
        await ws.send(new Uint8Array(100));
        await ws.send("é".repeat(50) + "x");   // 101 bytes of UTF-8, 51 characters
        const got = [await ws.recv(), (await ws.recv()).byteLength];
        const error = await fails(ws.recv());
        const raw = await ws.recv().catch((e) => e);
        const closed = await fails(ws.closed);
        return { got, error, size: raw.size, maxSize: raw.maxSize, isError: raw instanceof M.ConnectionClosedError,
                 isPayloadTooBig: raw instanceof M.PayloadTooBig, closed };
        """,
        ws_url,
    )
    assert out["got"] == ["a", 100]
    assert out["error"]["ctor"] == "PayloadTooBig" and out["error"]["code"] == 1009
    assert out["size"] == 101 and out["maxSize"] == 100
    assert out["isError"] and out["isPayloadTooBig"]
    assert out["closed"]["ctor"] == "PayloadTooBig"


def test_queue_overflow(py, ws_url):
    """onOverflow "close" with maxQueueBytes: 50: the 5 messages of 10 bytes that fit are read,
    then QueueOverflow (1008). (A bound in bytes: the native backend never overflows a count.)"""
    out = run(
        py,
        """
        const ws = new M.WebSocketStream(arg + "/send?n=20&size=10", { pyodide, maxQueueBytes: 50 });
        const closed = await fails(within(ws.closed, 10, "closed"));
        const got = [];
        for (let i = 0; i < 5; i++) got.push(await ws.recv());
        const raw = await ws.recv().catch((e) => e);
        return { closed, got, name: raw.name, code: raw.code, messages: raw.messages, bytes: raw.bytes, maxQueue: raw.maxQueue,
                 maxQueueBytes: raw.maxQueueBytes, is: raw instanceof M.QueueOverflow };
        """,
        ws_url,
    )
    assert out["closed"]["ctor"] == "QueueOverflow"
    assert out["got"] == [str(i).ljust(10, ".") for i in range(5)]
    assert out["name"] == "QueueOverflow" and out["code"] == 1008 and out["is"]
    assert out["messages"] == 5 and out["bytes"] == 50
    assert out["maxQueue"] is None and out["maxQueueBytes"] == 50


def test_drop_oldest(py, ws_url):
    """onOverflow "drop-oldest" with maxQueue: 10: of 100 sent before the reader looks, 90
    are dropped and the last 10 read in order, then the clean close."""
    out = run(
        py,
        """
        const ws = new M.WebSocketStream(arg + "/close?n=100&code=1000", {
          pyodide, maxQueue: 10, onOverflow: "drop-oldest",
        });
        await within(ws.closed, 10, "closed");   // all 100 have arrived
        const dropped = ws.dropped;
        const got = [];
        for await (const m of ws) got.push(m);
        return { dropped, got, after: ws.dropped };
        """,
        ws_url,
    )
    assert out["dropped"] == 90 and out["after"] == 90
    assert out["got"] == [str(i) for i in range(90, 100)]


def test_heartbeat(py, ws_url):
    """A heartbeat's reply is never delivered to recv() and sets latency; a JS function
    may recognise the reply (called in JS with the browser's own data)."""
    out = run(
        py,
        """
        const seen = [];
        const results = {};
        for (const pong of ["pong", (data) => { seen.push(data); return data === "pong"; }]) {
          const ws = await open(arg + "/pong", { heartbeat: { interval: 0.05, timeout: 5, pong } });
          const before = ws.latency;
          const first = await within(ws.recv(), 10, "after-pong");   // the server's "pong" came first
          results[typeof pong] = { before, first, latency: ws.latency };
          await ws.close();
        }
        return { results, seen };
        """,
        ws_url,
    )
    for kind in ("string", "function"):
        result = out["results"][kind]
        assert result["before"] == 0 and result["first"] == "after-pong", result
        assert 0 < result["latency"] < 5, result
    assert out["seen"][:2] == ["pong", "after-pong"]


def test_bad_options(py, ws_url):
    """Bad options throw from the constructor: a TypeError or RangeError with an exact message."""
    out = run(
        py,
        """
        const cases = [
          [{ closeTimeout: "5" }],
          [{ closeTimeout: -1 }],
          [{ openTimeout: Infinity }],
          [{ maxSize: 1.5 }],
          [{ maxQueue: -1 }],
          [{ maxQueueBytes: "1" }],
          [{ onOverflow: "drop-newest" }],
          [{ onOverflow: 1 }],
          [{ heartbeat: 5 }],
          [{ heartbeat: { interval: 0 } }],
          [{ heartbeat: { interval: 1, ping: 5 } }],
          [{ heartbeat: { interval: 1, pong: {} } }],
          [{ heartbeat: { interval: 1, tmeout: 1 } }],
          [{ idleTimeout: 0 }],
          [{ reconnect: "yes" }],
          [{ reconnect: { factor: 0.5 } }],
          [{ reconnect: { minDelay: 2, maxDelay: 1 } }],
          [{ reconnect: { maxRetries: 1.5 } }],
          [{ reconnect: { retries: 3 } }],
          [{ reconnect: true, sendQueue: null }],
          [{ reconnect: true, onConnect: "hook" }],
          [{ onConnect: async () => {} }],
          [{ maxsize: 10 }],
        ];
        return cases.map(([options]) => {
          try { new M.WebSocketStream(arg, { pyodide, ...options }); return null; }
          catch (e) { return [e.constructor.name, e.message]; }
        });
        """,
        ws_url + "/echo",
    )
    assert out == [
        ["TypeError", "closeTimeout must be a number of seconds or null, not string"],
        ["RangeError", "closeTimeout must be a finite number >= 0, not -1"],
        ["RangeError", "openTimeout must be a finite number >= 0, not Infinity"],
        ["TypeError", "maxSize must be an integer or null, not 1.5"],
        ["RangeError", "maxQueue must be >= 0, not -1"],
        ["TypeError", "maxQueueBytes must be an integer or null, not string"],
        ["RangeError", 'onOverflow must be "close" or "drop-oldest", not "drop-newest"'],
        ["TypeError", 'onOverflow must be "close" or "drop-oldest", not 1'],
        ["TypeError", "heartbeat must be an object {interval, timeout, ping, pong} or null, not 5"],
        ["RangeError", "heartbeat.interval must be > 0, not 0"],
        ["TypeError", "heartbeat.ping must be a string, an ArrayBuffer or a Uint8Array, not 5"],
        [
            "TypeError",
            "heartbeat.pong must be a string, an ArrayBuffer, a Uint8Array or a function, not Object",
        ],
        ["TypeError", 'unknown heartbeat option "tmeout"'],
        ["RangeError", "idleTimeout must be > 0 (or null for no idle timeout), not 0"],
        [
            "TypeError",
            "reconnect must be a boolean or an object {minDelay, maxDelay, factor, maxRetries}, "
            "not string",
        ],
        ["RangeError", "reconnect.factor must be at least 1, not 0.5"],
        ["RangeError", "reconnect.maxDelay (1) must not be below reconnect.minDelay (2)"],
        ["TypeError", "reconnect.maxRetries must be an integer or null, not 1.5"],
        ["TypeError", 'unknown reconnect option "retries"'],
        ["TypeError", "sendQueue must be an integer, not null"],
        ["TypeError", "onConnect must be a function or null, not string"],
        ["TypeError", "onConnect applies to a reconnecting stream only: add reconnect: true"],
        ["TypeError", 'unknown WebSocketStream option "maxsize"'],
    ]
