"""Consumer and producer on one connection, with asyncio.wait(FIRST_COMPLETED)."""

import asyncio
import itertools

from websockets.asyncio.client import connect

transcript = []
numbers = itertools.count()


async def produce():
    await asyncio.sleep(0.1)
    return f"message {next(numbers)}"


async def consumer_handler(websocket):
    async for message in websocket:
        transcript.append(f"< {message}")


async def producer_handler(websocket):
    while True:
        message = await produce()
        await websocket.send(message)


async def handler(websocket):
    consumer_task = asyncio.create_task(consumer_handler(websocket))
    producer_task = asyncio.create_task(producer_handler(websocket))
    done, pending = await asyncio.wait(
        [consumer_task, producer_task],
        return_when=asyncio.FIRST_COMPLETED,
    )
    for task in pending:
        task.cancel()
    transcript.append(f"first done: {'consumer' if consumer_task in done else 'producer'}")


async def main(uri: str) -> list[str]:
    global numbers
    transcript.clear()
    numbers = itertools.count()
    async with connect(uri + "/upper?n=3") as websocket:
        await handler(websocket)
    transcript.append(f"closed: {websocket.close_code} {websocket.close_reason}")
    return transcript
