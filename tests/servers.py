"""Real servers on 127.0.0.1 for the browser tests: static files and a `websockets` server.

Both run in background threads so that the (synchronous) browser drivers and
pytest stay on the main thread.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


class StaticServer:
    """Serves `root` (the built dist/) and `extra` folders under their own prefixes.

    Pages are served cross-origin isolated (COOP/COEP) so that timers have full
    precision in Firefox and WebKit, which the benchmarks need. ``headers`` are added to
    every response (a Content-Security-Policy, say).
    """

    def __init__(
        self,
        root: Path,
        extra: dict[str, Path] | None = None,
        isolate: bool = True,
        headers: dict[str, str] | None = None,
    ):
        extra = extra or {}
        headers = headers or {}

        class Handler(http.server.SimpleHTTPRequestHandler):
            def translate_path(self, path: str) -> str:
                for prefix, folder in extra.items():
                    if path.startswith(prefix):
                        rest = urlsplit(path).path[len(prefix) :]
                        return str(folder / rest)
                return super().translate_path(path)

            def end_headers(self) -> None:
                self.send_header("Cache-Control", "no-store")
                if isolate:
                    self.send_header("Cross-Origin-Opener-Policy", "same-origin")
                    self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
                for name, value in headers.items():
                    self.send_header(name, value)
                super().end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        Handler.extensions_map = {**Handler.extensions_map, ".mjs": "text/javascript"}
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class WebSocketServer:
    """A `websockets` server with one route per behaviour the tests need.

    Routes (query parameters in brackets):
      /echo                    echoes every message, text as text, binary as binary
      /send?n=&size=[&binary]  sends n numbered messages, then waits for the client
      /close?code=&reason=[&n] sends n messages, then closes with code and reason
      /drop[?n=]               sends n messages, then drops TCP without a close frame (1006)
      /reject                  refuses the handshake with HTTP 403
      /ticker                  "0", "1", ... every 10 ms until the client leaves (the docs' examples)
      /chat                    like /echo, negotiating the subprotocols "chat" or "superchat"
      /flaky?id=[&n=]          the first connection with this id sends n messages, then drops TCP
                               (1006); later ones echo, and record what they get: received(id)
      /pong                    like /echo, but answers "ping" with "pong", then "after-pong"
      /upper?n=                answers each message in upper case; after n, closes 1000 "done"
      /collect?n=              takes n messages, then closes 1000 with them joined by ","
      /rpc                     JSON calls {"id", "method", "params"}: "add" and "echo" answer
                               {"id", "result"}, "slow" never answers, "quit" closes 1000
      /headers                 sends the handshake's headers as JSON [[name, value], ...] (and
                               records them: headers_seen(id)), then echoes
    Every connection may carry `id=...`; `close_received(id)` then returns the
    close code and reason the server received from that client.
    """

    def __init__(self) -> None:
        self._closes: dict[str, tuple[int | None, str | None]] = {}
        self._closes_changed = threading.Condition()
        self._flaky: dict[str, list[str | bytes]] = {}  # id -> what its later connections got
        self._headers: dict[str, list[tuple[str, str]]] = {}  # id -> its handshake's headers
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._stop: asyncio.Future[None] | None = None

        async def main() -> None:
            self._stop = self._loop.create_future()
            async with serve(
                self._handler,
                "127.0.0.1",
                0,
                max_size=None,
                compression=None,
                process_request=self._process_request,
                select_subprotocol=self._select_subprotocol,
            ) as server:
                self.port = server.sockets[0].getsockname()[1]
                started.set()
                await self._stop

        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(main(),))
        self._thread.daemon = True
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the WebSocket test server did not start")
        self.url = f"ws://127.0.0.1:{self.port}"

    def close(self) -> None:
        stop = self._stop
        assert stop is not None
        self._loop.call_soon_threadsafe(stop.set_result, None)
        self._thread.join(10)
        self._loop.close()

    @staticmethod
    def _process_request(connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path == "/reject":
            return Response(403, "Forbidden", Headers(), b"no entry\n")
        return None

    @staticmethod
    def _select_subprotocol(connection: ServerConnection, offered: Any) -> Any:
        if urlsplit(connection.request.path).path != "/chat":
            return None
        for name in ("superchat", "chat"):
            if name in offered:
                return name
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        url = urlsplit(ws.request.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        route: Callable[[ServerConnection, dict[str, str]], Any] | None = getattr(
            self, "_route_" + url.path.strip("/"), None
        )
        try:
            if route is None:
                await ws.close(4404, f"no route {url.path}")
            else:
                await route(ws, query)
            await ws.wait_closed()
        except ConnectionClosed:
            pass
        finally:
            if "id" in query:
                rcvd = ws.protocol.close_rcvd
                with self._closes_changed:
                    self._closes[query["id"]] = (rcvd.code, rcvd.reason) if rcvd else (None, None)
                    self._closes_changed.notify_all()

    def close_received(self, id: str, timeout: float = 10) -> tuple[int | None, str | None]:
        """The close code and reason connection `id` sent, once the server has finished with it.

        The client may see its close complete a moment before the server's handler
        returns (the server still waits for the TCP close), so this waits for it.
        """
        with self._closes_changed:
            if not self._closes_changed.wait_for(lambda: id in self._closes, timeout):
                raise AssertionError(
                    f"the server never finished connection {id!r} within {timeout} s"
                )
            return self._closes[id]

    async def _route_echo(self, ws: ServerConnection, query: dict[str, str]) -> None:
        async for message in ws:
            await ws.send(message)

    _route_chat = _route_echo

    async def _numbered(self, ws: ServerConnection, query: dict[str, str]) -> None:
        n, size = int(query.get("n", 0)), int(query.get("size", 0))
        binary = "binary" in query
        for i in range(n):
            text = str(i).ljust(size, ".")
            await ws.send(text.encode() if binary else text)

    async def _route_send(self, ws: ServerConnection, query: dict[str, str]) -> None:
        await self._numbered(ws, query)

    async def _route_ticker(self, ws: ServerConnection, query: dict[str, str]) -> None:
        n = 0
        while True:  # a live stream, as the demo's: until the client leaves
            await ws.send(str(n))
            n += 1
            await asyncio.sleep(0.01)

    async def _route_close(self, ws: ServerConnection, query: dict[str, str]) -> None:
        await self._numbered(ws, query)
        await ws.close(int(query.get("code", 1000)), query.get("reason", ""))

    async def _route_drop(self, ws: ServerConnection, query: dict[str, str]) -> None:
        await self._numbered(ws, query)
        await asyncio.sleep(0.05)  # let the messages leave before the cable is cut
        ws.transport.abort()

    async def _route_flaky(self, ws: ServerConnection, query: dict[str, str]) -> None:
        received = self._flaky.get(query["id"])
        if received is None:
            self._flaky[query["id"]] = []
            await self._route_drop(ws, query)
            return
        async for message in ws:
            received.append(message)
            await ws.send(message)

    def received(self, id: str) -> list[str | bytes]:
        """What the connections of /flaky?id=... after the first one received, in order."""
        return list(self._flaky.get(id, ()))

    async def _route_pong(self, ws: ServerConnection, query: dict[str, str]) -> None:
        async for message in ws:
            if message == "ping":
                await ws.send("pong")
                await ws.send("after-pong")
            else:
                await ws.send(message)

    async def _route_upper(self, ws: ServerConnection, query: dict[str, str]) -> None:
        n = int(query.get("n", 3))
        for _ in range(n):
            message = await ws.recv()
            await ws.send(message.upper())
        await ws.close(1000, "done")

    async def _route_collect(self, ws: ServerConnection, query: dict[str, str]) -> None:
        got = [str(await ws.recv()) for _ in range(int(query.get("n", 3)))]
        await ws.close(1000, ",".join(got)[:100])

    async def _route_rpc(self, ws: ServerConnection, query: dict[str, str]) -> None:
        async for message in ws:
            call = json.loads(message)
            method, params = call["method"], call.get("params", [])
            if method == "add":
                await ws.send(json.dumps({"id": call["id"], "result": sum(params)}))
            elif method == "echo":
                await ws.send(json.dumps({"id": call["id"], "result": params}))
            elif method == "quit":
                await ws.close(1000, "bye")

    async def _route_headers(self, ws: ServerConnection, query: dict[str, str]) -> None:
        headers = list(ws.request.headers.raw_items())
        if "id" in query:
            self._headers[query["id"]] = headers
        await ws.send(json.dumps(headers))
        await self._route_echo(ws, query)

    def headers_seen(self, id: str) -> list[tuple[str, str]]:
        """The handshake headers of the /headers?id=... connection (empty if none came)."""
        return list(self._headers.get(id, ()))
