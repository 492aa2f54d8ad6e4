"""Producer pattern: send until send() raises ConnectionClosed."""

import asyncio

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

transcript = []
counter = 0


async def produce():
    global counter
    await asyncio.sleep(0.1)
    counter += 1
    return f"item {counter}"


async def producer_handler(websocket):
    while True:
        try:
            message = await produce()
            await websocket.send(message)
            transcript.append(f"sent {message}")
        except ConnectionClosed as exc:
            transcript.append(f"stopped: OK={isinstance(exc, ConnectionClosedOK)}")
            transcript.append(f"rcvd: {exc.rcvd.code} {exc.rcvd.reason}")
            break


async def main(uri: str) -> list[str]:
    global counter
    transcript.clear()
    counter = 0
    async with connect(uri + "/collect?n=3") as websocket:
        await producer_handler(websocket)
    return transcript
