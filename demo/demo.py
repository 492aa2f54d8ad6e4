"""The demo page's Python, run in Pyodide: follow the demo server's streams, keep statistics.

index.html loads this file and calls :func:`main` with a small ``ui`` object
(plain JS functions). Python does the networking and the arithmetic and pushes
numbers to ``ui``; the page's JS draws them, at most once per animation frame.

Each stream is followed with websocket_streaming's reconnecting loop::

    async for ws in connect(url, process_exception=retry):
        try:
            async for message in ws:
                ...
        except ConnectionClosed:
            continue    # the loop opens a new connection at once

and ``retry`` (called when an attempt to connect fails) reports why, then lets
``connect`` wait a growing delay before the next attempt.
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

from websocket_streaming import ConnectionClosed, ConnectionFailed, connect, should_retry

SENSOR = struct.Struct("<d3f")  # server time, then three channels
REPORT_EVERY = 0.25  # seconds between two updates of the numbers on screen


class Rolling:
    """Message rate and mean latency over the last ``window`` seconds."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._samples: deque[tuple[float, float]] = deque()  # (arrival time, latency)

    def add(self, arrival: float, latency: float) -> None:
        self._samples.append((arrival, latency))

    def read(self, now: float) -> tuple[float, float | None]:
        """(messages a second, mean latency in seconds or None) over the window ending now."""
        samples = self._samples
        while samples and samples[0][0] < now - self.window:
            samples.popleft()
        if not samples:
            return 0.0, None
        return len(samples) / self.window, sum(s[1] for s in samples) / len(samples)


class Follower:
    """One stream followed forever: connects, reconnects, and tells the page how it goes."""

    def __init__(self, name: str, url: str, ui: Any) -> None:
        self.name = name
        self.url = url
        self.ui = ui
        self.rolling = Rolling()
        self.count = 0
        self.reconnects = 0
        self._ever_open = False
        self._lost_at: float | None = None

    def _retry(self, exc: BaseException) -> bool:
        """Called by connect() when an attempt failed: report it; retry if it is worth it."""
        if not should_retry(exc):
            return False
        self.ui.state(self.name, "reconnecting" if self._ever_open else "connecting")
        if isinstance(exc, ConnectionFailed):
            server = urlsplit(self.url)._replace(path="", query="").geturl()
            self.ui.error(
                self.name,
                f"Cannot reach the demo server at {server}. Is it running? "
                "Start it with ./build.sh demo (the page keeps retrying).",
            )
        else:
            self.ui.error(self.name, f"{self.url}: {exc}. Retrying…")
        return True

    def summary(self) -> dict[str, Any]:
        """The numbers shown on the page, as of now."""
        rate, latency = self.rolling.read(time.time())
        return {
            "rate": rate,
            "latency_ms": None if latency is None else latency * 1000,
            "count": self.count,
            "reconnects": self.reconnects,
        }

    async def _report(self, extra: Callable[[], dict[str, Any]]) -> None:
        while True:
            self.ui.report(self.name, json.dumps(self.summary() | extra()))
            await asyncio.sleep(REPORT_EVERY)

    async def run(
        self,
        handle: Callable[[str | bytes], None],
        extra: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        """Feed every message to ``handle``, reconnecting whenever the connection is lost.

        Every REPORT_EVERY seconds, ``summary() | extra()`` goes to ``ui.report`` as JSON.
        """
        reporter = asyncio.ensure_future(self._report(extra))
        try:
            await self._follow(handle)
        finally:
            reporter.cancel()

    async def _follow(self, handle: Callable[[str | bytes], None]) -> None:
        self.ui.state(self.name, "connecting")
        async for ws in connect(self.url, process_exception=self._retry):
            self.ui.state(self.name, "open")
            self.ui.error(self.name, "")
            if self._lost_at is None:
                self.ui.log(self.name, f"connected to {self.url}", "ok")
            else:
                self.reconnects += 1
                ms = (time.monotonic() - self._lost_at) * 1000
                self.ui.log(self.name, f"reconnected after {ms:.0f} ms", "ok")
            self._ever_open = True
            try:
                async for message in ws:
                    handle(message)
            except ConnectionClosed as exc:
                self.ui.log(self.name, f"lost: {exc}", "bad")
            else:  # a clean close, e.g. the server going away (1001)
                self.ui.log(self.name, f"closed by the server ({ws.close_code})", "warn")
            self._lost_at = time.monotonic()
            self.ui.state(self.name, "reconnecting")


async def follow_ticker(url: str, ui: Any) -> None:
    """JSON ticks -> rate, latency, min/max per symbol, and points for the chart."""
    follower = Follower("ticker", url, ui)
    quotes: dict[str, list[float]] = {}  # symbol -> [last, low, high]
    tick = ui.tick

    def handle(message: str | bytes) -> None:
        now = time.time()
        data = json.loads(message)
        symbol, price, ts = data["symbol"], data["price"], data["ts"]
        follower.count += 1
        follower.rolling.add(now, now - ts)
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
    """Binary samples, struct "<d3f" -> three channels for the oscilloscope."""
    follower = Follower("sensor", url, ui)
    sample = ui.sample
    unpack = SENSOR.unpack

    def handle(message: str | bytes) -> None:
        now = time.time()
        ts, a, b, c = unpack(message)
        follower.count += 1
        follower.rolling.add(now, now - ts)
        sample(ts, a, b, c)

    await follower.run(handle)


async def main(ui: Any, ws_base: str, ticker_rate: float, sensor_rate: float) -> None:
    """Follow /ticker and /sensor on ``ws_base`` (ws://host:port) for as long as the page lives."""
    await asyncio.gather(
        follow_ticker(f"{ws_base}/ticker?rate={ticker_rate:g}", ui),
        follow_sensor(f"{ws_base}/sensor?rate={sensor_rate:g}", ui),
    )
