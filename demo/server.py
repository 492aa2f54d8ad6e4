#!/usr/bin/env python3
"""The demo's servers, in one asyncio process: static files over HTTP and live WebSocket streams.

    .venv/bin/python demo/server.py [--dist DIR] [--host H] [--port N] [--ws-port N]

(or ``./build.sh demo [...]``, which builds dist/ first). Then open the URL it
prints, http://127.0.0.1:8000/demo/ by default. Ctrl-C or SIGTERM stops it.

HTTP (``--port``, default 8000) serves DIR (default: dist/) plus:

    GET  /demo/config.json    {"ws_port": N}: how the page finds the WebSocket server
    POST /api/kill[?how=abort|restart&stream=ticker,sensor,chat]
                              drop the server side of every ticker, sensor and
                              chat connection (or of the streams named):
                              ``abort`` cuts TCP with no close frame (the
                              browser reports 1006), ``restart`` closes with
                              1012 (service restart)

WebSocket (``--ws-port``, default 8765), on the same host:

    /ticker[?rate=20]   JSON text frames, ``rate`` a second, a random walk over a
                        few symbols: {"symbol": "ABC", "price": 101.23,
                        "ts": <server time.time()>, "seq": <n-th message on this connection>}
    /sensor[?rate=60]   binary frames, struct "<d3f": server time.time(), then three
                        channels of sine + noise (0.5 Hz, 1.3 Hz, 2.1 Hz)
    /chat               every text frame received is sent to every chat client
                        (the sender too); binary frames are refused (1003)

A handshake from a page of another origin is refused with 403: a browser sends
the page's ``Origin``, and only the demo's own (``http://127.0.0.1:<port>``,
``http://localhost:<port>``, ``http://[::1]:<port>``, or ``http://<--host>:<port>``)
may open a stream. A handshake without ``Origin`` (not from a browser: a CLI
client, the tests) is let through, as the check guards against other sites'
pages, not against programs on this machine. Both servers bind to 127.0.0.1
unless ``--host`` says otherwise.

On every route, a text frame "ping" is answered "pong" (to the sender only): the
clients' heartbeat. On /ticker and /sensor, any other text frame is acknowledged
with {"ack": <n-th such frame on this connection>}; binary frames are ignored.

A port 0 picks a free port; the ports really used are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import functools
import http.server
import json
import math
import random
import signal
import struct
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

ROOT = Path(__file__).resolve().parent.parent

SYMBOLS = {"ABC": 101.0, "DEF": 99.0, "XYZ": 100.0}  # symbol -> where its walk is pulled to
SENSOR = struct.Struct("<d3f")
SENSOR_HZ = (0.5, 1.3, 2.1)
RATE_LIMITS = (0.1, 5000.0)
DEFAULT_RATES = {"ticker": 20.0, "sensor": 60.0}
STREAMS = ("ticker", "sensor", "chat")
PING, PONG = "ping", "pong"


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


class Market:
    """Prices shared by every ticker client: a mean-reverting random walk per symbol."""

    def __init__(self) -> None:
        self.prices = dict(SYMBOLS)
        self._order = list(SYMBOLS)
        self._next = 0

    def step(self) -> tuple[str, float]:
        """Move the next symbol (round robin) one step and return it with its new price."""
        symbol = self._order[self._next]
        self._next = (self._next + 1) % len(self._order)
        price = self.prices[symbol]
        price += 0.02 * (SYMBOLS[symbol] - price) + random.gauss(0.0, 0.12)
        self.prices[symbol] = price = max(1.0, price)
        return symbol, round(price, 2)


class Streams:
    """The WebSocket routes and the connections they hold."""

    def __init__(self, origins: frozenset[str] = frozenset()) -> None:
        self.origins = origins  # the Origin values a handshake may carry (see process_request)
        self.market = Market()
        self.live: dict[str, set[ServerConnection]] = {kind: set() for kind in STREAMS}
        self.chat = self.live["chat"]
        self._closing: set[asyncio.Task[None]] = set()

    # -- routing -----------------------------------------------------------------

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse other sites' pages (403), unknown paths (404) and bad ``rate`` values (400)
        before the handshake."""
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.origins:
            return _text_response(403, f"Origin {origin} may not open the demo's streams\n")
        url = urlsplit(request.path)
        route = url.path.strip("/")
        if route not in ("ticker", "sensor", "chat"):
            return _text_response(404, f"no stream at {url.path}; try /ticker, /sensor or /chat\n")
        if route in DEFAULT_RATES:
            try:
                _rate(url.query, DEFAULT_RATES[route])
            except ValueError as exc:
                return _text_response(400, f"{exc}\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        url = urlsplit(ws.request.path if ws.request else "/")
        route = url.path.strip("/")
        host, port = ws.remote_address[:2]
        peer = f"{host}:{port}"
        routes: dict[str, Callable[[ServerConnection, str], Awaitable[None]]] = {
            "ticker": self.ticker,
            "sensor": self.sensor,
            "chat": self.chat_room,
        }
        log(f"/{route} + {peer}")
        try:
            await routes[route](ws, url.query)
        except ConnectionClosed:
            pass
        finally:
            log(f"/{route} - {peer} ({_describe_close(ws)})")

    # -- streams -----------------------------------------------------------------

    async def _paced(
        self, ws: ServerConnection, kind: str, query: str, make: Callable[[int], Any]
    ) -> None:
        """Send ``make(n)`` for n = 0, 1, ... at the requested rate, on a fixed schedule."""
        interval = 1.0 / _rate(query, DEFAULT_RATES[kind])
        loop = asyncio.get_running_loop()
        start = loop.time()
        self.live[kind].add(ws)
        answers = asyncio.create_task(self._answer(ws))
        try:
            n = 0
            while True:
                # Catch up in bursts when the rate is above what the timer can do.
                while loop.time() >= start + n * interval:
                    await ws.send(make(n))
                    n += 1
                await asyncio.sleep(start + n * interval - loop.time())
        finally:
            answers.cancel()
            self.live[kind].discard(ws)

    async def _answer(self, ws: ServerConnection) -> None:
        """Answer the client's heartbeat pings with "pong" and acknowledge its text frames."""
        notes = 0
        try:
            async for message in ws:
                if message == PING:
                    await ws.send(PONG)
                elif isinstance(message, str):
                    notes += 1
                    await ws.send(json.dumps({"ack": notes}))
        except ConnectionClosed:
            pass

    async def ticker(self, ws: ServerConnection, query: str) -> None:
        def tick(n: int) -> str:
            symbol, price = self.market.step()
            return json.dumps({"symbol": symbol, "price": price, "ts": time.time(), "seq": n})

        await self._paced(ws, "ticker", query, tick)

    async def sensor(self, ws: ServerConnection, query: str) -> None:
        phases = [random.uniform(0, 2 * math.pi) for _ in SENSOR_HZ]

        def sample(n: int) -> bytes:
            now = time.time()
            channels = (
                math.sin(2 * math.pi * hz * now + phase) + random.gauss(0.0, 0.06)
                for hz, phase in zip(SENSOR_HZ, phases, strict=True)
            )
            return SENSOR.pack(now, *channels)

        await self._paced(ws, "sensor", query, sample)

    async def chat_room(self, ws: ServerConnection, query: str) -> None:
        self.chat.add(ws)
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    await ws.close(1003, "the chat takes text frames only")
                    return
                if message == PING:
                    await ws.send(PONG)
                else:
                    broadcast(self.chat, message)
        finally:
            self.chat.discard(ws)

    # -- the kill switch -----------------------------------------------------------

    def kill(self, how: str, kinds: list[str]) -> int:
        """Drop the server side of the streaming connections; return how many were dropped."""
        victims = [ws for kind in kinds for ws in self.live[kind] if ws.state is State.OPEN]
        for ws in victims:
            for live in self.live.values():
                live.discard(ws)  # its handler may take a moment to notice
            if how == "abort":
                ws.transport.abort()  # no close frame: the client sees 1006
            else:
                task = asyncio.create_task(ws.close(1012, "service restart (demo kill switch)"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        log(f"kill ({how}): {len(victims)} connection(s) on {', '.join(kinds)}")
        return len(victims)


def _rate(query: str, default: float) -> float:
    """The ``rate`` query parameter, per second. Raises ValueError if it is not usable."""
    values = parse_qs(query).get("rate")
    if not values:
        return default
    low, high = RATE_LIMITS
    try:
        rate = float(values[-1])
    except ValueError:
        raise ValueError(f"rate must be a number, not {values[-1]!r}") from None
    if not low <= rate <= high:  # also refuses nan
        raise ValueError(f"rate must be between {low:g} and {high:g} messages a second")
    return rate


def _text_response(status: int, text: str) -> Response:
    reason = http.HTTPStatus(status).phrase
    headers = Headers([("Content-Type", "text/plain; charset=utf-8")])
    return Response(status, reason, headers, text.encode())


def _describe_close(ws: ServerConnection) -> str:
    received, sent = ws.protocol.close_rcvd, ws.protocol.close_sent
    if received is not None and (sent is None or ws.protocol.close_rcvd_then_sent):
        return f"client closed {received.code}"
    if sent is not None:
        return f"server closed {sent.code}"
    return "dropped"


# -- HTTP ------------------------------------------------------------------------


def make_http_server(
    host: str,
    port: int,
    dist: Path,
    ws_port: Callable[[], int],
    kill: Callable[[str, list[str]], int],
) -> http.server.ThreadingHTTPServer:
    """A threaded static file server for ``dist`` with the two small API routes."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map: ClassVar[dict[str, str]] = {
            **http.server.SimpleHTTPRequestHandler.extensions_map,
            ".mjs": "text/javascript",
            ".wasm": "application/wasm",
        }

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/demo/config.json":
                self._reply(200, {"ws_port": ws_port()})
            else:
                super().do_GET()

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/api/kill":
                self._reply(404, {"error": f"no POST route {url.path}"})
                return
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            how = query.get("how", "abort")
            kinds = query.get("stream", ",".join(STREAMS)).split(",")
            if how not in ("abort", "restart") or not set(kinds) <= set(STREAMS):
                self._reply(400, {"error": "use how=abort|restart and stream=ticker,sensor,chat"})
                return
            self._reply(200, {"killed": kill(how, kinds), "how": how})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def end_headers(self) -> None:
            # Revalidate every time (a 304 when unchanged): an edited demo shows up on reload.
            self.send_header("Cache-Control", "no-cache")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return http.server.ThreadingHTTPServer(
        (host, port), functools.partial(Handler, directory=str(dist))
    )


# -- main ------------------------------------------------------------------------


class StartupError(Exception):
    """A one-line reason the servers could not start."""


def _bind_error(exc: OSError, what: str, host: str, port: int, option: str) -> StartupError:
    if exc.errno == errno.EADDRINUSE:
        return StartupError(
            f"{what} port {port} on {host} is already in use "
            f"(another demo server running?); pick another with {option} N"
        )
    return StartupError(f"cannot listen for {what} on {host}:{port}: {exc.strerror or exc}")


async def run(args: argparse.Namespace) -> None:
    dist = Path(args.dist).resolve()
    if not (dist / "pyodide" / "pyodide.mjs").exists() or not (dist / "demo").is_dir():
        raise StartupError(f"{dist} holds no built demo: run ./build.sh first")

    loop = asyncio.get_running_loop()
    streams = Streams()
    ws_server: Server | None = None
    http_thread: threading.Thread | None = None

    def kill(how: str, kinds: list[str]) -> int:  # called on an HTTP thread
        return asyncio.run_coroutine_threadsafe(_in_loop(streams.kill, how, kinds), loop).result(5)

    try:
        httpd = make_http_server(args.host, args.port, dist, lambda: ws_port, kill)
    except OSError as exc:
        raise _bind_error(exc, "HTTP", args.host, args.port, "--port") from None
    streams.origins = allowed_origins(args.host, httpd.server_address[1])
    try:
        try:
            ws_server = await serve(
                streams.handler,
                args.host,
                args.ws_port,
                process_request=streams.process_request,
                max_size=64 * 1024,
            )
        except OSError as exc:
            raise _bind_error(exc, "WebSocket", args.host, args.ws_port, "--ws-port") from None
        ws_port = ws_server.sockets[0].getsockname()[1]
        http_port = httpd.server_address[1]
        http_thread = threading.Thread(target=httpd.serve_forever, name="http", daemon=True)
        http_thread.start()

        shown = "127.0.0.1" if args.host in ("", "0.0.0.0") else args.host
        shown = f"[{shown}]" if ":" in shown else shown
        print(f"HTTP      serving {dist} on http://{shown}:{http_port}/", flush=True)
        print(f"WebSocket ws://{shown}:{ws_port}/ticker, /sensor, /chat", flush=True)
        if (dist / "lite" / "lab" / "index.html").exists():
            print(
                f"Notebook  http://{shown}:{http_port}/lite/lab/index.html?path=notebook.ipynb",
                flush=True,
            )
        print(f"\n  Open http://{shown}:{http_port}/demo/   (Ctrl-C stops)\n", flush=True)

        stop = loop.create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda s=sig: stop.done() or stop.set_result(s))
        sig = await stop
        print(f"\n{signal.Signals(sig).name}: stopping", flush=True)
    finally:
        if ws_server is not None:
            ws_server.close()  # closes every connection with 1001 (going away)
            await ws_server.wait_closed()
        if http_thread is not None:
            await asyncio.to_thread(httpd.shutdown)
        httpd.server_close()
    print("stopped", flush=True)


def allowed_origins(host: str, http_port: int) -> frozenset[str]:
    """The Origin of the demo's own pages: loopback names, and ``host`` if it is a name."""
    hosts = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("", "0.0.0.0", "::"):
        hosts.add(f"[{host}]" if ":" in host else host)
    return frozenset(f"http://{name}:{http_port}" for name in hosts)


async def _in_loop(func: Callable[..., int], *args: Any) -> int:
    return func(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Serve the websocket-streaming demo: dist/ over HTTP, streams over WebSocket."
    )
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="the built dist/ folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000; 0: any)")
    parser.add_argument(
        "--ws-port", type=int, default=8765, help="WebSocket port (default 8765; 0: any)"
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args))
    except StartupError as exc:
        print(f"demo/server.py: error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
