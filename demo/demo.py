"""The demo page's Python, run in Pyodide: follow the demo server's streams, keep statistics.

index.html loads this file and calls :func:`main` with a small ``ui`` object
(plain JS functions). Python does the networking and the arithmetic and pushes
numbers to ``ui``; the page's JS draws them, at most once per animation frame.

Each stream is ONE reconnecting stream, read across drops::

    async with connect(
        url,
        reconnect=True,                 # reconnect with backoff; send() queues while down
        heartbeat=Heartbeat(1.0),       # "ping" every second; the server answers "pong"
        max_queue=30,                   # the sensor: hold 30 unread messages at most,
        on_overflow="drop-oldest",      # dropping the oldest (ws.dropped counts them)
        on_event=on_event,              # connecting / open / reconnecting / close
    ) as ws:
        async for message in ws:
            ...

and the page shows what it does: the state (with the countdown to the next
attempt), reconnections, the heartbeat's round trip (``ws.latency``), messages
dropped while the reader was paused (``ws.dropped``), and the notes sent to the
server twice a second: queued while disconnected (``ws.unsent``), flushed on
reconnection (the "open" event's ``flushed``), acknowledged by the server.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from websocket_streaming import (
    ConnectionClosed,
    ConnectionFailed,
    Heartbeat,
    SendQueueFull,
    StateEvent,
    connect,
)

SENSOR = struct.Struct("<d3f")  # server time, then three channels
REPORT_EVERY = 0.25  # seconds between two updates of the numbers on screen
NOTE_EVERY = 0.5  # seconds between two notes sent to the server (queued while down)
HEARTBEAT = Heartbeat(interval=1.0, timeout=5.0)
#: The backoff: 2 s (times a random 0.5-1.5) after a drop, growing to 10 s.
BACKOFF = {"min_delay": 2.0, "max_delay": 10.0}

#: The followers by stream name, for :func:`pause`.
FOLLOWERS: dict[str, Follower] = {}


class Rolling:
    """Message rate over the last ``window`` seconds."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._arrivals: deque[float] = deque()

    def add(self, arrival: float) -> None:
        self._arrivals.append(arrival)

    def read(self, now: float) -> float:
        """Messages a second over the window ending now."""
        arrivals = self._arrivals
        while arrivals and arrivals[0] < now - self.window:
            arrivals.popleft()
        return len(arrivals) / self.window


class Follower:
    """One stream followed forever, through one reconnecting stream; tells the page how it goes."""

    def __init__(self, name: str, url: str, ui: Any, **options: Any) -> None:
        self.name = name
        self.url = url
        self.ui = ui
        self.options = options
        self.rolling = Rolling()
        self.count = 0  # messages handled (heartbeat replies and acks not counted)
        self.reconnects = 0
        self.sent = 0  # notes the browser took at once
        self.flushed = 0  # notes queued while disconnected, sent on a reconnection
        self.refused = 0  # notes refused: the send queue was full
        self._acked_before = 0  # notes the server acknowledged on earlier connections
        self._last_ack = 0  # the last acknowledgement read: {"ack": n}, n-th note on its connection
        self.ws: Any = None
        self._ever_open = False
        self._lost_at: float | None = None
        self._resume = asyncio.Event()
        self._resume.set()
        self._paused_until = 0.0
        FOLLOWERS[name] = self

    # -- events -----------------------------------------------------------------

    def on_event(self, event: StateEvent) -> None:
        """Tell the page about each state change of the stream."""
        name, ui = self.name, self.ui
        if event.type == "connecting":
            ui.state(name, "reconnecting" if self._ever_open else "connecting", event.attempt)
        elif event.type == "reconnecting":
            ui.state(name, "reconnecting", event.attempt, event.delay)
            if isinstance(event.error, ConnectionFailed):
                server = urlsplit(self.url)._replace(path="", query="").geturl()
                ui.error(
                    name,
                    f"Cannot reach the demo server at {server}. Is it running? "
                    "Start it with ./build.sh demo (the page keeps retrying).",
                )
            elif event.attempt == 1:  # the connection was open: say why it ended
                self._lost_at = time.monotonic()
                ui.log(name, f"lost: {event.error}; retrying in {event.delay:.1f} s", "bad")
            else:
                ui.log(name, f"attempt {event.attempt - 1} failed: {event.error}", "warn")
        elif event.type == "open":
            ui.state(name, "open", event.attempt)
            ui.error(name, "")
            if not self._ever_open:
                ui.log(name, f"connected to {self.url}", "ok")
            else:
                self.reconnects += 1
                self.flushed += event.flushed
                ms = (time.monotonic() - (self._lost_at or time.monotonic())) * 1000
                ui.log(
                    name,
                    f"reconnected after {ms:.0f} ms (attempt {event.attempt}); "
                    f"flushed {event.flushed} queued note(s)",
                    "ok",
                )
            self._ever_open = True
        else:  # "close": for good (the page never closes it; only a policy "no" does)
            ui.state(name, "closed", event.attempt)
            ui.log(name, f"closed for good: {event.error}", "bad")

    # -- pausing the reader ---------------------------------------------------------

    def pause(self, seconds: float) -> None:
        """Stop reading for ``seconds``: unread messages pile up (and overflow)."""
        loop = asyncio.get_running_loop()
        self._paused_until = loop.time() + seconds
        self._resume.clear()
        loop.call_later(seconds, self._resume.set)
        self.ui.log(self.name, f"reading paused for {seconds:g} s", "warn")

    # -- the numbers ---------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The numbers shown on the page, as of now."""
        ws = self.ws
        latency = ws.latency if ws is not None else 0.0
        paused = max(0.0, self._paused_until - asyncio.get_running_loop().time())
        return {
            "rate": self.rolling.read(time.time()),
            "latency_ms": latency * 1000 if latency else None,
            "count": self.count,
            "reconnects": self.reconnects,
            "dropped": ws.dropped if ws is not None else 0,
            "queued": len(ws.unsent) if ws is not None else 0,
            "sent": self.sent,
            "flushed": self.flushed,
            "refused": self.refused,
            "acked": self._acked_before + self._last_ack,
            "paused": paused if not self._resume.is_set() else 0.0,
        }

    async def _report(self, extra: Callable[[], dict[str, Any]]) -> None:
        while True:
            self.ui.report(self.name, json.dumps(self.summary() | extra()))
            await asyncio.sleep(REPORT_EVERY)

    async def _notes(self, ws: Any) -> None:
        """Send a note every NOTE_EVERY s: at once when connected, queued when not."""
        n = 0
        while True:
            n += 1
            try:
                if await ws.send(json.dumps({"note": n})):
                    self.sent += 1
            except SendQueueFull:
                self.refused += 1
            await asyncio.sleep(NOTE_EVERY)

    # -- following ---------------------------------------------------------------

    def ack(self, message: str) -> bool:
        """Note the server's acknowledgement of a note; False if ``message`` is not one.

        The server numbers its acks per connection, so the count stays right when
        some acks are dropped unread (a paused reader): a number that is not above
        the last one read comes from the next connection.
        """
        if not message.startswith('{"ack"'):
            return False
        n = json.loads(message)["ack"]
        if n <= self._last_ack:
            self._acked_before += self._last_ack
        self._last_ack = n
        return True

    async def run(
        self,
        handle: Callable[[str | bytes], None],
        extra: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        """Feed every message to ``handle``, across reconnections, for as long as the page lives.

        Every REPORT_EVERY seconds, ``summary() | extra()`` goes to ``ui.report`` as JSON.
        """
        reporter = asyncio.ensure_future(self._report(extra))
        notes = None
        try:
            async with connect(
                self.url,
                reconnect=True,
                heartbeat=HEARTBEAT,
                on_event=self.on_event,
                **BACKOFF,
                **self.options,
            ) as ws:
                self.ws = ws
                notes = asyncio.ensure_future(self._notes(ws))
                resume = self._resume
                async for message in ws:
                    handle(message)
                    if not resume.is_set():
                        await resume.wait()
        except ConnectionClosed as exc:
            self.ui.error(self.name, f"{self.url}: the stream ended: {exc}")
        finally:
            reporter.cancel()
            if notes is not None:
                notes.cancel()


async def follow_ticker(url: str, ui: Any) -> None:
    """JSON ticks -> rate, min/max per symbol, and points for the chart."""
    follower = Follower("ticker", url, ui)
    quotes: dict[str, list[float]] = {}  # symbol -> [last, low, high]
    tick = ui.tick

    def handle(message: str | bytes) -> None:
        assert isinstance(message, str)
        if follower.ack(message):
            return
        data = json.loads(message)
        symbol, price, ts = data["symbol"], data["price"], data["ts"]
        follower.count += 1
        follower.rolling.add(time.time())
        quote = quotes.get(symbol)
        if quote is None:
            quotes[symbol] = [price, price, price]
        else:
            quote[0] = price
            quote[1] = min(quote[1], price)
            quote[2] = max(quote[2], price)
        tick(symbol, ts, price)

    await follower.run(handle, lambda: {"quotes": quotes})


async def follow_sensor(url: str, ui: Any) -> None:
    """Binary samples, struct "<d3f" -> three channels for the oscilloscope.

    At most 30 unread samples (half a second) are held: while the reader is
    paused, the oldest are dropped, as a live display wants.
    """
    follower = Follower("sensor", url, ui, max_queue=30, on_overflow="drop-oldest")
    sample = ui.sample
    unpack = SENSOR.unpack

    def handle(message: str | bytes) -> None:
        if isinstance(message, str):
            follower.ack(message)
            return
        ts, a, b, c = unpack(message)
        follower.count += 1
        follower.rolling.add(time.time())
        sample(ts, a, b, c)

    await follower.run(handle)


def pause(name: str, seconds: float) -> None:
    """Stop reading stream ``name`` for ``seconds`` (the page's "Pause reading" button)."""
    FOLLOWERS[name].pause(seconds)


async def main(ui: Any, ws_base: str, ticker_rate: float, sensor_rate: float) -> None:
    """Follow /ticker and /sensor on ``ws_base`` (ws://host:port) for as long as the page lives."""
    await asyncio.gather(
        follow_ticker(f"{ws_base}/ticker?rate={ticker_rate:g}", ui),
        follow_sensor(f"{ws_base}/sensor?rate={sensor_rate:g}", ui),
    )
