"""The JS facade where it overlaps the native WebSocketStream, in every engine:
`close({closeCode, reason})`, `closed` resolving with `closeCode`, the `signal` option."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fault_servers import RawServer
from servers import WebSocketServer
from test_facade import run_js


@pytest.fixture(scope="module")
def raw_server() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


def test_close_with_a_close_info_object(py, ws_server: WebSocketServer, engine):
    """close({closeCode, reason}) reaches the server; closed has closeCode and code; bad objects are refused."""
    out = run_js(
        py,
        """
        const a = await open(arg.id);
        const r = {};
        r.unknown = await fails(a.close({ code: 4000 }));
        r.both = await fails(a.close({ closeCode: 4000 }, "why"));
        r.range = await fails(a.close({ closeCode: 1001 }));
        r.type = await fails(a.close({ closeCode: "4000" }));
        r.reasonType = await fails(a.close({ reason: 7 }));
        await a.close({ closeCode: 4001, reason: "as native ✓" });
        r.closedA = await a.closed;
        const b = await open(arg.ws + "/echo");
        await b.close({});
        r.closedB = await b.closed;
        const c = await open(arg.ws + "/echo");
        await c.close({ reason: "only a reason" });
        r.closedC = await c.closed;
        const d = await open(arg.ws + "/close?code=4005&reason=server");
        r.closedD = await d.closed;
        return r;
        """,
        {"ws": ws_server.url, "id": f"{ws_server.url}/echo?id=obj-{engine}"},
    )
    assert out["unknown"]["name"] == "TypeError" and '"code"' in out["unknown"]["message"]
    assert out["both"]["name"] == "TypeError"
    assert out["range"]["name"] == "RangeError" and "1001" in out["range"]["message"]
    assert out["type"]["name"] == "TypeError" and out["reasonType"]["name"] == "TypeError"
    assert out["closedA"] == {"code": 4001, "closeCode": 4001, "reason": "as native ✓"}
    assert out["closedB"] == {"code": 1000, "closeCode": 1000, "reason": ""}
    assert out["closedC"] == {"code": 1000, "closeCode": 1000, "reason": "only a reason"}
    assert out["closedD"] == {"code": 4005, "closeCode": 4005, "reason": "server"}
    assert ws_server.close_received(f"obj-{engine}") == (4001, "as native ✓")


def test_signal_aborted_before_the_stream(py, ws_url):
    """An already aborted signal: opened and closed reject with its reason; no open event."""
    out = run_js(
        py,
        """
        const events = [];
        const reason = new Error("changed my mind");
        const ws = new M.WebSocketStream(arg + "/echo", { pyodide, signal: AbortSignal.abort(reason) });
        ws.addEventListener("open", () => events.push("open"));
        let same = false;
        try { await ws.opened; } catch (e) { same = e === reason; }
        let closedSame = false;
        try { await ws.closed; } catch (e) { closedSame = e === reason; }
        const plain = new M.WebSocketStream(arg + "/echo", { pyodide, signal: AbortSignal.abort() });
        const plainErr = await fails(plain.opened);
        const recv = await fails(ws.recv());
        const bad = await fails((async () => new M.WebSocketStream(arg, { pyodide, signal: {} }))());
        return { same, closedSame, events, state: ws.readyState, plainErr, recv, bad };
        """,
        ws_url,
    )
    assert out["same"] and out["closedSame"], out
    assert out["events"] == [] and out["state"] == 3
    assert out["plainErr"]["name"] == "AbortError"
    assert out["recv"]["message"] == "changed my mind"
    assert out["bad"]["name"] == "TypeError" and "AbortSignal" in out["bad"]["message"]


def test_signal_aborts_a_pending_handshake(py, raw_server: RawServer):
    """Aborting while the server sits on the handshake fails opened at once, not at openTimeout."""
    out = run_js(
        py,
        """
        const controller = new AbortController();
        const ws = new M.WebSocketStream(arg + "/no-handshake", { pyodide, openTimeout: 60, signal: controller.signal });
        const events = [];
        ws.addEventListener("close", (e) => events.push([e.type, e.code, e.error?.name]));
        await new Promise((r) => setTimeout(r, 500));
        const t0 = performance.now();
        controller.abort();
        const err = await fails(ws.opened);
        const ms = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 300));
        return { err, ms, events, state: ws.readyState };
        """,
        raw_server.url,
    )
    assert out["err"]["name"] == "AbortError"
    assert out["ms"] < 1000, out
    assert out["events"] == [["close", None, "AbortError"]]
    assert out["state"] == 3
    assert raw_server.accepted["/no-handshake"] >= 1


def test_signal_after_open_closes(py, ws_server: WebSocketServer, engine):
    """Aborting once open closes the stream with 1000; closed resolves."""
    out = run_js(
        py,
        """
        const controller = new AbortController();
        const ws = new M.WebSocketStream(arg, { pyodide, signal: controller.signal });
        await ws.opened;
        await ws.send("still here");
        const echo = await ws.recv();
        controller.abort();
        const closed = await ws.closed;
        return { echo, closed, state: ws.readyState };
        """,
        f"{ws_server.url}/echo?id=abort-{engine}",
    )
    assert out == {
        "echo": "still here",
        "closed": {"code": 1000, "closeCode": 1000, "reason": ""},
        "state": 3,
    }
    assert ws_server.close_received(f"abort-{engine}") == (1000, "")


def test_signal_stops_a_reconnecting_stream(py, refused_url):
    """A reconnecting stream that never opened stops trying when the signal aborts."""
    out = run_js(
        py,
        """
        const controller = new AbortController();
        const ws = new M.WebSocketStream(arg, {
          pyodide, signal: controller.signal, reconnect: { minDelay: 0.05, maxDelay: 0.05 } });
        let attempts = 0;
        ws.addEventListener("connecting", () => attempts++);
        while (attempts < 3) await new Promise((r) => setTimeout(r, 20));
        controller.abort("enough");
        const err = await ws.opened.then(() => null, (e) => e);
        const at = attempts;
        await new Promise((r) => setTimeout(r, 600));
        return { err, more: attempts - at, state: ws.readyState };
        """,
        refused_url,
    )
    assert out == {"err": "enough", "more": 0, "state": 3}
