"""JSON RPC-style request/response, each call bounded with asyncio.timeout."""

import asyncio
import itertools
import json

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK

ids = itertools.count(1)


async def call(websocket, method, *params, timeout=0.5):
    request = {"id": next(ids), "method": method, "params": list(params)}
    await websocket.send(json.dumps(request))
    async with asyncio.timeout(timeout):
        response = json.loads(await websocket.recv())
    assert response["id"] == request["id"]
    return response["result"]


async def main(uri: str) -> list[str]:
    global ids
    ids = itertools.count(1)
    transcript = []
    async with connect(uri + "/rpc") as websocket:
        transcript.append(f"add(2, 3) = {await call(websocket, 'add', 2, 3)}")
        transcript.append(f"echo = {await call(websocket, 'echo', 'héllo', [1, 2])}")
        try:
            await call(websocket, "slow")
        except TimeoutError:
            transcript.append("slow timed out")
        transcript.append(f"add(40, 2) = {await call(websocket, 'add', 40, 2)}")
        try:
            await call(websocket, "quit")
        except ConnectionClosedOK as exc:
            transcript.append(f"quit: closed {exc.rcvd.code} {exc.rcvd.reason}")
    return transcript
