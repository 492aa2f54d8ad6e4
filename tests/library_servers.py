"""Loopback servers that speak the protocols of the third-party libraries the compat tests run.

Written with the real `websockets` library, as tests/servers.py (whose thread and routing
this reuses): one route per library, each a small but faithful peer of the protocol.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlsplit

from servers import WebSocketServer
from websockets.asyncio.server import ServerConnection

#: The subprotocol each route chooses among those offered, in order of preference.
SUBPROTOCOLS = {"/graphql": ("graphql-transport-ws", "graphql-ws")}


class LibraryServer(WebSocketServer):
    """Routes:
    /graphql   GraphQL over WebSocket (graphql-transport-ws): connection_init with
               {"token": "t"} is acked (another token: closed 4403); queries hello,
               add(a, b) and fail (a GraphQL error); subscription countdown(from: n)
               sends n..1, pinging the client after the first and waiting for its pong.
    /centrifuge  Centrifuge's client protocol, JSON (newline-separated commands): connect
               with token "t" (another: error 109, unauthorized), then a server ping ({})
               the client must answer; subscribe; publish (answered, then pushed back as a
               publication); rpc "add" (answered once the ping's pong came), any other
               method: error 108.
    """

    @staticmethod
    def _select_subprotocol(connection: ServerConnection, offered: Any) -> Any:
        wanted = SUBPROTOCOLS.get(urlsplit(connection.request.path).path, ())
        return next((name for name in wanted if name in offered), None)

    async def _route_graphql(self, ws: ServerConnection, query: dict[str, str]) -> None:
        init = json.loads(await ws.recv())
        if init.get("type") != "connection_init" or init.get("payload") != {"token": "t"}:
            await ws.close(4403, "Forbidden")
            return
        await ws.send(json.dumps({"type": "connection_ack"}))
        pongs: asyncio.Queue[Any] = asyncio.Queue()
        tasks = set()
        async for message in ws:
            request = json.loads(message)
            kind = request["type"]
            if kind == "pong":
                pongs.put_nowait(request.get("payload"))
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind == "subscribe":
                task = asyncio.create_task(_graphql_operation(ws, request, pongs))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _route_centrifuge(self, ws: ServerConnection, query: dict[str, str]) -> None:
        ponged = asyncio.Event()
        async for message in ws:
            for line in str(message).strip().split("\n"):
                command = json.loads(line)
                if not command:  # {}: the pong of our ping
                    ponged.set()
                    continue
                for reply in await _centrifuge_replies(command, ponged):
                    await ws.send(json.dumps(reply))


async def _centrifuge_replies(command: dict[str, Any], ponged: asyncio.Event) -> list[Any]:
    """The replies (and pushes) to one Centrifuge command."""
    id = command["id"]
    if "connect" in command:
        if command["connect"].get("token") != "t":
            return [{"id": id, "error": {"code": 109, "message": "token expired"}}]
        connected = {"client": "client-1", "version": "compat-1", "ping": 25, "pong": True}
        return [{"id": id, "connect": connected}, {}]  # {}: a ping
    if "subscribe" in command:
        return [{"id": id, "subscribe": {}}]
    if "publish" in command:
        publish = command["publish"]
        pub = {"channel": publish["channel"], "pub": {"data": publish["data"]}}
        return [{"id": id, "publish": {}}, {"push": pub}]
    rpc = command["rpc"]
    if rpc["method"] != "add":
        return [{"id": id, "error": {"code": 108, "message": "not available"}}]
    await asyncio.wait_for(ponged.wait(), 5)
    return [{"id": id, "rpc": {"data": {"sum": rpc["data"]["a"] + rpc["data"]["b"]}}}]


async def _graphql_operation(
    ws: ServerConnection, request: dict[str, Any], pongs: asyncio.Queue[Any]
) -> None:
    """Answer one operation: its first field names what to do (no GraphQL executor needed)."""
    id, payload = request["id"], request["payload"]
    text, variables = payload["query"], payload.get("variables") or {}
    field = re.search(r"\{\s*(\w+)", text)
    name = field.group(1) if field else ""

    async def next_(data: Any) -> None:
        await ws.send(json.dumps({"id": id, "type": "next", "payload": data}))

    if name == "hello":
        await next_({"data": {"hello": "world"}})
    elif name == "add":
        await next_({"data": {"add": variables["a"] + variables["b"]}})
    elif name == "countdown":
        start = int(re.search(r"from:\s*(\d+)", text).group(1))  # type: ignore[union-attr]
        for n in range(start, 0, -1):
            await next_({"data": {"countdown": n}})
            if n == start:  # the client must answer a ping while it reads the subscription
                await ws.send(json.dumps({"type": "ping", "payload": {"n": n}}))
                await asyncio.wait_for(pongs.get(), 5)
    else:
        errors = [{"message": f"no field {name!r}", "path": [name]}]
        await next_({"data": None, "errors": errors})
    await ws.send(json.dumps({"id": id, "type": "complete"}))
