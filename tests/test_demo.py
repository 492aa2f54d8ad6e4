"""The demo: demo/server.py on its own (CPython clients), then demo/index.html in each engine.

The server runs as a subprocess on ports the OS picks (``--port 0 --ws-port 0``),
exactly as ``./build.sh demo`` runs it, and serves the built dist/.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import harness
import pytest
from conftest import DIST, ROOT
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

SERVER = ROOT / "demo" / "server.py"
RESULTS = ROOT / "test-results"


class DemoServer:
    """demo/server.py as a subprocess; its output goes to a file (a full pipe would block it)."""

    def __init__(self, log: Path, *args: str) -> None:
        if not (DIST / "demo" / "index.html").exists():
            pytest.fail("dist/ holds no demo: run ./build.sh (or ./build.sh test)")
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(SERVER), "--dist", str(DIST), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 30
        while not (found := re.search(r"Open (http://\S+?)/demo/", self.output())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"demo/server.py did not start:\n{self.output()}")
            time.sleep(0.05)
        self.http = found.group(1)
        ws = re.search(r"WebSocket (ws://\S+?)/ticker", self.output())
        assert ws, self.output()
        self.ws = ws.group(1)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig``, wait for the exit (killing it after 15 s); return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"demo/server.py ignored {sig!r}:\n{self.output()}") from None
        return self.proc.returncode

    def post(self, path: str) -> dict[str, Any]:
        request = urllib.request.Request(self.http + path, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.load(response))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(
        tmp_path_factory.mktemp("demo") / "server.log", "--port", "0", "--ws-port", "0"
    )
    yield server
    assert server.stop() == 0, server.output()


# -- the server, from CPython ---------------------------------------------------


def test_ticker_sends_json_at_the_requested_rate(demo: DemoServer) -> None:
    """/ticker?rate=100 sends JSON ticks (symbol, price, ts, seq) about 100 times a second."""
    with connect(demo.ws + "/ticker?rate=100") as ws:
        started = time.monotonic()
        ticks = [json.loads(ws.recv(timeout=5)) for _ in range(100)]
        elapsed = time.monotonic() - started
    assert 0.6 < elapsed < 5.0, elapsed  # ~1 s; the upper bound only catches a rate ignored
    assert [t["seq"] for t in ticks] == list(range(100))
    assert {t["symbol"] for t in ticks} == {"ABC", "DEF", "XYZ"}
    for tick in ticks:
        assert set(tick) == {"symbol", "price", "ts", "seq"}
        assert isinstance(tick["price"], float) and 1 <= tick["price"] < 1000
        assert abs(tick["ts"] - time.time()) < 10


def test_sensor_sends_packed_floats(demo: DemoServer) -> None:
    """/sensor sends binary frames: '<d3f', a timestamp and three channels within [-2, 2]."""
    with connect(demo.ws + "/sensor?rate=200") as ws:
        frames = [ws.recv(timeout=5) for _ in range(50)]
    for frame in frames:
        assert isinstance(frame, bytes) and len(frame) == struct.calcsize("<d3f")
        ts, *channels = struct.unpack("<d3f", frame)
        assert abs(ts - time.time()) < 10
        assert all(-2 < c < 2 for c in channels), channels
    stamps = [struct.unpack("<d3f", f)[0] for f in frames]
    assert stamps == sorted(stamps)


def joined(*clients: Any) -> None:
    """Wait until the chat room holds each client: its "ping" answered "pong" (the room's
    handler adds a client before it reads from it)."""
    for client in clients:
        client.send("ping")
        assert client.recv(timeout=5) == "pong"


def test_chat_broadcasts_to_every_client(demo: DemoServer) -> None:
    """A text message sent to /chat reaches every chat client, the sender included."""
    with connect(demo.ws + "/chat") as alice, connect(demo.ws + "/chat") as bob:
        joined(alice, bob)
        alice.send('{"user": "alice", "text": "hi"}')
        assert bob.recv(timeout=5) == '{"user": "alice", "text": "hi"}'
        assert alice.recv(timeout=5) == '{"user": "alice", "text": "hi"}'


def test_streams_answer_pings_and_ack_notes(demo: DemoServer) -> None:
    """Every route answers "ping" with "pong" (the heartbeat); /ticker and /sensor ack notes."""
    for route in ("ticker", "sensor"):
        with connect(f"{demo.ws}/{route}?rate=5") as ws:
            ws.send("ping")
            ws.send('{"note": 1}')
            ws.send('{"note": 2}')
            replies = []
            while len(replies) < 3:
                message = ws.recv(timeout=5)
                if isinstance(message, bytes) or "symbol" in message:
                    continue  # a tick or a sample
                replies.append(message)
        assert replies == ["pong", '{"ack": 1}', '{"ack": 2}'], route
    with connect(demo.ws + "/chat") as alice, connect(demo.ws + "/chat") as bob:
        joined(alice, bob)  # each one's ping answered "pong", to itself only
        alice.send("hi")
        assert bob.recv(timeout=5) == "hi"  # bob never saw the ping nor its pong


@pytest.mark.parametrize(("how", "code"), [("abort", None), ("restart", 1012)])
def test_kill_drops_the_streams(demo: DemoServer, how: str, code: int | None) -> None:
    """POST /api/kill cuts ticker, sensor and chat connections: no close frame (1006), or 1012."""
    with (
        connect(demo.ws + "/ticker?rate=50") as ticker,
        connect(demo.ws + "/sensor") as sensor,
        connect(demo.ws + "/chat") as chat,
    ):
        ticker.recv(timeout=5)
        sensor.recv(timeout=5)
        chat.send("ping")
        assert chat.recv(timeout=5) == "pong"
        assert demo.post(f"/api/kill?how={how}") == {"killed": 3, "how": how}
        for ws in (ticker, sensor, chat):
            with pytest.raises(ConnectionClosedError) as info:
                while True:
                    ws.recv(timeout=5)
            received = info.value.rcvd
            assert (received and received.code) == code


def test_bad_requests_are_refused(demo: DemoServer) -> None:
    """A bad rate is refused with 400, an unknown stream with 404, both before the handshake."""
    for path, status in [("/ticker?rate=fast", 400), ("/sensor?rate=0", 400), ("/nope", 404)]:
        with pytest.raises(InvalidStatus) as info:
            connect(demo.ws + path).close()
        assert info.value.response.status_code == status, path
    with pytest.raises(urllib.error.HTTPError) as http_info:
        demo.post("/api/kill?how=gently")
    assert http_info.value.code == 400
    http_info.value.close()


def test_binds_to_loopback_and_checks_origin(demo: DemoServer) -> None:
    """Both servers listen on 127.0.0.1 by default; a handshake whose Origin is not the demo's
    own page (another site, another port, https, "null") is refused with 403, the demo's own
    origins (127.0.0.1, localhost) and a client sending no Origin (not a browser) are let in."""
    http_port = int(demo.http.rsplit(":", 1)[1])
    assert demo.http.startswith("http://127.0.0.1:") and demo.ws.startswith("ws://127.0.0.1:")
    for bad in [
        "http://evil.example",
        f"http://evil.example:{http_port}",
        f"http://127.0.0.1:{http_port + 1}",
        f"https://127.0.0.1:{http_port}",
        "null",
    ]:
        with pytest.raises(InvalidStatus) as info:
            connect(demo.ws + "/chat", origin=bad, open_timeout=5).close()  # type: ignore[arg-type]
        response = info.value.response
        assert response.status_code == 403, bad
        assert response.body == f"Origin {bad} may not open the demo's streams\n".encode()
    for good in [f"http://127.0.0.1:{http_port}", f"http://localhost:{http_port}", None]:
        with connect(demo.ws + "/chat", origin=good, open_timeout=5) as ws:  # type: ignore[arg-type]
            ws.send("hi")
            assert ws.recv(timeout=5) == "hi"
    for port in (http_port, int(demo.ws.rsplit(":", 1)[1])):
        # Another loopback address of this host (Linux routes all of 127/8 to lo) is refused:
        # the sockets are bound to 127.0.0.1, not to every interface.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=5).close()


def test_http_serves_dist_and_config(demo: DemoServer) -> None:
    """HTTP serves the page, Pyodide (.mjs as JavaScript) and config.json naming the WS port."""
    with urllib.request.urlopen(demo.http + "/demo/config.json", timeout=10) as response:
        assert json.load(response) == {"ws_port": int(demo.ws.rsplit(":", 1)[1])}
    with urllib.request.urlopen(demo.http + "/demo/", timeout=10) as response:
        assert b'id="chart"' in response.read()
    with urllib.request.urlopen(demo.http + "/pyodide/pyodide.mjs", timeout=10) as response:
        assert response.headers["Content-Type"] == "text/javascript"


def test_page_links_answer(demo: DemoServer) -> None:
    """The page's links to the docs, the JupyterLite notebook and the PyScript page answer on
    the demo's own server (./build.sh test builds the docs and the site before pytest)."""
    with urllib.request.urlopen(demo.http + "/demo/", timeout=10) as response:
        page = response.read().decode()
    links = re.findall(r'<a id="(?:docs|lite|pyscript)-link" href="([^"]+)"', page)
    assert len(links) == 3, links
    for link in links:
        url = urllib.parse.urljoin(demo.http + "/demo/", link.replace("&amp;", "&"))
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url


@pytest.mark.parametrize("option", ["--port", "--ws-port"])
def test_port_in_use_is_one_clear_line(option: str) -> None:
    """A port already taken ends the server with exit code 1 and one line saying which."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"--port": "0", "--ws-port": "0", option: str(port)}
        args = [arg for pair in ports.items() for arg in pair]
        result = subprocess.run(
            [sys.executable, str(SERVER), "--dist", str(DIST), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert option in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_everything_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGINT and SIGTERM close the streams with 1001 and exit 0, with no traceback."""
    server = DemoServer(tmp_path / "server.log", "--port", "0", "--ws-port", "0")
    try:
        with connect(server.ws + "/ticker") as ws:
            ws.recv(timeout=5)
            server.proc.send_signal(sig)
            with pytest.raises(ConnectionClosedOK) as info:
                while True:
                    ws.recv(timeout=10)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1001
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert "Traceback" not in server.output()
    assert server.output().rstrip().endswith("stopped")


# -- the page, in each engine ----------------------------------------------------------

SNAPSHOT_JS = """
async () => {
  const $ = (s) => document.querySelector(s);
  const text = (s) => $(s).textContent;
  const chart = $("#chart");
  const stream = (name) => ({
    state: text(`#${name}-state`),
    conn: text(`#${name}-conn`),
    count: Number(text(`#${name}-count`)),
    reconnects: Number(text(`#${name}-reconnects`)),
    rate: text(`#${name}-rate`),
    latency: text(`#${name}-latency`),
    dropped: Number(text(`#${name}-dropped`)),
    queued: Number(text(`#${name}-queued`)),
    sent: Number(text(`#${name}-sent`)),
    flushed: Number(text(`#${name}-flushed`)),
    acked: Number(text(`#${name}-acked`)),
  });
  const ticker = stream("ticker");
  return {
    ...ticker,
    ticker,
    sensor: stream("sensor"),
    chat: text("#chat-state"),
    chatConn: text("#chat-conn"),
    chatQueued: text("#chat-queued"),
    chatLatency: text("#chat-latency"),
    frames: Number(chart.dataset.frames),
    points: Number(chart.dataset.points),
    scopeFrames: Number($("#scope").dataset.frames),
    error: $("#error").hidden ? "" : $("#error").textContent,
    loading: !$("#loading").hidden,
    progress: text("#progress-text"),
    chatInput: !$("#chat-input").disabled,
    chatLog: [...$("#chat-log").children].map((li) => ({ text: li.textContent, cls: li.className })),
    log: [...$("#log").children].map((li) => li.textContent),
    seen: window.seen ?? [],
    timings: window.demo?.timings ?? {},
  };
}
"""

# Record every connection line shown from now on (the countdown lasts 1 to 3 s).
RECORD_JS = """
async () => {
  window.seen = [];
  const observer = new MutationObserver(() => {
    for (const name of ["ticker", "sensor", "chat"]) {
      const line = `${name}: ${document.querySelector(`#${name}-conn`).textContent}`;
      if (window.seen.at(-1) !== line) window.seen.push(line);
    }
  });
  for (const name of ["ticker", "sensor", "chat"]) {
    observer.observe(document.querySelector(`#${name}-conn`), { childList: true, characterData: true, subtree: true });
  }
}
"""

# Once the chat says "reconnecting", type and send a message: it waits in the send queue.
SEND_WHILE_DOWN_JS = """
async (text) => {
  const pill = document.querySelector("#chat-state");
  const observer = new MutationObserver(() => {
    if (pill.textContent !== "reconnecting") return;
    observer.disconnect();
    document.querySelector("#chat-input").value = text;
    document.querySelector("#chat-form").requestSubmit();
  });
  observer.observe(pill, { childList: true, characterData: true, subtree: true });
}
"""

# How many pixels of the plot (price tags excluded) have each series' colour.
INK_JS = """
async () => {
  const canvas = document.querySelector("#chart");
  const dpr = canvas.width / canvas.clientWidth;
  const width = Math.floor(canvas.width - 62 * dpr);
  const { data } = canvas.getContext("2d").getImageData(0, 0, width, canvas.height);
  const colours = [[76, 201, 240], [247, 37, 133], [255, 209, 102]];
  const ink = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] < 160) continue;
    colours.forEach(([r, g, b], k) => {
      const far = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
      if (far < 60) ink[k]++;
    });
  }
  return ink;
}
"""


def wait_for(
    page: harness.Page, what: str, done: Callable[[dict[str, Any]], bool], timeout: float
) -> dict[str, Any]:
    """Poll the page's snapshot until ``done(snapshot)``; fail with the last one if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        snapshot: dict[str, Any] = page.evaluate(SNAPSHOT_JS, None, timeout=30)
        if done(snapshot):
            return snapshot
        if snapshot["error"] and "Could not start" in snapshot["error"]:
            raise AssertionError(f"the page failed: {snapshot['error']}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}:\n{snapshot}")
        time.sleep(0.2)


def test_demo_page(browser: harness.Browser, engine: str, demo: DemoServer) -> None:
    """The page loads Pyodide, charts the live ticker, reconnects after a kill, and chats."""
    RESULTS.mkdir(exist_ok=True)
    page = browser.new_page(demo.http + "/demo/?rate=50", timeout=60)
    try:
        _check_demo_page(page, engine, demo)
    finally:
        try:
            (RESULTS / f"demo-{engine}.console.txt").write_text("\n".join(page.console()))
        finally:
            page.close()


NO_NUMBER = "\N{EN DASH}"  # what the page shows until a figure is known


def _number(text: str) -> float:
    assert text != NO_NUMBER, "no number shown"
    return float(text)


def _check_demo_page(page: harness.Page, engine: str, demo: DemoServer) -> None:
    # 1. Pyodide loads, then live data arrives and the chart draws it.
    first = wait_for(
        page,
        "live ticks on the chart",
        lambda s: s["state"] == "open" and s["count"] >= 10 and s["points"] >= 10,
        timeout=180,
    )
    assert not first["loading"] and not first["error"], first
    assert first["conn"] == "open", first

    # 2. The numbers move: count, chart frames, the sensor; rate and heartbeat latency
    # (every stream pings once a second; the server answers) are shown, notes are acked.
    moved = wait_for(
        page,
        "the numbers to move, the heartbeats to be measured, the notes to be acked",
        lambda s: (
            s["count"] >= first["count"] + 25
            and s["frames"] > first["frames"] + 5
            and NO_NUMBER not in (s["latency"], s["sensor"]["latency"], s["chatLatency"])
            and s["acked"] >= 2
            and s["sensor"]["acked"] >= 2
        ),
        timeout=30,
    )
    sensor = moved["sensor"]
    assert sensor["state"] == "open" and sensor["count"] > 0 and moved["scopeFrames"] > 0
    assert float(moved["rate"]) > 5, moved
    for latency in (moved["latency"], sensor["latency"], moved["chatLatency"]):
        assert 0 < _number(latency) < 2000, moved
    assert moved["dropped"] == sensor["dropped"] == 0, moved
    assert moved["queued"] == sensor["queued"] == 0 and moved["sent"] >= 2, moved
    ink = page.evaluate(INK_JS, None, timeout=30)
    assert all(n >= 20 for n in ink), f"the chart's lines are not on the canvas: {ink}"

    # 3. "Pause reading for 5 s": the sensor holds 30 unread samples at most and drops
    # the oldest; the page shows the exact count, which stops growing once reading resumes.
    page.evaluate("async () => document.querySelector('#pause').click()", None, timeout=30)
    paused = wait_for(
        page,
        "samples dropped while the sensor's reader is paused",
        lambda s: s["sensor"]["dropped"] > 0 and "paused" in s["sensor"]["conn"],
        timeout=15,
    )
    resumed = wait_for(
        page,
        "the sensor's reader to resume",
        lambda s: (
            "paused" not in s["sensor"]["conn"]
            and s["sensor"]["count"] > paused["sensor"]["count"] + 30
        ),
        timeout=20,
    )
    dropped = resumed["sensor"]["dropped"]
    assert dropped >= 60, resumed  # 5 s at 60 samples/s, 30 kept: about 270
    assert resumed["dropped"] == 0, resumed  # the ticker drops nothing
    later = wait_for(
        page,
        "more samples after the pause",
        lambda s: s["sensor"]["count"] > resumed["sensor"]["count"] + 60,
        timeout=20,
    )
    assert later["sensor"]["dropped"] == dropped, (resumed, later)
    assert "reading paused for 5 s" in "\n".join(later["log"])

    # 4. The server drops every connection (no close frame): each stream shows the
    # countdown, reconnects by itself, and flushes what was sent while it was down.
    page.evaluate(RECORD_JS, None, timeout=30)
    wait_for(page, "the chat to open", lambda s: s["chat"] == "open" and s["chatInput"], 30)
    queued_text = f"sent while down from {engine} at {time.time():.3f}"
    page.evaluate(SEND_WHILE_DOWN_JS, queued_text, timeout=30)
    before = wait_for(page, "the state before the kill", lambda s: True, 5)
    page.evaluate("async () => document.querySelector('#kill').click()", None, timeout=30)
    down = wait_for(
        page,
        "the ticker to lose its connection",
        lambda s: s["state"] != "open" or s["reconnects"] >= 1,
        timeout=15,
    )
    if down["state"] == "reconnecting":  # the backoff lasts 1 to 3 s: usually caught
        page.screenshot(str(RESULTS / f"demo-{engine}-reconnecting.png"))
    back = wait_for(
        page,
        "every stream to reconnect after the kill",
        lambda s: (
            s["reconnects"] >= 1
            and s["state"] == "open"
            and s["sensor"]["reconnects"] >= 1
            and s["sensor"]["state"] == "open"
            and s["chat"] == "open"
            and any("sent on reconnect" in li["text"] for li in s["chatLog"])
        ),
        timeout=45,
    )
    events = "\n".join(back["log"])
    assert "1006" in events and "reconnected" in events, events
    for name in ("ticker", "sensor", "chat"):
        assert f"{name} lost:" in events and f"{name} reconnected" in events, events
    seen = "\n".join(back["seen"])
    for name in ("ticker", "sensor", "chat"):
        assert re.search(rf"{name}: reconnecting in \d+\.\d s · attempt 1", seen), seen
    # Notes sent every 0.5 s were queued during the backoff (1 to 3 s), then flushed.
    assert back["flushed"] >= 1 and back["sensor"]["flushed"] >= 1, back
    assert back["queued"] == back["sensor"]["queued"] == 0, back
    assert "flushed" in events, events
    (flushed_item,) = [li for li in back["chatLog"] if queued_text in li["text"]]
    assert "flushed" in flushed_item["cls"].split(), flushed_item
    assert "queued message(s) sent" in "\n".join(li["text"] for li in back["chatLog"])
    after = wait_for(
        page,
        "ticks and acks after the reconnection",
        lambda s: (
            s["count"] >= back["count"] + 10
            and s["state"] == "open"
            and s["acked"] >= before["acked"] + back["flushed"] + 2
        ),
        timeout=30,
    )
    assert after["chatQueued"] == "0", after
    # The new connections' heartbeats are measured too.
    wait_for(
        page,
        "the heartbeats of the new connections",
        lambda s: NO_NUMBER not in (s["latency"], s["sensor"]["latency"], s["chatLatency"]),
        timeout=15,
    )

    # 5. The chat (the JS facade on the page's Pyodide) echoes what we send.
    text = f"hello from {engine} at {time.time():.3f}"
    page.evaluate(
        """async (text) => {
          document.querySelector("#chat-input").value = text;
          document.querySelector("#chat-form").requestSubmit();
        }""",
        text,
        timeout=30,
    )
    wait_for(page, "the chat echo", lambda s: any(text in li["text"] for li in s["chatLog"]), 30)

    # A few more seconds of data make a screenshot worth looking at.
    final = wait_for(page, "a fuller chart", lambda s: s["count"] >= 250, timeout=30)
    timings = final["timings"]
    record = {  # for the record: how long the page took, in ms
        "engine": engine,
        "pyodide_loaded": round(timings["pyodide"] - timings["start"]),
        "python_ready": round(timings["ready"] - timings["start"]),
        "first_chart_move_after_pyodide": round(timings["firstMove"] - timings["pyodide"]),
        "first_chart_move_after_ready": round(timings["firstMove"] - timings["ready"]),
    }
    (RESULTS / f"demo-{engine}.json").write_text(json.dumps(record, indent=2) + "\n")
    page.screenshot(str(RESULTS / f"demo-{engine}.png"))
    # The sensor card and the event log, below the fold of the first screenshot.
    page.evaluate("async () => window.scrollTo(0, document.body.scrollHeight)", None, timeout=30)
    page.screenshot(str(RESULTS / f"demo-{engine}-below.png"))
